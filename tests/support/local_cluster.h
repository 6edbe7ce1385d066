// LocalCluster: scripts/local-cluster.sh driven from a test -- a whole
// cluster on loopback (3 etcd, 3 nats-server, shards x replicas, routers)
// in a scratch directory, stopped and removed when the object goes. The
// processes it printed (pid, name, URL) are there to signal and to talk to.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace crowd::test {

struct ClusterProcess {
  pid_t pid = -1;
  std::string name;  // etcd0, nats1, shard2-replica0, router1, ...
  std::string url;   // http://127.0.0.1:PORT (nats://... for NATS)
  [[nodiscard]] int port() const;
};

// Whether `pid` runs: exists and is not a zombie (the script's processes
// outlive the shell that started them, and are reaped by init later).
[[nodiscard]] bool process_running(pid_t pid);

struct LocalClusterOptions {
  unsigned shards = 4;
  unsigned replicas = 2;
  unsigned routers = 2;
  std::string router_flags;  // extra flags, space-separated
  std::string shard_flags;
};

class LocalCluster {
 public:
  explicit LocalCluster(LocalClusterOptions options = {});
  ~LocalCluster();  // stops everything and removes the directory
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  // Whether the start succeeded; output() has the script's words either way.
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] const std::string& output() const { return output_; }
  [[nodiscard]] const std::string& dir() const { return dir_; }
  [[nodiscard]] const std::vector<ClusterProcess>& processes() const { return processes_; }
  // The processes whose names start with `prefix` ("router", "shard1-", "etcd").
  [[nodiscard]] std::vector<ClusterProcess> named(std::string_view prefix) const;
  // Every etcd member as host:port, and every NATS URL.
  [[nodiscard]] std::vector<std::string> etcd_endpoints() const;
  [[nodiscard]] std::vector<std::string> nats_urls() const;
  // A process's log (DIR/<name>.log; replicas' are shardK-R.log).
  [[nodiscard]] std::string log_of(const ClusterProcess& p) const;
  // Stops every process (the script's stop); true if it ran cleanly.
  bool stop();

 private:
  std::string dir_;
  std::string output_;
  bool ok_ = false;
  bool stopped_ = false;
  std::vector<ClusterProcess> processes_;
};

}  // namespace crowd::test
