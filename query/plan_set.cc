#include "query/plan_set.h"

#include <utility>

namespace crowd::query {

PlanSet::PlanSet(const Plan& plan, const IndexView& view, Evaluator& evaluator) {
  const PlanNode& root = plan.root();
  switch (root.kind) {
    case PlanKind::kTag:
      bits_ = root.bits;
      return;
    case PlanKind::kAll:
      bits_ = view.universe().bits.get();
      return;
    case PlanKind::kUnion:
      if (root.cached_union) {
        bits_ = root.cached_union->bits.get();
        return;
      }
      break;
    default:
      break;
  }
  owned_.emplace(evaluator.materialize(plan, view));
  bits_ = owned_->get();
}

PlanSet::PlanSet(Bitmap owned) : owned_(std::move(owned)), bits_(owned_->get()) {}

}  // namespace crowd::query
