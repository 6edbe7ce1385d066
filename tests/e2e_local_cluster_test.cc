// scripts/local-cluster.sh: one command starts 3 etcd, 3 nats-server,
// 4 shards x 2 replicas and 2 routers on loopback and prints every pid;
// every replica registers in etcd, every router answers; the stop command
// leaves no process behind. (LocalCluster runs the script and reads the
// lines it prints; its destructor stops the cluster whatever fails first.)
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>

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
  LocalCluster cluster;
  ASSERT_TRUE(cluster.ok()) << cluster.output();
  // "    <pid> <name> <url>" lines: 3 etcd, 3 nats, 8 replicas, 2 routers.
  ASSERT_EQ(cluster.processes().size(), 16u) << cluster.output();
  ASSERT_EQ(cluster.named("etcd").size(), 3u);
  ASSERT_EQ(cluster.named("nats").size(), 3u);
  ASSERT_EQ(cluster.named("shard").size(), 8u);
  ASSERT_EQ(cluster.named("router").size(), 2u);
  for (const auto& p : cluster.processes()) EXPECT_TRUE(process_running(p.pid)) << p.name << " is not running";

  cluster::EtcdClient etcd(cluster.etcd_endpoints());
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
  for (const auto& router : cluster.named("router")) {
    const auto health = HttpConnection(router.port()).get("/healthz");
    EXPECT_EQ(health.status, 200) << health.body;
    EXPECT_NE(health.body.find("\"role\":\"router\""), std::string::npos) << health.body;
    EXPECT_EQ(std::count(health.body.begin(), health.body.end(), '{'), 5) << "4 shards: " << health.body;
  }

  EXPECT_TRUE(cluster.stop());
  for (const auto& p : cluster.processes()) EXPECT_FALSE(process_running(p.pid)) << p.name << " outlived stop";
  const std::string script = std::string(CROWD_SOURCE_DIR) + "/scripts/local-cluster.sh";
  EXPECT_NE(run_tool({"/bin/bash", script, "stop", cluster.dir()}).exit_code, 0) << "nothing left to stop";
}

}  // namespace
}  // namespace crowd::test
