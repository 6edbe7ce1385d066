// The control plane's pieces against a real etcd: the shard map (its JSON,
// its checks, compare-and-set of its versions) and membership by leases
// (the key is there while the process lives, re-registered if the lease is
// lost, gone at once when the process leaves).
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "cluster/etcd_client.h"
#include "cluster/membership.h"
#include "cluster/shard_map.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/eventually.h"

namespace crowd::cluster {
namespace {

using namespace std::chrono_literals;
using test::eventually;

TEST(ShardMapTest, InitialMapCoversEveryPartitionOnceInNearEqualRanges) {
  const ShardMap m = ShardMap::initial(3);
  EXPECT_EQ(m.version(), 1u);
  EXPECT_EQ(m.shards(), 3u);
  std::size_t total = 0;
  for (ShardId s = 0; s < 3; ++s) {
    const auto parts = m.partitions_of(s);
    EXPECT_GE(parts.size(), kPartitions / 3);
    EXPECT_LE(parts.size(), kPartitions / 3 + 1);
    for (const Partition p : parts) EXPECT_EQ(m.shard_of(p), s);
    total += parts.size();
  }
  EXPECT_EQ(total, kPartitions);
}

TEST(ShardMapTest, JsonRoundTripsMovesIncluded) {
  const ShardMap moved = ShardMap::initial(4).with_partition_on(5, 3);
  std::string error;
  const auto back = ShardMap::parse(moved.to_json(), error);
  ASSERT_TRUE(back.has_value()) << error;
  EXPECT_EQ(back->version(), 2u);
  EXPECT_EQ(back->shard_of(5), 3);
  EXPECT_EQ(back->shard_of(4), 0);
  EXPECT_EQ(back->shard_of(6), 0);
  for (uint32_t p = 0; p < kPartitions; ++p)
    EXPECT_EQ(back->shard_of(static_cast<Partition>(p)), moved.shard_of(static_cast<Partition>(p)));
}

TEST(ShardMapTest, RefusesMapsThatLoseOrDoublePartitions) {
  std::string error;
  EXPECT_FALSE(ShardMap::parse("[]", error).has_value());
  EXPECT_FALSE(ShardMap::parse(R"({"version":1,"partitions":4096,"shards":[{"id":0,"ranges":[[0,4095]]}]})", error));
  EXPECT_NE(error.find("partition 4095 belongs to no shard"), std::string::npos) << error;
  EXPECT_FALSE(ShardMap::parse(
      R"({"version":1,"partitions":4096,"shards":[{"id":0,"ranges":[[0,4096]]},{"id":1,"ranges":[[10,11]]}]})", error));
  EXPECT_NE(error.find("partition 10 is in two ranges"), std::string::npos) << error;
  EXPECT_FALSE(ShardMap::parse(R"({"version":1,"partitions":1024,"shards":[{"id":0,"ranges":[[0,1024]]}]})", error));
  EXPECT_FALSE(ShardMap::parse(R"({"version":1,"partitions":4096,"shards":[{"id":0,"ranges":[[5,2]]}]})", error));
  EXPECT_FALSE(ShardMap::parse(R"({"version":"x"})", error));
  EXPECT_TRUE(ShardMap::parse(R"({"version":7,"partitions":4096,"shards":[{"id":0,"ranges":[[0,4096]]}]})", error))
      << error;
}

class ControlPlane : public ::testing::Test {
 protected:
  void SetUp() override {
    CROWD_NEED_PROGRAM("etcd");
    etcd_ = std::make_unique<test::EtcdCluster>(1);
    ASSERT_TRUE(etcd_->ok()) << etcd_->log(0);
  }
  std::unique_ptr<test::EtcdCluster> etcd_;
};

// Two controllers read version 1 and both try to publish their version 2:
// exactly one wins, and the loser, re-reading, sees the winner's map.
TEST_F(ControlPlane, ShardMapChangesOnlyByCompareAndSet) {
  EtcdClient a(etcd_->endpoints());
  EtcdClient b(etcd_->endpoints());
  ASSERT_TRUE(*a.create("/crowd/t/map", ShardMap::initial(2).to_json()));
  const auto read_a = a.get("/crowd/t/map");
  const auto read_b = b.get("/crowd/t/map");
  std::string error;
  const auto map_a = ShardMap::parse(read_a->kvs[0].value, error);
  ASSERT_TRUE(map_a) << error;
  const bool a_won = *a.replace("/crowd/t/map", map_a->with_partition_on(0, 1).to_json(), read_a->kvs[0].mod_revision);
  const bool b_won = *b.replace("/crowd/t/map", map_a->with_partition_on(1, 1).to_json(), read_b->kvs[0].mod_revision);
  EXPECT_TRUE(a_won);
  EXPECT_FALSE(b_won);
  const auto now = ShardMap::parse(b.get("/crowd/t/map")->kvs[0].value, error);
  ASSERT_TRUE(now) << error;
  EXPECT_EQ(now->version(), 2u);
  EXPECT_EQ(now->shard_of(0), 1);
  EXPECT_EQ(now->shard_of(1), 0);
}

TEST_F(ControlPlane, MembershipRegistersUpdatesAndLeaves) {
  EtcdClient c(etcd_->endpoints());
  {
    Membership m(etcd_->endpoints(), "/crowd/t/members/s0r0", R"({"shard":0})", 3);
    ASSERT_TRUE(eventually([&] { return m.registered(); })) << m.last_error();
    auto kv = c.get("/crowd/t/members/s0r0");
    ASSERT_EQ(kv->kvs.size(), 1u);
    EXPECT_EQ(kv->kvs[0].value, R"({"shard":0})");
    EXPECT_NE(kv->kvs[0].lease, 0);
    m.update(R"({"shard":0,"applied":5})");
    EXPECT_TRUE(
        eventually([&] { return c.get("/crowd/t/members/s0r0")->kvs.at(0).value == R"({"shard":0,"applied":5})"; }));
    // Kept past several TTLs.
    std::this_thread::sleep_for(4s);
    EXPECT_EQ(c.get("/crowd/t/members/s0r0")->kvs.size(), 1u);
    EXPECT_EQ(m.registrations(), 1);
  }
  // Leaving revokes the lease: the key goes at once, not at expiry.
  EXPECT_TRUE(c.get("/crowd/t/members/s0r0")->kvs.empty());
}

TEST_F(ControlPlane, MembershipComesBackAfterItsLeaseIsLost) {
  EtcdClient c(etcd_->endpoints());
  Membership m(etcd_->endpoints(), "/crowd/t/members/r1", "router", 3);
  ASSERT_TRUE(eventually([&] { return m.registered(); }));
  // Someone (an operator, or etcd after a long partition) ends the lease.
  const int64_t lease = c.get("/crowd/t/members/r1")->kvs.at(0).lease;
  ASSERT_TRUE(*c.revoke(lease));
  EXPECT_TRUE(c.get("/crowd/t/members/r1")->kvs.empty());
  // Within a renewal period (1 s) plus slack the key is back under a new lease.
  ASSERT_TRUE(eventually([&] { return c.get("/crowd/t/members/r1")->kvs.size() == 1; }, 5s));
  EXPECT_NE(c.get("/crowd/t/members/r1")->kvs.at(0).lease, lease);
  EXPECT_EQ(m.registrations(), 2);
}

}  // namespace
}  // namespace crowd::cluster
