// ReplicaFanOut: a router's requests to shard replicas. A read goes to one
// replica of every shard at once; the answers come back together.
//
// - Replicas of a shard take turns (round robin), so reads spread over them.
// - A replica that fails to answer (refused, reset, timed out) is marked
//   suspect for a few seconds and put last; the shard's request goes to its
//   next replica at once.
// - Hedging (docs/cluster.md#read-path): a shard whose replica has not
//   answered within `hedge_after` is asked again at another replica, and
//   the first answer wins. A SIGSTOPped replica thus costs one hedge delay
//   per request until it is marked suspect (at its first hedge) or its lease
//   expires, then nothing.
//
// The requests run on a pool of blocking HttpClients (cluster/http_client.h),
// one keep-alive connection per replica per pool thread: the router's I/O
// workers only wait, and a replica that hangs holds a pool thread, never a
// worker.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cluster/http_client.h"
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
  ReplicaFanOut(unsigned threads, std::chrono::milliseconds hedge_after);
  ~ReplicaFanOut();
  ReplicaFanOut(const ReplicaFanOut&) = delete;
  ReplicaFanOut& operator=(const ReplicaFanOut&) = delete;

  // Sends request_of(k) to a replica of each shard k in `shards` and returns
  // their answers in that order, by `deadline` at the latest (a shard with
  // no answer by then has status 0).
  [[nodiscard]] std::vector<ShardAnswer> gather(const Layout& layout, const std::vector<uint32_t>& shards,
                                                const std::function<ShardRequest(uint32_t)>& request_of,
                                                std::chrono::steady_clock::time_point deadline);

  // Requests sent because a replica was slow (hedges) and because one failed.
  [[nodiscard]] uint64_t hedges() const { return hedges_.load(); }
  [[nodiscard]] uint64_t failovers() const { return failovers_.load(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Gather;
  using Clients = std::unordered_map<std::string, std::unique_ptr<cluster::HttpClient>>;
  using Task = std::function<void(Clients&)>;

  void work();
  void submit(Task task);
  // `replicas` ordered for this request: round robin, suspects last.
  [[nodiscard]] std::vector<std::string> order(uint32_t shard, const std::vector<Replica>& replicas);
  void suspect(const std::string& url);

  std::chrono::milliseconds hedge_after_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Task> tasks_;
  bool stop_ = false;
  std::vector<std::thread> threads_;

  std::mutex suspects_mu_;
  std::unordered_map<std::string, Clock::time_point> suspects_;  // url -> until
  std::unordered_map<uint32_t, uint64_t> turns_;                 // shard -> round robin counter (under suspects_mu_)
  std::atomic<uint64_t> hedges_{0};
  std::atomic<uint64_t> failovers_{0};
};

}  // namespace crowd::router
