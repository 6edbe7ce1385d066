// The control plane's etcd client (cluster/etcd_client.h) against a real
// etcd (Debian's etcd-server, started by the test on loopback): keys,
// prefixes, compare-and-set, leases that expire, and a call that survives
// the loss of the leader of a 3-member cluster.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "cluster/base64.h"
#include "cluster/etcd_client.h"
#include "tests/support/etcd_cluster.h"

namespace crowd::cluster {
namespace {

using namespace std::chrono_literals;
using test::EtcdCluster;

TEST(Base64, KnownVectorsAndBinaryRoundTrip) {
  // RFC 4648, section 10.
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode("Zg==").value(), "f");
  EXPECT_EQ(base64_decode("Zm8=").value(), "fo");
  EXPECT_EQ(base64_decode("Zm9vYmFy").value(), "foobar");
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  EXPECT_EQ(base64_decode(base64_encode(bytes)).value(), bytes);
  EXPECT_FALSE(base64_decode("Zm9").has_value());
  EXPECT_FALSE(base64_decode("Zm9*").has_value());
}

TEST(PrefixRangeEnd, IncrementsTheLastByteCarryingOver0xff) {
  EXPECT_EQ(prefix_range_end("a"), "b");
  EXPECT_EQ(prefix_range_end("/crowd/"), "/crowd0");
  EXPECT_EQ(prefix_range_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_range_end(""), std::string(1, '\0'));
}

class EtcdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CROWD_NEED_PROGRAM("etcd");
    etcd_ = std::make_unique<EtcdCluster>(1);
    ASSERT_TRUE(etcd_->ok()) << etcd_->log(0);
  }
  std::unique_ptr<EtcdCluster> etcd_;
};

TEST_F(EtcdClientTest, PutGetPrefixAndRemove) {
  EtcdClient c(etcd_->endpoints());
  ASSERT_TRUE(c.put("/t/a", "1").ok());
  ASSERT_TRUE(c.put("/t/b", std::string("\0\xff", 2)).ok());
  ASSERT_TRUE(c.put("/u/c", "3").ok());
  const auto a = c.get("/t/a");
  ASSERT_TRUE(a.ok()) << a.error;
  ASSERT_EQ(a->kvs.size(), 1u);
  EXPECT_EQ(a->kvs[0].value, "1");
  EXPECT_GT(a->kvs[0].mod_revision, 0);
  const auto t = c.get_prefix("/t/");
  ASSERT_TRUE(t.ok()) << t.error;
  ASSERT_EQ(t->kvs.size(), 2u);
  EXPECT_EQ(t->kvs[0].key, "/t/a");
  EXPECT_EQ(t->kvs[1].key, "/t/b");
  EXPECT_EQ(t->kvs[1].value, std::string("\0\xff", 2));
  EXPECT_TRUE(c.get("/none")->kvs.empty());
  EXPECT_TRUE(*c.remove("/t/a"));
  EXPECT_FALSE(*c.remove("/t/a"));
  EXPECT_TRUE(c.get("/t/a")->kvs.empty());
}

TEST_F(EtcdClientTest, CreateOnlyOnceAndReplaceOnlyFromTheRevisionRead) {
  EtcdClient c(etcd_->endpoints());
  EXPECT_TRUE(*c.create("/map", "v1"));
  EXPECT_FALSE(*c.create("/map", "other"));
  const auto read = c.get("/map");
  ASSERT_EQ(read->kvs.size(), 1u);
  const int64_t rev = read->kvs[0].mod_revision;
  EXPECT_TRUE(*c.replace("/map", "v2", rev));
  // A second writer that read the same revision loses.
  EXPECT_FALSE(*c.replace("/map", "v2-other", rev));
  EXPECT_EQ(c.get("/map")->kvs[0].value, "v2");
}

TEST_F(EtcdClientTest, LeasedKeysGoWhenTheLeaseIsRevokedOrExpires) {
  EtcdClient c(etcd_->endpoints());
  const auto kept = c.grant(2);
  ASSERT_TRUE(kept.ok()) << kept.error;
  EXPECT_EQ(kept->ttl, 2);
  const auto dropped = c.grant(1);
  ASSERT_TRUE(dropped.ok());
  ASSERT_TRUE(c.put("/members/kept", "x", kept->id).ok());
  ASSERT_TRUE(c.put("/members/dropped", "y", dropped->id).ok());
  EXPECT_EQ(c.get("/members/kept")->kvs[0].lease, kept->id);
  // Keep one alive for 3 s, past both TTLs; let the other lapse.
  const auto until = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < until) {
    const auto ttl = c.keepalive(kept->id);
    ASSERT_TRUE(ttl.ok()) << ttl.error;
    EXPECT_GT(*ttl, 0);
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_EQ(c.get("/members/kept")->kvs.size(), 1u);
  EXPECT_TRUE(c.get("/members/dropped")->kvs.empty());
  EXPECT_EQ(*c.keepalive(dropped->id), 0) << "an expired lease renews to 0";
  EXPECT_TRUE(*c.revoke(kept->id));
  EXPECT_TRUE(c.get("/members/kept")->kvs.empty());
}

TEST(EtcdClientFailover, CallsGoOnAfterTheLeaderIsKilled) {
  CROWD_NEED_PROGRAM("etcd");
  EtcdCluster etcd(3);
  ASSERT_TRUE(etcd.ok()) << etcd.log(0);
  EtcdClient c(etcd.endpoints(), 500ms);
  ASSERT_TRUE(c.put("/before", "1").ok());
  const int leader = etcd.leader();
  ASSERT_GE(leader, 0);
  etcd.kill(leader);
  const auto killed = std::chrono::steady_clock::now();
  // Calls fail until a new leader is elected; bounded at 15 s.
  bool written = false;
  while (!written && std::chrono::steady_clock::now() - killed < 15s) {
    written = c.put("/after", "2").ok();
    if (!written) std::this_thread::sleep_for(50ms);
  }
  const auto stalled = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  std::printf("etcd leader killed: writes answered again after %.2f s\n", stalled);
  ASSERT_TRUE(written);
  EXPECT_EQ(c.get("/before")->kvs[0].value, "1");
  EXPECT_EQ(c.get("/after")->kvs[0].value, "2");
  ASSERT_TRUE(etcd.restart(leader));
}

}  // namespace
}  // namespace crowd::cluster
