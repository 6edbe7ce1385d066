// crowdd as one replica of one shard of a cluster (docs/cluster.md), with
// --shard K --cluster NAME --nats URLS [--etcd EPS]: a thread applies the
// shard's write stream to the Store (cluster/shard_applier.h), announces
// each applied sequence on core NATS for the routers waiting to acknowledge
// a write, and keeps the replica registered in etcd with its position. The
// HTTP API serves reads as ever and refuses client writes (Api: the replica
// option), since a replica changes only by its stream.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "index/store.h"
#include "server/config.h"

namespace crowd::cluster {
class JetStream;
class Membership;
}  // namespace crowd::cluster

namespace crowd::server {

class ShardRole {
 public:
  // Connects to NATS and starts applying (the thread first makes sure the
  // shard's stream exists, waiting while JetStream elects its leaders).
  // `url`: this replica's HTTP address, its identity in the cluster.
  // nullptr with `error` when no NATS server answers.
  [[nodiscard]] static std::unique_ptr<ShardRole> start(Store& store, const ClusterConfig& cluster,
                                                        const std::string& url, std::string& error);
  ~ShardRole();  // stops applying and leaves the cluster (the membership key goes at once)
  ShardRole(const ShardRole&) = delete;
  ShardRole& operator=(const ShardRole&) = delete;

  // "replica of shard K of cluster NAME", for logs.
  [[nodiscard]] std::string description() const;

 private:
  ShardRole(Store& store, ClusterConfig cluster, std::string url);
  void run();

  Store& store_;
  ClusterConfig cluster_;
  std::string url_;
  std::unique_ptr<cluster::JetStream> js_;
  std::unique_ptr<cluster::Membership> membership_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace crowd::server
