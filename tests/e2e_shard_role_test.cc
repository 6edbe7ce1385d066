// crowdd as a cluster replica (--shard, server/shard_role.h) with real
// nats-server and etcd: it applies what is published to its shard's stream,
// announces every applied sequence, registers in etcd with its position,
// refuses client writes, and after a SIGKILL comes back on its data
// directory and applies only what it lacked -- ending with the same index
// as a single crowdd given the same writes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <chrono>
#include <thread>

#include "cluster/etcd_client.h"
#include "cluster/jetstream.h"
#include "cluster/names.h"
#include "index/write_batch.h"
#include "tests/support/e2e_util.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/eventually.h"
#include "tests/support/nats_cluster.h"
#include "tests/support/server_process.h"
#include "tests/support/tool_process.h"

namespace crowd::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

uint64_t count(const ServerProcess& s, const std::string& q) {
  const auto r = s.get("/v1/count?q=" + url_encode(q));
  if (r.status != 200) return UINT64_MAX;
  return json::parse(r.body)["count"].get<uint64_t>();
}

// One router's worth of publishing: batches of `n` users each tagged "w"
// and "b<k>", starting at user `first`.
void publish_batches(cluster::JetStream& js, const std::string& subject, int from, int to) {
  for (int k = from; k < to; ++k) {
    WriteBatch b;
    const uint32_t w = b.intern("w");
    std::string name = "b";
    name += std::to_string(k);
    const uint32_t tag = b.intern(name);
    for (UserId u = 0; u < 10; ++u) {
      const uint32_t tags[] = {w, tag};
      b.add(static_cast<UserId>(k) * 10 + u + 1, tags);
    }
    std::string bytes;
    b.encode(bytes);
    std::string error;
    std::string id = "batch-";
    id += std::to_string(k);
    ASSERT_TRUE(js.publish(subject, bytes, id, 10s, error)) << error;
  }
}

TEST(ShardRole, AppliesItsStreamRegistersRefusesWritesAndResumesAfterAKill) {
  CROWD_NEED_PROGRAM("nats-server");
  CROWD_NEED_PROGRAM("etcd");
  NatsCluster nats(1);
  ASSERT_TRUE(nats.ok()) << nats.log(0);
  EtcdCluster etcd(1);
  ASSERT_TRUE(etcd.ok()) << etcd.log(0);
  const std::string data = temp_dir("crowd-shard-role");
  const std::vector<std::string> args = {"--data-dir", data,     "--cluster",    "t",      "--shard",
                                         "2",          "--nats", nats.urls()[0], "--etcd", etcd.endpoint(0)};
  auto shard = std::make_unique<ServerProcess>(args);
  ASSERT_TRUE(shard->ok()) << shard->log();

  std::string error;
  auto js = cluster::JetStream::connect(nats.urls(), error);
  ASSERT_NE(js, nullptr) << error;
  // The stream exists before anything is published, as a router makes sure
  // (the replica makes it too, once JetStream answers).
  const std::string subject = cluster::shard_subject("t", 2);
  ASSERT_TRUE(js->ensure_stream({cluster::shard_stream("t", 2), subject, 1, 600s}, error)) << error;
  publish_batches(*js, subject, 0, 30);
  ASSERT_TRUE(eventually([&] { return count(*shard, "w") == 300; })) << shard->log();
  EXPECT_EQ(count(*shard, "b7"), 10u);

  // Registered in etcd under its lease, with its position.
  cluster::EtcdClient etcd_client(etcd.endpoints());
  ASSERT_TRUE(eventually([&] {
    const auto members = etcd_client.get_prefix(cluster::etcd_prefix("t") + "members/shard-2/");
    if (!members.ok() || members->kvs.size() != 1) return false;
    const json v = json::parse(members->kvs[0].value);
    return v["role"] == "shard" && v["shard"] == 2 && v["position"] == 30;
  }));

  // Client writes are refused; reads and snapshots are not.
  const auto write = shard->post("/v1/assign", R"({"add": [{"id": 1, "tags": ["x"]}]})");
  EXPECT_EQ(write.status, 409);
  EXPECT_EQ(json::parse(write.body)["error"]["code"], "read_only_replica") << write.body;
  EXPECT_EQ(shard->post("/v1/admin/snapshot", "").status, 200);
  EXPECT_EQ(count(*shard, "x"), UINT64_MAX) << "the refused write created no tag";

  // SIGKILL, more writes meanwhile, then a restart on the same directory.
  ASSERT_EQ(shard->stop(SIGKILL), 128 + SIGKILL);
  publish_batches(*js, subject, 30, 50);
  shard = std::make_unique<ServerProcess>(args);
  ASSERT_TRUE(shard->ok()) << shard->log();
  ASSERT_TRUE(eventually([&] { return count(*shard, "w") == 500; })) << shard->log();
  for (const char* t : {"b0", "b29", "b30", "b49"}) EXPECT_EQ(count(*shard, t), 10u) << t;
  EXPECT_NE(shard->log().find("applying from stream position 31"), std::string::npos) << shard->log();

  // The same writes given to a single crowdd make the same crowd sizes.
  ServerProcess single({});
  ASSERT_TRUE(single.ok()) << single.log();
  std::string ndjson;
  for (UserId u = 1; u <= 500; ++u) {
    ndjson += R"({"id": )" + std::to_string(u) + R"(, "tags": ["w", "b)" + std::to_string((u - 1) / 10) + "\"]}\n";
  }
  ASSERT_EQ(single.post("/v1/ingest", ndjson, "application/x-ndjson").status, 200);
  for (const char* q : {"w", "b3 OR b41", "w AND NOT (b1 OR b2)"}) EXPECT_EQ(count(*shard, q), count(single, q)) << q;
}

TEST(ShardRole, IncompleteOrBadClusterFlagsRefuseToStart) {
  const std::string crowdd = std::string(CROWD_BINARY_DIR) + "/crowdd";
  const std::string data = temp_dir("crowd-shard-flags");
  const struct {
    std::vector<std::string> args;
    const char* says;
  } cases[] = {
      {{"--shard", "1"}, "--shard needs --cluster NAME and --nats URL"},
      {{"--shard", "1", "--cluster", "t", "--nats", "nats://127.0.0.1:1"}, "--shard needs --data-dir"},
      {{"--shard", "1", "--cluster", "t.x", "--nats", "nats://127.0.0.1:1", "--data-dir", data}, "only letters"},
      {{"--cluster", "t"}, "give --shard K or --router too"},
      {{"--router", "--cluster", "t", "--nats", "nats://127.0.0.1:1"}, "--router needs --cluster NAME, --nats URL and --etcd EP"},
      {{"--router", "--shard", "1", "--cluster", "t", "--nats", "nats://127.0.0.1:1"}, "two roles"},
      {{"--router", "--cluster", "t", "--nats", "nats://127.0.0.1:1", "--etcd", "127.0.0.1:1", "--demo"}, "holds no data"},
      {{"--router", "--cluster", "t", "--nats", "nats://127.0.0.1:1", "--etcd", "127.0.0.1:1", "--shards", "0"}, "--shards must be 1..4096"},
      {{"--shard", "4096"}, "--shard must be 0..4095"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {crowdd};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    const ToolRun r = run_tool(argv);
    EXPECT_EQ(r.exit_code, 2) << c.says;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
  // No NATS answering: the replica says so and exits, rather than serve stale.
  const ToolRun r = run_tool(
      {crowdd, "--shard", "1", "--cluster", "t", "--nats", "nats://127.0.0.1:1", "--data-dir", data, "--port", "0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot start as a replica of shard 1 of cluster t"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace crowd::test
