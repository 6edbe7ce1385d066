#include "query/evaluator.h"

#include <cassert>
#include <utility>

#include "index/chunk_cursor.h"
#include "query/deadline.h"
#include "query/union_of.h"

namespace crowd::query {

void Evaluator::prepare(const Plan& plan, const IndexView& view) {
  assert(&plan.view() == &view && "a plan must be evaluated against the view it was compiled for");
  view_ = &view;
  universe_ = view.universe().bits.get();
  // build() at nesting level k uses slots k and k+1 at most.
  if (scratch_.size() < plan.depth() + 2) scratch_.resize(plan.depth() + 2);
}

void Evaluator::release() {
  // Keep the bitmap headers, free the containers: a thread's evaluator
  // should not pin megabytes of a past query's intermediates.
  for (auto& s : scratch_) {
    if (!s.empty()) roaring_bitmap_clear(s.get());
  }
}

// An OR of values of one exclusive field counts as the sum of its members'
// counts: O(members), no union (at 10M users a 10-city list is 2.5 us
// instead of 741 us). Under an AND the sum of the AND's counts with each
// member was measured too and lost (1.0-1.26x slower: each member is a pass
// over the other operands), so an AND evaluates the union as any other
// (docs/benchmarks.md). nullopt: the plan's top is no such union.
std::optional<uint64_t> Evaluator::disjoint_count(const Plan& plan, const IndexView& view) {
  const PlanNode& root = plan.root();
  if (root.kind != PlanKind::kUnion || !root.disjoint) return std::nullopt;
  uint64_t sum = 0;
  for (const TagId id : root.union_tags) sum += view.tag(id).cardinality;
  return sum;
}

uint64_t Evaluator::count(const Plan& plan, const IndexView& view) {
  if (const auto n = disjoint_count(plan, view)) return *n;
  if (path_ == CountPath::kFused || (path_ == CountPath::kAuto && prefers_fused(plan))) {
    return fused_count(plan, view, fused_);
  }
  prepare(plan, view);
  const Release release_after{*this};
  return count_node(plan.root());
}

Estimate Evaluator::estimate(const Plan& plan, const IndexView& view, double phase) {
  const TagBits& universe = view.universe();
  const PlanNode& root = plan.root();
  const bool no_pass = root.kind == PlanKind::kEmpty || root.kind == PlanKind::kAll || root.kind == PlanKind::kTag ||
                       (root.kind == PlanKind::kUnion && (root.cached_union || root.disjoint)) ||
                       (root.kind == PlanKind::kNot && root.children[0].kind == PlanKind::kTag);
  const auto chunks = static_cast<std::size_t>(ChunkCursor(universe.bits.get()).chunks());
  if (no_pass || chunks <= kEstimateChunks) return exact_estimate(count(plan, view), universe.cardinality);
  std::vector<ChunkSample> sample = sample_chunks(universe, kEstimateChunks, phase);
  sample_keys_.clear();
  for (const ChunkSample& c : sample) sample_keys_.push_back(c.key);
  sample_counts_.assign(sample.size(), 0);
  fused_count_chunks(plan, view, fused_, sample_keys_, sample_counts_);
  for (std::size_t i = 0; i < sample.size(); ++i) sample[i].members = sample_counts_[i];
  return estimate_from_sample(sample, universe.cardinality, chunks);
}

Bitmap Evaluator::materialize(const Plan& plan, const IndexView& view) {
  prepare(plan, view);
  const Release release_after{*this};
  const PlanNode& root = plan.root();
  Bitmap result;
  switch (root.kind) {
    case PlanKind::kEmpty:
      break;
    case PlanKind::kAll:
      result = view.universe().bits.clone();
      break;
    case PlanKind::kTag:
      result = Bitmap(roaring_bitmap_copy(root.bits));
      break;
    case PlanKind::kUnion:
      if (root.cached_union) {
        result = root.cached_union->bits.clone();
        break;
      }
      build(root, 0);
      result = std::exchange(scratch_[0], Bitmap());
      break;
    default:
      build(root, 0);
      result = std::exchange(scratch_[0], Bitmap());
      break;
  }
  return result;
}

uint64_t Evaluator::count_node(const PlanNode& node) {
  switch (node.kind) {
    case PlanKind::kEmpty:
      return 0;
    case PlanKind::kAll:
      return view_->universe().cardinality;
    case PlanKind::kTag:
      return leaf_bits(node, *view_).cardinality;
    case PlanKind::kUnion: {
      if (node.cached_union) return node.cached_union->cardinality;
      const std::size_t n = node.union_bits.size();
      if (n == 0) return 0;
      if (n == 1) return view_->tag(node.union_tags.front()).cardinality;
      if (n == 2) return roaring_bitmap_or_cardinality(node.union_bits[0], node.union_bits[1]);
      scratch_[0] = union_of(std::span(node.union_bits).first(n - 1));
      return roaring_bitmap_or_cardinality(scratch_[0].get(), node.union_bits[n - 1]);
    }
    case PlanKind::kNot:
      return roaring_bitmap_andnot_cardinality(universe_, operand(node.children.front(), 1).bits);
    case PlanKind::kAnd:
    case PlanKind::kOr: {
      const std::size_t n = node.children.size();
      if (n == 1) return count_node(node.children.front());
      const bool is_and = node.kind == PlanKind::kAnd;
      const Operand acc = fold(is_and ? Op::kAnd : Op::kOr, node.children, 0, n - 1, 0);
      if (is_and && roaring_bitmap_is_empty(acc.bits)) return 0;
      const roaring_bitmap_t* last = operand(node.children[n - 1], 1).bits;
      return is_and ? roaring_bitmap_and_cardinality(acc.bits, last) : roaring_bitmap_or_cardinality(acc.bits, last);
    }
    case PlanKind::kAndNot: {
      const std::size_t n = node.children.size();
      if (n == node.positives) {
        const Operand acc = fold(Op::kAnd, node.children, 0, n, 0);
        return roaring_bitmap_get_cardinality(acc.bits);
      }
      const Operand acc = and_not(node, n - 1, 0);
      if (roaring_bitmap_is_empty(acc.bits)) return 0;
      return roaring_bitmap_andnot_cardinality(acc.bits, operand(node.children[n - 1], 1).bits);
    }
  }
  return 0;
}

Evaluator::Operand Evaluator::operand(const PlanNode& node, std::size_t slot) {
  switch (node.kind) {
    case PlanKind::kEmpty:
      return {empty_.get(), false};
    case PlanKind::kAll:
      return {universe_, false};
    case PlanKind::kTag:
      return {node.bits, false};
    case PlanKind::kUnion:
      if (node.cached_union) return {node.cached_union->bits.get(), false};
      build(node, slot);
      return {scratch_[slot].get(), true};
    default:
      build(node, slot);
      return {scratch_[slot].get(), true};
  }
}

void Evaluator::own(Operand acc, std::size_t slot) {
  if (!acc.owned) scratch_[slot] = Bitmap(roaring_bitmap_copy(acc.bits));
}

void Evaluator::build(const PlanNode& node, std::size_t slot) {
  switch (node.kind) {
    case PlanKind::kEmpty:
    case PlanKind::kAll:
    case PlanKind::kTag:
      own(operand(node, slot), slot);
      return;
    case PlanKind::kUnion:
      if (node.cached_union) {
        scratch_[slot] = node.cached_union->bits.clone();
        return;
      }
      scratch_[slot] = union_of(node.union_bits);
      return;
    case PlanKind::kNot: {
      const Operand inner = operand(node.children.front(), slot + 1);
      scratch_[slot] = Bitmap(roaring_bitmap_andnot(universe_, inner.bits));
      return;
    }
    case PlanKind::kAnd:
    case PlanKind::kOr:
      own(fold(node.kind == PlanKind::kAnd ? Op::kAnd : Op::kOr, node.children, 0, node.children.size(), slot), slot);
      return;
    case PlanKind::kAndNot:
      own(and_not(node, node.children.size(), slot), slot);
      return;
  }
}

Evaluator::Operand Evaluator::fold(Op op, const std::vector<PlanNode>& nodes, std::size_t from, std::size_t to,
                                   std::size_t slot) {
  Operand acc = operand(nodes[from], slot);
  for (std::size_t i = from + 1; i < to; ++i) {
    if (op == Op::kAnd && roaring_bitmap_is_empty(acc.bits)) break;
    acc = combine(acc, operand(nodes[i], slot + 1), op, slot);
  }
  return acc;
}

Evaluator::Operand Evaluator::and_not(const PlanNode& node, std::size_t last_negative, std::size_t slot) {
  Operand acc = fold(Op::kAnd, node.children, 0, node.positives, slot);
  for (std::size_t i = node.positives; i < last_negative; ++i) {
    if (roaring_bitmap_is_empty(acc.bits)) break;
    acc = combine(acc, operand(node.children[i], slot + 1), Op::kAndNot, slot);
  }
  return acc;
}

Evaluator::Operand Evaluator::combine(Operand acc, Operand b, Op op, std::size_t slot) {
  Deadline::check();  // one whole-bitmap operation: at most milliseconds
  if (acc.owned) {
    roaring_bitmap_t* target = scratch_[slot].get();
    switch (op) {
      case Op::kAnd:
        roaring_bitmap_and_inplace(target, b.bits);
        break;
      case Op::kOr:
        roaring_bitmap_or_inplace(target, b.bits);
        break;
      case Op::kAndNot:
        roaring_bitmap_andnot_inplace(target, b.bits);
        break;
    }
    return {target, true};
  }
  if (b.owned && op != Op::kAndNot) {
    // The accumulator is a borrowed tag and b was just built in slot+1:
    // combine into b and make it the accumulator, rather than allocate.
    roaring_bitmap_t* target = scratch_[slot + 1].get();
    if (op == Op::kAnd) {
      roaring_bitmap_and_inplace(target, acc.bits);
    } else {
      roaring_bitmap_or_inplace(target, acc.bits);
    }
    std::swap(scratch_[slot], scratch_[slot + 1]);
    return {scratch_[slot].get(), true};
  }
  // Both borrowed: one new bitmap. Copying the smaller tag into scratch and
  // working in place would cost a full copy of it on top of the operation.
  switch (op) {
    case Op::kAnd:
      scratch_[slot] = Bitmap(roaring_bitmap_and(acc.bits, b.bits));
      break;
    case Op::kOr:
      scratch_[slot] = Bitmap(roaring_bitmap_or(acc.bits, b.bits));
      break;
    case Op::kAndNot:
      scratch_[slot] = Bitmap(roaring_bitmap_andnot(acc.bits, b.bits));
      break;
  }
  return {scratch_[slot].get(), true};
}

}  // namespace crowd::query
