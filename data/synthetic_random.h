// Random numbers for the synthetic population.
//
// The generator must regenerate any user from (seed, i) alone, so tests can
// check one user without generating the others and generation can be split
// into parallel blocks. That rules out one long-running engine (mt19937 would
// have to be stepped i times); instead each user gets its own counter-based
// stream: splitmix64 seeded by a hash of (seed, i). splitmix64 costs one add
// and one 64-bit finaliser a number (~1 ns) and passes BigCrush, which is far
// more than a synthetic data set needs.
//
// Categorical draws (a persona, a city, a category out of 2,000) use Walker
// alias tables: one random number and one table lookup a draw, whatever the
// number of outcomes. A CDF with binary search would cost 11 dependent,
// cache-missing steps for 2,000 categories.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace crowd::synth {

inline constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;  // 2^64 / golden ratio, odd

// splitmix64's output function: a bijection on 64 bits (xor-shifts and odd
// multiplies are each invertible) with full avalanche.
[[nodiscard]] constexpr uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Probability p as a threshold on a uniform 64-bit draw: draw < threshold
// happens with probability p (p >= 1 saturates; the 2^-64 shortfall is moot).
[[nodiscard]] constexpr uint64_t threshold64(double p) {
  if (p <= 0.0) return 0;
  if (p >= 1.0) return ~uint64_t{0};
  return static_cast<uint64_t>(p * 18446744073709551616.0);
}
// The same on a 16-bit lane, for drawing several cheap coins from one number
// (resolution 1.5e-5, enough for any rate the generator uses).
[[nodiscard]] constexpr uint32_t threshold16(double p) {
  if (p <= 0.0) return 0;
  if (p >= 1.0) return 1u << 16;
  return static_cast<uint32_t>(p * 65536.0);
}

// A splitmix64 stream. Streams for different (key, stream) pairs start at
// unrelated points of the 2^64 cycle, so they do not overlap in practice.
class Rng {
 public:
  Rng(uint64_t key, uint64_t stream) : state_(mix64(key ^ mix64(stream * kGolden + 0x632be59bd9b4e019ULL))) {}

  uint64_t next() {
    state_ += kGolden;
    return mix64(state_);
  }
  // Uniform in [0, n), n > 0: the high half of a 64x32-bit product
  // (multiply-shift; the bias, below n / 2^64, is invisible here).
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(((next() >> 32) * n) >> 32); }
  bool chance(uint64_t threshold) { return next() < threshold; }

 private:
  uint64_t state_;
};

// Walker's alias method (Vose's construction): O(n) to build, O(1) a draw.
class AliasTable {
 public:
  AliasTable() = default;
  // Weights need not be normalised; negative weights count as 0. At least one
  // weight must be positive.
  explicit AliasTable(std::span<const double> weights);

  // One outcome in [0, size()). The high 32 bits of r pick a slot, the low 32
  // bits decide between the slot and its alias, so one draw is one number.
  // Branch-free: which of the two wins is a coin flip, and a mispredicted
  // branch (~15 cycles) cost more than the rest of the draw.
  [[nodiscard]] uint32_t sample(uint64_t r) const {
    const auto slot = static_cast<uint32_t>(((r >> 32) * size_) >> 32);
    const Slot& s = slots_[slot];
    const uint32_t take_alias = 0u - static_cast<uint32_t>(static_cast<uint32_t>(r) >= s.keep);
    return slot ^ ((slot ^ s.alias) & take_alias);
  }
  [[nodiscard]] uint32_t sample(Rng& rng) const { return sample(rng.next()); }
  [[nodiscard]] uint32_t size() const { return size_; }

 private:
  struct Slot {
    uint32_t keep;   // the slot's own outcome when the low 32 bits are below this
    uint32_t alias;  // otherwise this one
  };
  uint32_t size_ = 0;
  std::vector<Slot> slots_;  // together: one cache line a draw, not two
};

}  // namespace crowd::synth
