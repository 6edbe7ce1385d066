// A process's presence in the cluster (docs/cluster.md#control-plane-etcd):
// its key under members/ bound to an etcd lease that a thread of its own
// keeps alive. A process that stops renewing -- killed, stopped, cut off --
// loses the key within the lease's TTL, and every watcher of the prefix
// sees it go. If the lease is lost while the process lives (etcd unreachable
// for longer than the TTL), the thread grants a new one and writes the key
// again as soon as etcd answers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace crowd::cluster {

class Membership {
 public:
  // Registers `key` = `value` under a lease of `ttl_seconds` (>= 1), renewed
  // every third of it. Returns at once; registered() tells when it took.
  Membership(std::vector<std::string> endpoints, std::string key, std::string value, int64_t ttl_seconds = 5);
  // Revokes the lease, so the key goes at once rather than at expiry.
  ~Membership();
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // The key was written under a live lease at the last renewal.
  [[nodiscard]] bool registered() const { return registered_.load(); }
  // Times the key was (re)written under a new lease.
  [[nodiscard]] int registrations() const { return registrations_.load(); }
  // Writes a new value under the same lease (at the next renewal, within a
  // third of the TTL).
  void update(std::string value);
  [[nodiscard]] std::string last_error() const;

 private:
  void run();

  std::vector<std::string> endpoints_;
  std::string key_;
  int64_t ttl_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::string value_;        // guarded by mu_
  bool value_dirty_ = true;  // guarded by mu_
  bool stop_ = false;        // guarded by mu_
  std::string last_error_;   // guarded by mu_
  std::atomic<bool> registered_{false};
  std::atomic<int> registrations_{0};
  std::thread thread_;
};

}  // namespace crowd::cluster
