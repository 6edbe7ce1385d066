#include "query/crowd_sets.h"

#include <bit>
#include <cassert>
#include <optional>

#include "index/bitmap.h"
#include "query/union_of.h"

namespace crowd::query {
namespace {

// The union of `sets`, borrowed when there is only one.
class UnionOf {
 public:
  explicit UnionOf(std::span<const roaring_bitmap_t* const> sets) {
    if (sets.size() == 1) {
      bits_ = sets[0];
    } else {
      owned_.emplace(union_of(sets));
      bits_ = owned_->get();
    }
  }
  [[nodiscard]] const roaring_bitmap_t* bits() const { return bits_; }

 private:
  std::optional<Bitmap> owned_;
  const roaring_bitmap_t* bits_ = nullptr;
};

// Fills inter[m] (m a bitmask over crowds) with the size of the intersection
// of crowds m | (1 << j) for every j >= next, given `acc`, the intersection
// of the crowds of m. Depth first, so one partial intersection per level is
// alive; the last crowd only ever ends a subset, so it is counted, never built.
void intersect_subsets(const roaring_bitmap_t* acc, unsigned mask, std::size_t next,
                       std::span<const roaring_bitmap_t* const> crowds, std::vector<uint64_t>& inter) {
  for (std::size_t j = next; j < crowds.size(); ++j) {
    const unsigned m = mask | (1u << j);
    if (j + 1 == crowds.size()) {
      inter[m] = roaring_bitmap_and_cardinality(acc, crowds[j]);
      continue;
    }
    const Bitmap both(roaring_bitmap_and(acc, crowds[j]));
    inter[m] = both.cardinality();
    // Supersets of an empty intersection are empty: inter[] is zeroed.
    if (inter[m] != 0) intersect_subsets(both.get(), m, j + 1, crowds, inter);
  }
}

}  // namespace

OverlapReport overlap(std::span<const roaring_bitmap_t* const> crowds) {
  assert(!crowds.empty() && crowds.size() <= kMaxCrowdSets);
  const std::size_t n = crowds.size();
  OverlapReport out;
  out.sizes.reserve(n);
  for (const auto* c : crowds) out.sizes.push_back(roaring_bitmap_get_cardinality(c));
  out.intersections.resize(n * (n - 1) / 2);

  if (n <= kMaxVennCrowds) {
    // Every subset's intersection, then the exclusive regions by inclusion-
    // exclusion: region(m) = sum over supersets t of m of
    // (-1)^(|t| - |m|) * inter(t). At most 15 subsets, so O(4^n) is nothing.
    const unsigned full = (1u << n) - 1;
    std::vector<uint64_t> inter(full + 1, 0);
    for (std::size_t i = 0; i < n; ++i) {
      inter[1u << i] = out.sizes[i];
      if (out.sizes[i] != 0) intersect_subsets(crowds[i], 1u << i, i + 1, crowds, inter);
    }
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = i + 1; j < n; ++j) out.intersections[pair_index(i, j, n)] = inter[(1u << i) | (1u << j)];
    }
    out.regions.resize(full);
    for (unsigned m = 1; m <= full; ++m) {
      int64_t region = 0;
      for (unsigned t = m; t <= full; t = (t + 1) | m) {  // every superset of m, ascending
        const int sign = (std::popcount(t) - std::popcount(m)) % 2 == 0 ? 1 : -1;
        region += sign * static_cast<int64_t>(inter[t]);
      }
      out.regions[m - 1] = static_cast<uint64_t>(region);
      out.union_size += static_cast<uint64_t>(region);
    }
    return out;
  }

  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      out.intersections[pair_index(i, j, n)] = roaring_bitmap_and_cardinality(crowds[i], crowds[j]);
    }
  }
  out.union_size = roaring_bitmap_get_cardinality(UnionOf(crowds).bits());
  return out;
}

FlowReport flow(std::span<const roaring_bitmap_t* const> from, std::span<const roaring_bitmap_t* const> to) {
  assert(!from.empty() && !to.empty());
  FlowReport out;
  for (const auto* f : from) out.from_sizes.push_back(roaring_bitmap_get_cardinality(f));
  for (const auto* t : to) out.to_sizes.push_back(roaring_bitmap_get_cardinality(t));
  out.cells.reserve(from.size() * to.size());
  for (const auto* f : from) {
    for (const auto* t : to) out.cells.push_back(roaring_bitmap_and_cardinality(f, t));
  }
  const UnionOf from_any(from);
  const UnionOf to_any(to);
  for (std::size_t i = 0; i < from.size(); ++i) {
    out.left.push_back(out.from_sizes[i] - roaring_bitmap_and_cardinality(from[i], to_any.bits()));
  }
  for (std::size_t j = 0; j < to.size(); ++j) {
    out.entered.push_back(out.to_sizes[j] - roaring_bitmap_and_cardinality(to[j], from_any.bits()));
  }
  out.from_any = roaring_bitmap_get_cardinality(from_any.bits());
  out.to_any = roaring_bitmap_get_cardinality(to_any.bits());
  out.stayed = roaring_bitmap_and_cardinality(from_any.bits(), to_any.bits());
  return out;
}

std::vector<uint64_t> funnel(std::span<const roaring_bitmap_t* const> steps) {
  assert(!steps.empty());
  std::vector<uint64_t> counts(steps.size(), 0);
  counts[0] = roaring_bitmap_get_cardinality(steps[0]);
  if (steps.size() == 1 || counts[0] == 0) return counts;
  // The running intersection; the first step is borrowed until the second
  // is ANDed into a new bitmap, which later steps narrow in place.
  std::optional<Bitmap> acc;
  const roaring_bitmap_t* current = steps[0];
  for (std::size_t k = 1; k < steps.size(); ++k) {
    if (k + 1 == steps.size()) {
      counts[k] = roaring_bitmap_and_cardinality(current, steps[k]);
      break;
    }
    if (acc) {
      roaring_bitmap_and_inplace(acc->get(), steps[k]);
    } else {
      acc.emplace(roaring_bitmap_and(current, steps[k]));
      current = acc->get();
    }
    counts[k] = acc->cardinality();
    if (counts[k] == 0) break;
  }
  return counts;
}

}  // namespace crowd::query
