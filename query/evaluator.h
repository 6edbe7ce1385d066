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
#include <optional>
#include <vector>

#include "index/bitmap.h"
#include "index/index_view.h"
#include "query/estimate.h"
#include "query/fused_evaluator.h"
#include "query/plan.h"

namespace crowd::query {

// Which algorithm count() uses. kAuto: fused_count for the plans
// prefers_fused() picks (3+ operands or nesting), CRoaring's *_cardinality
// calls for the rest. The forced paths exist so tests and benchmarks can
// compare the two on any plan.
//
// The default is kAuto. On the demo population at 10M users (tags above
// 6.25% are bitsets, few-percent ones are expanded by DenseChunks) a 3-term
// AND of bitset tags went from 2.2 ms to 0.2 ms: the operator path ordered by
// cardinality intersects the sparsest pair first and pays for extracting an
// array result from two bitsets (bitset_extract_intersection_setbits_uint16,
// 53% of the profile). On run-heavy data CRoaring's run kernels still win
// (bench/evaluator_bench.cc); the demo and Taobao data have no runs.
enum class CountPath : uint8_t { kAuto, kOperator, kFused };

class Evaluator {
 public:
  explicit Evaluator(CountPath path = CountPath::kAuto) : path_(path) {}
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;
  Evaluator(Evaluator&&) = default;
  Evaluator& operator=(Evaluator&&) = default;

  // Size of the plan's set. `view` must be the view the plan was compiled
  // against. Cost: O(1) for a single tag, ALL or empty; one *_cardinality
  // call for two operands; otherwise (kAuto, kFused) one fused pass over the
  // plan's chunks (see fused_evaluator.h), allocating nothing once warm, or
  // (kOperator) every step but the last materialised into scratch
  // (O(size of the operands) each) and the last counted.
  [[nodiscard]] uint64_t count(const Plan& plan, const IndexView& view);

  // The plan's size estimated from a fixed sample of kEstimateChunks chunks
  // (query/estimate.h), with a 95% interval. Exact when the count costs no
  // pass (one tag, ALL, a cached or disjoint union, NOT of a tag) or the
  // view has no more chunks than the sample. Cost: a fused pass over the
  // sampled chunks, whatever the number of users.
  // `phase` places the sample (sample_chunks); only benchmarks change it.
  [[nodiscard]] Estimate estimate(const Plan& plan, const IndexView& view, double phase = kEstimatePhase);

  // The plan's set as ordinals of `view` (IndexView::external maps them to
  // user IDs). Same cost as count() plus the last step, and one copy when the
  // whole plan is a single tag or ALL (the result is owned by the caller).
  [[nodiscard]] Bitmap materialize(const Plan& plan, const IndexView& view);

  // A page of the plan's set: its first `limit` members >= `from`, ascending,
  // into `out` (cleared first). Costs the chunks up to the page's last member
  // (see fused_collect), not the whole set.
  void collect(const Plan& plan, const IndexView& view, Ordinal from, std::size_t limit, std::vector<Ordinal>& out) {
    fused_collect(plan, view, fused_, from, limit, out);
  }

  [[nodiscard]] CountPath count_path() const { return path_; }
  void set_count_path(CountPath path) { path_ = path; }

 private:
  [[nodiscard]] std::optional<uint64_t> disjoint_count(const Plan& plan, const IndexView& view);
  // A node's set: borrowed from the view (a leaf), or scratch_[slot].
  struct Operand {
    const roaring_bitmap_t* bits;
    bool owned;
  };
  enum class Op { kAnd, kOr, kAndNot };

  void prepare(const Plan& plan, const IndexView& view);
  void release();
  // Releases on every exit, a TimedOut (deadline.h) included: the next
  // evaluation must start from clean scratch.
  struct Release {
    Evaluator& e;
    ~Release() { e.release(); }
  };

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
  FusedScratch fused_;
  std::vector<uint16_t> sample_keys_;  // estimate(): the sampled chunks' keys
  std::vector<uint64_t> sample_counts_;
  CountPath path_ = CountPath::kAuto;
  Bitmap empty_;
  const IndexView* view_ = nullptr;
  const roaring_bitmap_t* universe_ = nullptr;
};

}  // namespace crowd::query
