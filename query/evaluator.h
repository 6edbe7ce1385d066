// Evaluator: Plan + IndexView -> count or bitmap of user ordinals.
//
// Operator at a time over CRoaring, following its own advice: intersections
// start from the smallest operand (the plan is ordered by cardinality), work
// in place in one scratch bitmap per nesting level, and when only a count is
// wanted the last step is a *_cardinality call that builds nothing. A tag is
// never copied to be read: leaves are borrowed from the view.
//
// One Evaluator per thread: it owns the scratch bitmaps and is not
// thread-safe. Evaluation never writes to the view.
#pragma once

#include <roaring/roaring.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "index/bitmap.h"
#include "index/index_view.h"
#include "query/plan.h"

namespace crowd::query {

class Evaluator {
 public:
  Evaluator() = default;
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;
  Evaluator(Evaluator&&) = default;
  Evaluator& operator=(Evaluator&&) = default;

  // Size of the plan's set. `view` must be the view the plan was compiled
  // against. Cost: O(1) for a single tag, ALL or empty; one *_cardinality
  // call for two operands; otherwise every step but the last materialises
  // into scratch (O(size of the operands) each) and the last is counted.
  // Allocates only the result containers of materialised steps.
  [[nodiscard]] uint64_t count(const Plan& plan, const IndexView& view);

  // The plan's set as ordinals of `view` (IndexView::external maps them to
  // user IDs). Same cost as count() plus the last step, and one copy when the
  // whole plan is a single tag or ALL (the result is owned by the caller).
  [[nodiscard]] Bitmap materialize(const Plan& plan, const IndexView& view);

 private:
  // A node's set: borrowed from the view (a leaf), or scratch_[slot].
  struct Operand {
    const roaring_bitmap_t* bits;
    bool owned;
  };
  enum class Op { kAnd, kOr, kAndNot };

  void prepare(const Plan& plan, const IndexView& view);
  void release();

  [[nodiscard]] uint64_t count_node(const PlanNode& node);
  // Leaves are borrowed; anything else is built into scratch_[slot], using
  // slots above `slot` for its own operands.
  [[nodiscard]] Operand operand(const PlanNode& node, std::size_t slot);
  // The node's set into scratch_[slot].
  void build(const PlanNode& node, std::size_t slot);
  // op over nodes[from, to) (to > from), accumulated in scratch_[slot] when
  // an operation had to happen. An AND stops early once empty.
  [[nodiscard]] Operand fold(Op op, const std::vector<PlanNode>& nodes, std::size_t from, std::size_t to,
                             std::size_t slot);
  // The positives of an and-not minus every negative in [first, last).
  [[nodiscard]] Operand and_not(const PlanNode& node, std::size_t last_negative, std::size_t slot);
  // acc op b, in place into whichever of them is scratch (b's slot is slot+1).
  [[nodiscard]] Operand combine(Operand acc, Operand b, Op op, std::size_t slot);
  void own(Operand acc, std::size_t slot);

  std::vector<Bitmap> scratch_;
  Bitmap empty_;
  const IndexView* view_ = nullptr;
  const roaring_bitmap_t* universe_ = nullptr;
};

}  // namespace crowd::query
