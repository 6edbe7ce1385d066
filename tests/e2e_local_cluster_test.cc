// scripts/local-cluster.sh: one command starts 3 etcd, 3 nats-server and
// 4 shards x 2 replicas on loopback and prints every pid; every replica
// registers in etcd; the stop command leaves no process behind.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "cluster/etcd_client.h"
#include "cluster/names.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/eventually.h"
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

  // "    <pid> <name> <url>" lines: 3 etcd, 3 nats, 8 replicas.
  std::vector<pid_t> pids;
  std::string etcd_endpoint;
  std::istringstream lines(started.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    long pid = 0;
    std::string name, url;
    if (!(fields >> pid >> name >> url) || pid <= 0) continue;
    pids.push_back(static_cast<pid_t>(pid));
    if (name == "etcd0") etcd_endpoint = url.substr(std::string("http://").size());
  }
  ASSERT_EQ(pids.size(), 14u) << started.out;
  for (const pid_t p : pids) EXPECT_EQ(::kill(p, 0), 0) << "pid " << p << " is not running";

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

  const ToolRun stopped = run_tool({"/bin/bash", script, "stop", dir});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  std::this_thread::sleep_for(200ms);
  for (const pid_t p : pids) EXPECT_NE(::kill(p, 0), 0) << "pid " << p << " outlived stop";
  EXPECT_NE(run_tool({"/bin/bash", script, "stop", dir}).exit_code, 0) << "nothing left to stop";
}

}  // namespace
}  // namespace crowd::test
