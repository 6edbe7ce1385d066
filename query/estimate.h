// Estimates for interactive sizing (issue 18, item 6): a crowd's size from a
// fixed sample of 2^16-user chunks, with a 95% interval.
//
// Why chunks: users are spread over ordinals in arrival order, and a chunk
// is what the fused evaluator already reads as a unit, so a sample of chunks
// costs what a count over that many users costs, whatever the total (16
// chunks: ~1M users, well under 100 us for the bench mixes at 10M users).
// Why an interval from between-chunk variance: if tags cluster by arrival
// order (a bulk load by city), chunks differ more than independent users
// would, and the interval must widen with them. The arithmetic is in
// docs/cluster.md#estimates-for-interactive-sizing.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "index/index_view.h"

namespace crowd::query {

// Chunks an estimate evaluates. 2^20 users: the binomial 95% relative error
// is 0.84% for a crowd of 5% of users, 4.3% for 0.2%.
inline constexpr std::size_t kEstimateChunks = 16;

// One sampled chunk: its key, its users (the universe's members in it) and
// the crowd's members in it.
struct ChunkSample {
  uint16_t key = 0;
  uint64_t users = 0;
  uint64_t members = 0;
};

struct Estimate {
  uint64_t count = 0;  // the estimate (rounded)
  uint64_t low = 0;    // 95% interval, clipped to what is certain
  uint64_t high = 0;
  bool exact = false;          // every user counted: low == count == high
  uint64_t sampled_users = 0;  // users in the sampled chunks (all users when exact)
  uint64_t sampled_chunks = 0;
  // The estimate's variance (users^2), so that a router can sum shards'
  // estimates and their variances; 0 when exact.
  double variance = 0;
};

// Where in each stride of C/n chunks the systematic sample takes its chunk:
// the middle. Fixed, so the same index always gives the same sample (an
// edited query's estimate moves only by what the edit changed). Benchmarks
// vary it to measure the intervals' coverage over samples.
inline constexpr double kEstimatePhase = 0.5;

// The chunks to sample from `universe`: all of them when it has at most
// `n` chunks, else n chosen systematically (the i-th at floor((i + phase)C/n)
// of C chunks, phase in [0, 1)), ascending by key, with `members` left 0.
// O(C).
[[nodiscard]] std::vector<ChunkSample> sample_chunks(const TagBits& universe, std::size_t n = kEstimateChunks,
                                                     double phase = kEstimatePhase);

// The estimate from a filled sample of `total_chunks` chunks holding
// `total_users` users: the ratio estimator total_users * sum(members) /
// sum(users), and a 95% interval (1.96 standard errors) from the between-chunk
// variance, never narrower than the binomial interval of the sampled share. A sample of every
// chunk is exact. O(n).
[[nodiscard]] Estimate estimate_from_sample(std::span<const ChunkSample> sample, uint64_t total_users,
                                            uint64_t total_chunks);

// An exact answer in the Estimate's form (a count that needed no sampling).
[[nodiscard]] Estimate exact_estimate(uint64_t count, uint64_t total_users);

// The estimate of the union of disjoint parts (a cluster's shards, each
// estimated on its own sample): counts, variances and samples add, the sum
// is exact when every part is, and the 95% interval is the normal one
// around the summed count, clipped to [0, total_users]. O(parts).
[[nodiscard]] Estimate sum_estimates(std::span<const Estimate> parts, uint64_t total_users);

}  // namespace crowd::query
