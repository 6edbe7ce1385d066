// Set arithmetic across several crowds: overlap (sizes, pairwise
// intersections, Venn regions), flow (a from-layers x to-layers matrix, e.g.
// AIPL states between two dates) and funnel (nested steps).
//
// The inputs are crowds already evaluated (PlanSet) and the outputs are
// counts: intersections that are only counted use *_cardinality calls and
// build nothing; a bitmap is built only when a later count needs it (a
// partial intersection of a Venn region, a union for a flow margin, the
// running intersection of a funnel).
#pragma once

#include <roaring/roaring.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace crowd::query {

// At most this many crowds in an overlap, layers on each side of a flow and
// steps in a funnel: an overlap's pairs grow as n^2 (120 at 16), and a
// marketer compares a handful of crowds, not hundreds.
inline constexpr std::size_t kMaxCrowdSets = 16;
// Venn regions are given for up to this many crowds (2^n - 1 regions: 15 at
// 4; beyond that a diagram is unreadable and the regions grow exponentially).
inline constexpr std::size_t kMaxVennCrowds = 4;

// Index of the pair (i, j), i < j < n, in the row-major upper triangle:
// (0,1), (0,2), ..., (0,n-1), (1,2), ...
[[nodiscard]] constexpr std::size_t pair_index(std::size_t i, std::size_t j, std::size_t n) {
  return i * n - i * (i + 1) / 2 + (j - i - 1);
}

struct OverlapReport {
  std::vector<uint64_t> sizes;          // per crowd
  std::vector<uint64_t> intersections;  // per pair, by pair_index
  uint64_t union_size = 0;              // users in at least one crowd
  // For 1..kMaxVennCrowds crowds: regions[m - 1] is the number of users in
  // exactly the crowds of bitmask m (bit i: crowd i) and in no other, for
  // m = 1 .. 2^n - 1. Empty for more crowds. The regions sum to union_size.
  std::vector<uint64_t> regions;
};

// Cost: one and_cardinality per pair, one union of all crowds; with Venn
// regions, at most 2^(n-1) - n intersections built (4 at n = 4) and one count
// per region. `crowds` must be non-empty and hold at most kMaxCrowdSets.
[[nodiscard]] OverlapReport overlap(std::span<const roaring_bitmap_t* const> crowds);

struct FlowReport {
  std::vector<uint64_t> from_sizes;  // per from-layer
  std::vector<uint64_t> to_sizes;    // per to-layer
  // cells[i * to + j]: users in from-layer i and in to-layer j.
  std::vector<uint64_t> cells;
  std::vector<uint64_t> left;     // per from-layer: its users in no to-layer
  std::vector<uint64_t> entered;  // per to-layer: its users in no from-layer
  uint64_t from_any = 0;          // users in at least one from-layer
  uint64_t to_any = 0;            // users in at least one to-layer
  uint64_t stayed = 0;            // users in at least one of each side
};

// Layers need not be disjoint; a user in several layers is counted in every
// cell of every (from, to) pair it belongs to, so a row may sum to more than
// its layer (the margins and *_any counts never count a user twice).
// Cost: from x to and_cardinality calls, the union of each side (borrowed
// when a side has one layer), one count per layer against the other side's
// union. Both sides must be non-empty.
[[nodiscard]] FlowReport flow(std::span<const roaring_bitmap_t* const> from, std::span<const roaring_bitmap_t* const> to);

// counts[k]: users in every one of steps[0..k]. Cost: one intersection
// built per step but the first and last (the last is only counted); once the
// running intersection is empty the rest are 0 without work. `steps` must be
// non-empty.
[[nodiscard]] std::vector<uint64_t> funnel(std::span<const roaring_bitmap_t* const> steps);

}  // namespace crowd::query
