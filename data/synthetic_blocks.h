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

#include "data/synthetic_population.h"
#include "index/ids.h"

namespace crowd::synth {

// Users [first, first + size()) of a population, with their facts.
struct UserBlock {
  uint64_t first = 0;
  std::vector<UserId> ids;
  std::vector<uint32_t> offsets;  // user k's tags: tags[offsets[k], offsets[k + 1])
  std::vector<uint32_t> tags;     // vocabulary indices
  std::vector<uint8_t> has_values;
  std::vector<int64_t> values;          // world::kAttributes a user (zeros without values)
  std::vector<uint32_t> event_offsets;  // user k's events: events[event_offsets[k], event_offsets[k + 1])
  std::vector<UserFacts::Event> events;
  std::vector<uint32_t> behaviour_offsets;  // user k's dated behaviour, likewise
  std::vector<UserFacts::DatedBehaviour> behaviour;

  [[nodiscard]] std::size_t size() const { return ids.size(); }
  [[nodiscard]] std::span<const uint32_t> tags_of(std::size_t k) const {
    return std::span<const uint32_t>(tags).subspan(offsets[k], offsets[k + 1] - offsets[k]);
  }
  // User k's values (world::kAttributeNames order), empty when it has none.
  [[nodiscard]] std::span<const int64_t> values_of(std::size_t k) const {
    if (has_values[k] == 0) return {};
    return std::span<const int64_t>(values).subspan(k * world::kAttributes, world::kAttributes);
  }
  [[nodiscard]] std::span<const UserFacts::Event> events_of(std::size_t k) const {
    return std::span<const UserFacts::Event>(events).subspan(event_offsets[k], event_offsets[k + 1] - event_offsets[k]);
  }
  [[nodiscard]] std::span<const UserFacts::DatedBehaviour> behaviour_of(std::size_t k) const {
    return std::span<const UserFacts::DatedBehaviour>(behaviour).subspan(
        behaviour_offsets[k], behaviour_offsets[k + 1] - behaviour_offsets[k]);
  }
};

// Fills `block` with users [first, first + count): tags and facts.
void generate_block(const Population& population, uint64_t first, uint64_t count, UserBlock& block);

// Generates every user of the population and calls `consume` with each block
// in user order, on the calling thread. `threads` counts every thread busy
// with it: 1 generates inline; n > 1 runs n - 1 generating workers beside the
// consuming caller. Stops early, returning false, when `consume` returns
// false. Memory: a few blocks of 16,384 users (~4 MB each, facts included).
[[nodiscard]] bool generate_in_order(const Population& population, unsigned threads,
                                     const std::function<bool(const UserBlock&)>& consume);

}  // namespace crowd::synth
