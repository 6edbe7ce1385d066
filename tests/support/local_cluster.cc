#include "tests/support/local_cluster.h"

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "tests/support/server_process.h"
#include "tests/support/tool_process.h"

namespace crowd::test {
namespace {

std::string script() { return std::string(CROWD_SOURCE_DIR) + "/scripts/local-cluster.sh"; }

}  // namespace

bool process_running(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  // /proc/PID/stat: "pid (comm) state ..."; comm may hold spaces, so after the last ')'.
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'Z';
}

int ClusterProcess::port() const {
  const auto colon = url.rfind(':');
  return colon == std::string::npos ? 0 : std::atoi(url.c_str() + colon + 1);
}

LocalCluster::LocalCluster(LocalClusterOptions options) : dir_(temp_dir("crowd-cluster")) {
  ::setenv("CROWDD", (std::string(CROWD_BINARY_DIR) + "/crowdd").c_str(), 1);
  ::setenv("SHARDS", std::to_string(options.shards).c_str(), 1);
  ::setenv("REPLICAS", std::to_string(options.replicas).c_str(), 1);
  ::setenv("ROUTERS", std::to_string(options.routers).c_str(), 1);
  ::setenv("ROUTER_FLAGS", options.router_flags.c_str(), 1);
  ::setenv("SHARD_FLAGS", options.shard_flags.c_str(), 1);
  const ToolRun started = run_tool({"/bin/bash", script(), "start", dir_});
  output_ = started.out + started.err;
  ok_ = started.exit_code == 0;
  // "    <pid> <name> <url>" lines.
  std::istringstream lines(started.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    long pid = 0;
    ClusterProcess p;
    if (!(fields >> pid >> p.name >> p.url) || pid <= 0) continue;
    p.pid = static_cast<pid_t>(pid);
    processes_.push_back(std::move(p));
  }
}

LocalCluster::~LocalCluster() {
  stop();
  std::error_code ignored;
  // CROWD_KEEP_CLUSTER=1 keeps the directory (every process's log) to look at a failure.
  if (std::getenv("CROWD_KEEP_CLUSTER") == nullptr) std::filesystem::remove_all(dir_, ignored);
}

bool LocalCluster::stop() {
  if (stopped_) return true;
  stopped_ = true;
  return run_tool({"/bin/bash", script(), "stop", dir_}).exit_code == 0;
}

std::vector<ClusterProcess> LocalCluster::named(std::string_view prefix) const {
  std::vector<ClusterProcess> out;
  for (const auto& p : processes_) {
    if (std::string_view(p.name).starts_with(prefix)) out.push_back(p);
  }
  return out;
}

std::vector<std::string> LocalCluster::etcd_endpoints() const {
  std::vector<std::string> out;
  for (const auto& p : named("etcd")) out.push_back(p.url.substr(std::string("http://").size()));
  return out;
}

std::vector<std::string> LocalCluster::nats_urls() const {
  std::vector<std::string> out;
  for (const auto& p : named("nats")) out.push_back(p.url);
  return out;
}

std::string LocalCluster::log_of(const ClusterProcess& p) const {
  std::string file = p.name;
  // shardK-replicaR.log is written as shardK-R.log
  if (const auto at = file.find("-replica"); at != std::string::npos) file.erase(at + 1, 7);
  return read_file(dir_ + "/" + file + ".log");
}

}  // namespace crowd::test
