#include "data/synthetic_blocks.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace crowd::synth {
namespace {

// Users a block: ~10 ms of generation, so hand-offs (a mutex and a wakeup,
// ~10 us) cost nothing, and a block's ~650,000 tags (2.6 MB) stay cache-warm
// until they are consumed.
constexpr uint64_t kBlockUsers = 16'384;
// Buffers per generating worker: one being filled, one waiting to be consumed.
constexpr unsigned kSlotsPerWorker = 2;

}  // namespace

void generate_block(const Population& population, uint64_t first, uint64_t count, UserBlock& block) {
  block.first = first;
  block.ids.resize(count);
  block.offsets.assign(1, 0);
  block.tags.clear();
  block.has_values.resize(count);
  block.values.resize(count * world::kAttributes);
  block.event_offsets.assign(1, 0);
  block.events.clear();
  block.behaviour_offsets.assign(1, 0);
  block.behaviour.clear();
  std::vector<uint32_t> one;
  one.reserve(256);
  UserFacts facts;
  for (uint64_t k = 0; k < count; ++k) {
    population.user(first + k, block.ids[k], one);
    block.tags.insert(block.tags.end(), one.begin(), one.end());
    block.offsets.push_back(static_cast<uint32_t>(block.tags.size()));
    population.facts(first + k, one, facts);
    block.has_values[k] = facts.has_values ? 1 : 0;
    std::copy(facts.values.begin(), facts.values.end(), block.values.begin() + k * world::kAttributes);
    block.events.insert(block.events.end(), facts.events.begin(), facts.events.end());
    block.event_offsets.push_back(static_cast<uint32_t>(block.events.size()));
    block.behaviour.insert(block.behaviour.end(), facts.behaviour.begin(), facts.behaviour.end());
    block.behaviour_offsets.push_back(static_cast<uint32_t>(block.behaviour.size()));
  }
}

bool generate_in_order(const Population& population, unsigned threads,
                       const std::function<bool(const UserBlock&)>& consume) {
  const uint64_t users = population.users();
  const uint64_t blocks = (users + kBlockUsers - 1) / kBlockUsers;
  const auto block_range = [&](uint64_t b, uint64_t& first, uint64_t& count) {
    first = b * kBlockUsers;
    count = std::min(kBlockUsers, users - first);
  };

  if (threads <= 1 || blocks <= 1) {
    UserBlock block;
    for (uint64_t b = 0; b < blocks; ++b) {
      uint64_t first = 0, count = 0;
      block_range(b, first, count);
      generate_block(population, first, count, block);
      if (!consume(block)) return false;
    }
    return true;
  }

  // Block b lives in slot b % slots. A worker may fill it once block
  // b - slots has been consumed; the caller consumes it once it is filled.
  const unsigned workers = threads - 1;
  const uint64_t slots = uint64_t{workers} * kSlotsPerWorker;
  constexpr uint64_t kEmpty = ~uint64_t{0};
  std::vector<UserBlock> ring(slots);
  std::vector<uint64_t> filled(slots, kEmpty);  // which block a slot holds
  uint64_t consumed = 0;                        // blocks [0, consumed) are done
  bool stop = false;
  std::mutex mutex;
  std::condition_variable changed;
  std::atomic<uint64_t> next_block{0};

  const auto work = [&] {
    for (;;) {
      const uint64_t b = next_block.fetch_add(1, std::memory_order_relaxed);
      if (b >= blocks) return;
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return stop || b < consumed + slots; });
        if (stop) return;
      }
      uint64_t first = 0, count = 0;
      block_range(b, first, count);
      generate_block(population, first, count, ring[b % slots]);
      {
        std::lock_guard lock(mutex);
        filled[b % slots] = b;
      }
      changed.notify_all();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers);
  for (unsigned w = 0; w < workers; ++w) pool.emplace_back(work);

  // Tells the workers to stop and waits for them; also on the way out of an
  // exception from `consume`, so no thread outlives the ring.
  const auto finish = [&] {
    {
      std::lock_guard lock(mutex);
      stop = true;
    }
    changed.notify_all();
    for (auto& t : pool) t.join();
  };
  bool complete = true;
  try {
    for (uint64_t b = 0; b < blocks && complete; ++b) {
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return filled[b % slots] == b; });
      }
      complete = consume(ring[b % slots]);
      {
        std::lock_guard lock(mutex);
        filled[b % slots] = kEmpty;
        consumed = b + 1;
      }
      changed.notify_all();
    }
  } catch (...) {
    finish();
    throw;
  }
  finish();
  return complete;
}

}  // namespace crowd::synth
