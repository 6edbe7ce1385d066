// LatencyHistogram: HdrHistogram-style log-linear buckets over non-negative
// 64-bit values (the load tool records nanoseconds), so a percentile costs a
// walk over a few thousand counters instead of keeping and sorting every
// sample.
//
// Layout: values below 2^kSubBucketBits are counted exactly; above that, every
// power-of-two range [2^e, 2^(e+1)) is split into 2^kSubBucketBits equal
// buckets. A bucket is therefore at most 1/2^kSubBucketBits (0.78 %) of its
// lower bound wide, and a percentile reported as the bucket's midpoint is
// within kMaxRelativeError (0.39 %) of a value that really was recorded at
// that rank. The whole uint64 range fits in 58 * 128 counters (59 KiB), so
// nothing is ever clamped or dropped.
//
// No locks and no atomics: each load-tool thread owns one and they are
// merged after the threads have joined.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace crowd::bench {

class LatencyHistogram {
 public:
  static constexpr unsigned kSubBucketBits = 7;
  static constexpr double kMaxRelativeError = 1.0 / (2 << kSubBucketBits);

  LatencyHistogram();

  // O(1), no allocation.
  void record(uint64_t value) { record(value, 1); }
  void record(uint64_t value, uint64_t times);

  // Adds every count of `other`. O(buckets).
  void merge(const LatencyHistogram& other);

  [[nodiscard]] uint64_t count() const { return count_; }
  [[nodiscard]] bool empty() const { return count_ == 0; }
  // Exact (tracked beside the buckets); 0 when empty.
  [[nodiscard]] uint64_t min() const { return count_ == 0 ? 0 : min_; }
  [[nodiscard]] uint64_t max() const { return max_; }
  // Exact up to double rounding; 0 when empty.
  [[nodiscard]] double mean() const;

  // The nearest-rank percentile, p in [0, 100]: the value at rank
  // ceil(p/100 * count) (at least 1) of the sorted samples, to within
  // kMaxRelativeError, clamped to [min(), max()]; the first and last rank
  // (so percentile(0) and percentile(100)) are min() and max() exactly. The
  // results are monotone in p. 0 when empty. O(buckets).
  [[nodiscard]] uint64_t percentile(double p) const;

 private:
  [[nodiscard]] static std::size_t bucket_of(uint64_t value);
  // The smallest and largest value that land in bucket `index`.
  [[nodiscard]] static uint64_t lowest_in(std::size_t index);
  [[nodiscard]] static uint64_t highest_in(std::size_t index);

  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  // Summed as long double: 2^64 ns totals are out of reach, but a double
  // loses whole nanoseconds once the sum passes 2^53 ns (104 days of
  // latency, i.e. ~10^9 requests of 10 ms).
  long double sum_ = 0;
};

}  // namespace crowd::bench
