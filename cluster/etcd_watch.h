// Following a key prefix in etcd (docs/cluster.md#control-plane-etcd):
// routers and shards keep the shard map and the members in memory and learn
// of every change by one /v3/watch on the prefix -- a POST whose answer is a
// stream of JSON messages, one a line -- instead of polling.
//
// The watch runs on its own thread and hands each batch of events to a
// handler, in revision order, exactly once: after a broken connection (a
// killed member, a stopped one: an idle stream is re-opened every
// `idle_restart`, which also notices a member that stopped answering) it
// resumes from the revision after the last one delivered, on the next
// endpoint. If etcd has compacted its history past that revision, nothing
// can be resumed: `on_lost` is called and the watch ends; its owner re-reads
// the prefix and starts a new one.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "cluster/etcd_client.h"

namespace crowd::cluster {

struct EtcdEvent {
  bool deleted = false;  // else a put
  EtcdKv kv;             // a delete carries the key and its mod_revision only
};

class EtcdWatch {
 public:
  using Handler = std::function<void(const std::vector<EtcdEvent>& events)>;

  // Watches every key starting with `prefix` from `start_revision` (the
  // revision a get_prefix answered, plus one). Handlers run on the watch's
  // thread; they must not destroy the watch.
  EtcdWatch(std::vector<std::string> endpoints, std::string prefix, int64_t start_revision, Handler on_events,
            std::function<void()> on_lost, std::chrono::milliseconds idle_restart = std::chrono::milliseconds(10'000));
  ~EtcdWatch();  // stops (within ~100 ms) and joins
  EtcdWatch(const EtcdWatch&) = delete;
  EtcdWatch& operator=(const EtcdWatch&) = delete;

  // The revision the next event delivered will be at least.
  [[nodiscard]] int64_t next_revision() const { return next_revision_.load(); }
  // Connections opened so far (for tests: a resume after a failure is one more).
  [[nodiscard]] int connections() const { return connections_.load(); }

 private:
  void run();
  // One connection's life: true if it should be followed by another.
  bool follow(const std::string& endpoint);
  // Handles one line of the stream; false when the watch must end.
  bool handle_line(const std::string& line);

  std::vector<std::string> endpoints_;
  std::string prefix_;
  Handler on_events_;
  std::function<void()> on_lost_;
  std::chrono::milliseconds idle_restart_;
  std::atomic<int64_t> next_revision_;
  std::atomic<int> connections_{0};
  std::atomic<bool> stop_{false};
  bool lost_ = false;
  std::thread thread_;
};

}  // namespace crowd::cluster
