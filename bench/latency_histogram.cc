#include "bench/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace crowd::bench {
namespace {

constexpr uint64_t kSubBuckets = uint64_t{1} << LatencyHistogram::kSubBucketBits;
// Row 0 holds the exact values 0..kSubBuckets-1; row r >= 1 holds
// [2^(r-1+bits), 2^(r+bits)) in kSubBuckets buckets of width 2^(r-1).
constexpr std::size_t kRows = 64 - LatencyHistogram::kSubBucketBits + 1;
constexpr std::size_t kBuckets = kRows * kSubBuckets;

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

std::size_t LatencyHistogram::bucket_of(uint64_t value) {
  if (value < kSubBuckets) return static_cast<std::size_t>(value);
  // value has bit_width >= bits+1; shift it down so the top bits+1 bits
  // remain: the leading 1 picks the row, the next `bits` bits the bucket.
  const unsigned shift = static_cast<unsigned>(std::bit_width(value)) - 1 - LatencyHistogram::kSubBucketBits;
  const uint64_t mantissa = value >> shift;  // in [kSubBuckets, 2 * kSubBuckets)
  return static_cast<std::size_t>((shift + 1) * kSubBuckets + (mantissa - kSubBuckets));
}

uint64_t LatencyHistogram::lowest_in(std::size_t index) {
  const uint64_t row = index / kSubBuckets;
  const uint64_t sub = index % kSubBuckets;
  if (row == 0) return sub;
  return (kSubBuckets + sub) << (row - 1);
}

uint64_t LatencyHistogram::highest_in(std::size_t index) {
  const uint64_t row = index / kSubBuckets;
  if (row == 0) return lowest_in(index);
  return lowest_in(index) + ((uint64_t{1} << (row - 1)) - 1);
}

void LatencyHistogram::record(uint64_t value, uint64_t times) {
  if (times == 0) return;
  counts_[bucket_of(value)] += times;
  count_ += times;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<long double>(value) * static_cast<long double>(times);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

double LatencyHistogram::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

uint64_t LatencyHistogram::percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // Nearest rank, 1-based. The epsilon keeps p = 99.9 of 1000 samples at
  // rank 999 rather than 1000 when p/100 * count rounds up in binary.
  const double exact = p / 100.0 * static_cast<double>(count_);
  uint64_t rank = static_cast<uint64_t>(std::ceil(exact - 1e-9));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  // The extremes are known exactly; a bucket midpoint would only blur them.
  if (rank == 1) return min_;
  if (rank == count_) return max_;
  uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      // The midpoint halves the worst-case error of either edge.
      const uint64_t lo = lowest_in(i);
      const uint64_t mid = lo + (highest_in(i) - lo) / 2;
      return std::clamp(mid, min(), max_);
    }
  }
  return max_;
}

}  // namespace crowd::bench
