// ReplicaFanOut: a router's requests to shard replicas. A read goes to one
// replica of every shard at once; the answers come back together.
//
// - Replicas of a shard take turns (round robin), so reads spread over them.
// - A replica that fails to answer (refused, reset, timed out) is marked
//   suspect for a few seconds and put last; the shard's request goes to its
//   next replica at once.
// - Hedging (docs/cluster.md#read-path): a shard whose replica has not
//   answered within `hedge_after` is asked again at another replica, and
//   the first answer wins; the slower exchange is cut off (its connection
//   closed). A SIGSTOPped replica thus costs one hedge delay per request
//   until it is marked suspect (at its first hedge) or its lease expires,
//   then nothing.
//
// The exchanges run on the calling thread: asynchronous Beast operations on
// an io_context of its own (one per router worker thread), over keep-alive
// connections it keeps per replica. Nothing is handed to another thread,
// so a fan-out costs the replicas' time and the sockets', not wake-ups; and
// a replica that hangs holds nothing past the request that asked it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "router/topology.h"

namespace crowd::router {

struct ShardRequest {
  std::string method = "POST";
  std::string target;
  std::string body;
};

struct ShardAnswer {
  unsigned status = 0;  // 0: no replica of the shard answered (error says why)
  std::string body;
  std::string replica;  // the URL that answered
  std::string error;
};

class ReplicaFanOut {
 public:
  explicit ReplicaFanOut(std::chrono::milliseconds hedge_after);
  ~ReplicaFanOut();
  ReplicaFanOut(const ReplicaFanOut&) = delete;
  ReplicaFanOut& operator=(const ReplicaFanOut&) = delete;

  // Sends request_of(k) to a replica of each shard k in `shards` and returns
  // their answers in that order, by `deadline` at the latest (a shard with
  // no answer by then has status 0). Any thread; each uses its own
  // connections.
  [[nodiscard]] std::vector<ShardAnswer> gather(const Layout& layout, const std::vector<uint32_t>& shards,
                                                const std::function<ShardRequest(uint32_t)>& request_of,
                                                std::chrono::steady_clock::time_point deadline);

  // Requests sent because a replica was slow (hedges) and because one failed.
  [[nodiscard]] uint64_t hedges() const { return hedges_.load(); }
  [[nodiscard]] uint64_t failovers() const { return failovers_.load(); }

 private:
  using Clock = std::chrono::steady_clock;

  // `replicas` ordered for this request: round robin, suspects last.
  [[nodiscard]] std::vector<std::string> order(uint32_t shard, const std::vector<Replica>& replicas);
  void suspect(const std::string& url);

  std::chrono::milliseconds hedge_after_;
  std::mutex suspects_mu_;
  std::unordered_map<std::string, Clock::time_point> suspects_;  // url -> until
  std::unordered_map<uint32_t, uint64_t> turns_;                 // shard -> round robin counter (under suspects_mu_)
  std::atomic<uint64_t> hedges_{0};
  std::atomic<uint64_t> failovers_{0};
};

}  // namespace crowd::router
