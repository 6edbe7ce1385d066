// Parallel generation of a synthetic population, consumed in user order.
//
// Consumers (the BulkLoader, crowd-gen's NDJSON writer) are single-threaded
// and want users in order; generation is the expensive part and every user is
// independent. So worker threads generate blocks of consecutive users into a
// small ring of buffers while the calling thread consumes finished blocks in
// order: generation of block k+1.. overlaps the consumption of block k.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "index/ids.h"
#include "index/synthetic_population.h"

namespace crowd::synth {

// Users [first, first + size()) of a population.
struct UserBlock {
  uint64_t first = 0;
  std::vector<UserId> ids;
  std::vector<uint32_t> offsets;  // user k's tags: tags[offsets[k], offsets[k + 1])
  std::vector<uint32_t> tags;     // vocabulary indices

  [[nodiscard]] std::size_t size() const { return ids.size(); }
  [[nodiscard]] std::span<const uint32_t> tags_of(std::size_t k) const {
    return std::span<const uint32_t>(tags).subspan(offsets[k], offsets[k + 1] - offsets[k]);
  }
};

// Fills `block` with users [first, first + count).
void generate_block(const Population& population, uint64_t first, uint64_t count, UserBlock& block);

// Generates every user of the population and calls `consume` with each block
// in user order, on the calling thread. `threads` counts every thread busy
// with it: 1 generates inline; n > 1 runs n - 1 generating workers beside the
// consuming caller. Stops early, returning false, when `consume` returns
// false. Memory: a few blocks of 16,384 users (~3 MB each).
[[nodiscard]] bool generate_in_order(const Population& population, unsigned threads,
                                     const std::function<bool(const UserBlock&)>& consume);

}  // namespace crowd::synth
