// scripts/local-cluster.sh: one command starts 3 etcd, 3 nats-server,
// 4 shards x 2 replicas and 2 routers on loopback and prints every pid;
// every replica registers in etcd, every router answers; the stop command
// leaves no process behind.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

#include "cluster/etcd_client.h"
#include "cluster/names.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/eventually.h"
#include "tests/support/local_cluster.h"
#include "tests/support/server_process.h"
#include "tests/support/tool_process.h"

namespace crowd::test {
namespace {

using namespace std::chrono_literals;

TEST(LocalCluster, StartsEveryProcessAndStopsThemAll) {
  CROWD_NEED_PROGRAM("nats-server");
  CROWD_NEED_PROGRAM("etcd");
  const std::string dir = temp_dir("crowd-local-cluster");
  const std::string script = std::string(CROWD_SOURCE_DIR) + "/scripts/local-cluster.sh";
  ::setenv("CROWDD", (std::string(CROWD_BINARY_DIR) + "/crowdd").c_str(), 1);
  const ToolRun started = run_tool({"/bin/bash", script, "start", dir});
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;

  // "    <pid> <name> <url>" lines: 3 etcd, 3 nats, 8 replicas, 2 routers.
  std::vector<pid_t> pids;
  std::vector<int> router_ports;
  std::string etcd_endpoint;
  std::istringstream lines(started.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    long pid = 0;
    std::string name, url;
    if (!(fields >> pid >> name >> url) || pid <= 0) continue;
    pids.push_back(static_cast<pid_t>(pid));
    if (name == "etcd0") etcd_endpoint = url.substr(std::string("http://").size());
    if (name.starts_with("router")) router_ports.push_back(std::stoi(url.substr(url.rfind(':') + 1)));
  }
  ASSERT_EQ(pids.size(), 16u) << started.out;
  ASSERT_EQ(router_ports.size(), 2u) << started.out;
  for (const pid_t p : pids) EXPECT_TRUE(process_running(p)) << "pid " << p << " is not running";

  cluster::EtcdClient etcd({etcd_endpoint});
  std::size_t members = 0;
  eventually(
      [&] {
        const auto r = etcd.get_prefix(cluster::etcd_prefix("local") + "members/");
        members = r.ok() ? r->kvs.size() : 0;
        return members >= 8;
      },
      20s);
  EXPECT_EQ(members, 8u) << "every replica registers";
  // The script waited for the routers; each sees all 4 shards answering.
  for (const int port : router_ports) {
    const auto health = HttpConnection(port).get("/healthz");
    EXPECT_EQ(health.status, 200) << health.body;
    EXPECT_NE(health.body.find("\"role\":\"router\""), std::string::npos) << health.body;
    EXPECT_EQ(std::count(health.body.begin(), health.body.end(), '{'), 5) << "4 shards: " << health.body;
  }

  const ToolRun stopped = run_tool({"/bin/bash", script, "stop", dir});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  for (const pid_t p : pids) EXPECT_FALSE(process_running(p)) << "pid " << p << " outlived stop";
  EXPECT_NE(run_tool({"/bin/bash", script, "stop", dir}).exit_code, 0) << "nothing left to stop";
}

}  // namespace
}  // namespace crowd::test
