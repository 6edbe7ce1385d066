// Topology: what a router knows of its cluster -- the shard map and the
// serving replicas of every shard -- read from etcd once and then followed
// by a watch on the cluster's prefix (docs/cluster.md#control-plane-etcd).
//
// Readers take a snapshot (a shared_ptr to an immutable Layout): a request
// routes and fans out against one map version from start to end, while the
// watch thread swaps in the next one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cluster/etcd_client.h"
#include "cluster/etcd_watch.h"
#include "cluster/shard_map.h"

namespace crowd::router {

struct Replica {
  std::string url;        // "http://host:port"
  uint64_t position = 0;  // the stream sequence it had applied when it last said
};

struct Layout {
  cluster::ShardMap map;
  // Per shard (map.shards() of them): its registered replicas, by URL.
  std::vector<std::vector<Replica>> replicas;
};

class Topology {
 public:
  // Reads the map (creating version 1 with `shards` shards, by compare-and-
  // set, when the cluster has none yet: the first router to start places
  // the partitions) and the members, then starts the watch. nullptr with
  // `error` when etcd does not answer or the stored map is malformed.
  [[nodiscard]] static std::unique_ptr<Topology> start(const std::vector<std::string>& etcd, const std::string& name,
                                                       uint32_t shards, std::string& error);
  ~Topology();
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  [[nodiscard]] std::shared_ptr<const Layout> layout() const;

  // Waits up to `timeout` until every shard has at least one replica (a
  // router started with its cluster). False if some shard still has none.
  [[nodiscard]] bool wait_for_replicas(std::chrono::milliseconds timeout) const;

 private:
  Topology(std::vector<std::string> etcd, std::string name);
  // Re-reads everything (at start, and after the watch reports it lost events).
  [[nodiscard]] bool reload(std::string& error, int64_t& revision);
  void apply(const std::vector<cluster::EtcdEvent>& events);
  void publish(std::unique_ptr<Layout> next);

  std::vector<std::string> etcd_;
  std::string prefix_;
  cluster::EtcdClient client_;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::shared_ptr<const Layout> layout_;
  std::unique_ptr<cluster::EtcdWatch> watch_;
};

}  // namespace crowd::router
