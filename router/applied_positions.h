// AppliedPositions: how far each shard's replicas have applied their
// stream, from the notices they publish on crowd.<cluster>.applied.<k>
// (server/shard_role.h) -- what a router waits on before it acknowledges a
// write (docs/cluster.md#write-path-jetstream: in JetStream on a quorum
// *and* applied and synced by at least one replica).
//
// One listener thread per shard. A replica applies its stream in order, so
// the highest sequence any replica announced covers every earlier one. What
// each recent sequence did -- the counts a crowdd's write answers with, or
// the refusal of a batch refused by the index's state (an ID conflict) --
// is remembered for a while, so the waiting writer can answer as a crowdd.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/jetstream.h"

namespace crowd::router {

enum class AppliedOutcome { kApplied, kRefused, kTimedOut };

struct Applied {
  AppliedOutcome outcome = AppliedOutcome::kTimedOut;
  // Whether the counts below are known: a notice can be lost (core NATS),
  // and then a later one says only that the sequence was applied.
  bool known = false;
  std::string refusal;  // kRefused
  uint64_t users = 0;
  uint64_t added = 0;
  uint64_t removed = 0;
  uint64_t erased = 0;
};

class AppliedPositions {
 public:
  // Subscribes to the notices of shards 0..shards-1 of cluster `name`.
  // nullptr with `error` when a subscription fails.
  [[nodiscard]] static std::unique_ptr<AppliedPositions> start(cluster::JetStream& js, const std::string& name,
                                                               uint32_t shards, std::string& error);
  ~AppliedPositions();
  AppliedPositions(const AppliedPositions&) = delete;
  AppliedPositions& operator=(const AppliedPositions&) = delete;

  // Waits until some replica of `shard` has applied `sequence`, or until
  // `deadline`.
  [[nodiscard]] Applied wait(uint32_t shard, uint64_t sequence, std::chrono::steady_clock::time_point deadline);

  // Waits until each replica of `shard` named in `replicas` (URLs) has
  // announced `sequence` or a later one, or until `deadline` (false): so
  // that a read sent after a write to any of them sees the write. A
  // metadata write waits so before it answers with a read.
  [[nodiscard]] bool wait_all(uint32_t shard, uint64_t sequence, const std::vector<std::string>& replicas,
                              std::chrono::steady_clock::time_point deadline);

  // The highest sequence a replica of `shard` announced (0: none yet).
  [[nodiscard]] uint64_t applied(uint32_t shard) const;

 private:
  // Outcomes kept per shard: far more than the writes in flight.
  static constexpr std::size_t kOutcomesKept = 4096;
  struct Shard {
    uint64_t applied = 0;
    std::map<uint64_t, Applied> recent;                         // by sequence
    std::map<std::string, uint64_t, std::less<>> by_replica;   // the highest each replica announced
  };
  AppliedPositions() = default;
  void listen(uint32_t shard, std::unique_ptr<cluster::JetStream::Listener> listener);
  void note(uint32_t shard, const std::string& replica, uint64_t sequence, Applied applied);

  mutable std::mutex mu_;
  std::condition_variable advanced_;
  std::vector<Shard> shards_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace crowd::router
