// PlanSet: a compiled query's set, held for repeated reading by the analytics
// operators (insight, overlap, flow, funnel), which intersect one crowd with
// many others.
//
// Evaluator::materialize always hands back an owned bitmap, so a crowd that is
// one stored bitmap (a tag, a cached union, ALL) would be deep-copied: at 10M
// users a 50% tag is ~1.25 MB of memcpy for nothing. A PlanSet borrows those
// from the plan and the view instead and materialises everything else once.
#pragma once

#include <roaring/roaring.h>

#include <cstdint>
#include <optional>

#include "index/bitmap.h"
#include "index/index_view.h"
#include "query/evaluator.h"
#include "query/plan.h"

namespace crowd::query {

class PlanSet {
 public:
  // `plan` must have been compiled against `view`; both must outlive the
  // PlanSet when it borrows (a cached union is owned by the plan, a tag and
  // the universe by the view). Cost: O(1) when borrowed, else that of
  // evaluator.materialize(plan, view).
  PlanSet(const Plan& plan, const IndexView& view, Evaluator& evaluator);
  // Adopts an already built set.
  explicit PlanSet(Bitmap owned);

  PlanSet(PlanSet&&) = default;
  PlanSet& operator=(PlanSet&&) = default;

  [[nodiscard]] const roaring_bitmap_t* bits() const { return bits_; }
  // O(containers) (CRoaring keeps no running count).
  [[nodiscard]] uint64_t cardinality() const { return roaring_bitmap_get_cardinality(bits_); }
  [[nodiscard]] bool borrowed() const { return !owned_.has_value(); }

 private:
  std::optional<Bitmap> owned_;
  const roaring_bitmap_t* bits_ = nullptr;
};

}  // namespace crowd::query
