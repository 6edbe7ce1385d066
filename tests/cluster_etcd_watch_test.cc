// Following a prefix (cluster/etcd_watch.h) against a real etcd: every put
// and delete under the prefix is delivered once, in revision order, nothing
// outside it; the watch resumes on another member after the one it reads
// from is SIGKILLed, without losing or repeating an event; and a watch whose
// start was compacted away says so.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "cluster/etcd_client.h"
#include "cluster/etcd_watch.h"
#include "cluster/http_client.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/eventually.h"

namespace crowd::cluster {
namespace {

using namespace std::chrono_literals;
using test::EtcdCluster;

// "/r/<i>", appended: GCC 12 warns falsely (-Wrestrict) on "/r/" + std::to_string(i).
std::string key(int i) {
  std::string k = "/r/";
  k += std::to_string(i);
  return k;
}

// What a watch delivered, for the test thread to wait on.
struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<EtcdEvent> events;
  bool lost = false;

  void add(const std::vector<EtcdEvent>& batch) {
    std::lock_guard lock(mu);
    events.insert(events.end(), batch.begin(), batch.end());
    cv.notify_all();
  }
  bool wait_for(std::size_t n, std::chrono::seconds limit = 15s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, limit, [&] { return events.size() >= n || lost; }) && events.size() >= n;
  }
};

TEST(EtcdWatchTest, DeliversPutsAndDeletesUnderThePrefixInOrder) {
  CROWD_NEED_PROGRAM("etcd");
  EtcdCluster etcd(1);
  ASSERT_TRUE(etcd.ok()) << etcd.log(0);
  EtcdClient c(etcd.endpoints());
  ASSERT_TRUE(c.put("/w/before", "0").ok());
  const auto start = c.get_prefix("/w/");
  ASSERT_TRUE(start.ok());
  Seen seen;
  EtcdWatch watch(
      etcd.endpoints(), "/w/", start->revision + 1, [&](const auto& b) { seen.add(b); }, nullptr);
  ASSERT_TRUE(c.put("/w/a", "1").ok());
  ASSERT_TRUE(c.put("/other", "x").ok());
  ASSERT_TRUE(c.put("/w/b", "2").ok());
  ASSERT_TRUE(c.remove("/w/a").ok());
  ASSERT_TRUE(seen.wait_for(3));
  std::this_thread::sleep_for(300ms);  // nothing else may come
  std::lock_guard lock(seen.mu);
  ASSERT_EQ(seen.events.size(), 3u);
  EXPECT_EQ(seen.events[0].kv.key, "/w/a");
  EXPECT_EQ(seen.events[0].kv.value, "1");
  EXPECT_FALSE(seen.events[0].deleted);
  EXPECT_EQ(seen.events[1].kv.key, "/w/b");
  EXPECT_EQ(seen.events[2].kv.key, "/w/a");
  EXPECT_TRUE(seen.events[2].deleted);
  EXPECT_LT(seen.events[0].kv.mod_revision, seen.events[1].kv.mod_revision);
  EXPECT_LT(seen.events[1].kv.mod_revision, seen.events[2].kv.mod_revision);
}

TEST(EtcdWatchTest, ResumesOnAnotherMemberWithoutLossOrRepeats) {
  CROWD_NEED_PROGRAM("etcd");
  EtcdCluster etcd(3);
  ASSERT_TRUE(etcd.ok()) << etcd.log(0);
  // The watch reads from member 0 first; writes go through the others.
  EtcdClient c({etcd.endpoint(1), etcd.endpoint(2)}, 1000ms);
  const auto start = c.get_prefix("/r/");
  ASSERT_TRUE(start.ok()) << start.error;
  Seen seen;
  EtcdWatch watch(
      etcd.endpoints(), "/r/", start->revision + 1, [&](const auto& b) { seen.add(b); }, nullptr, 2000ms);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(c.put(key(i), "v").ok());
  ASSERT_TRUE(seen.wait_for(20));
  etcd.kill(0);
  // Writes go on while the watch finds another member (bounded).
  for (int i = 20; i < 40; ++i) ASSERT_TRUE(test::eventually([&] { return c.put(key(i), "v").ok(); }, 10s, 50ms));
  ASSERT_TRUE(seen.wait_for(40)) << "delivered " << seen.events.size() << " of 40";
  std::this_thread::sleep_for(300ms);
  std::lock_guard lock(seen.mu);
  ASSERT_EQ(seen.events.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(seen.events[static_cast<std::size_t>(i)].kv.key, key(i));
  EXPECT_GE(watch.connections(), 2);
}

TEST(EtcdWatchTest, SaysSoWhenItsStartWasCompactedAway) {
  CROWD_NEED_PROGRAM("etcd");
  EtcdCluster etcd(1);
  ASSERT_TRUE(etcd.ok()) << etcd.log(0);
  EtcdClient c(etcd.endpoints());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.put("/c/k", std::to_string(i)).ok());
  const auto now = c.get("/c/k");
  ASSERT_TRUE(now.ok());
  HttpClient raw("127.0.0.1", etcd.endpoint(0).substr(etcd.endpoint(0).rfind(':') + 1));
  ASSERT_TRUE(raw.post("/v3/kv/compaction", "{\"revision\":\"" + std::to_string(now->revision) + "\"}", 2000ms).ok());
  Seen seen;
  EtcdWatch watch(
      etcd.endpoints(), "/c/", 1, [&](const auto& b) { seen.add(b); },
      [&] {
        std::lock_guard lock(seen.mu);
        seen.lost = true;
        seen.cv.notify_all();
      });
  std::unique_lock lock(seen.mu);
  EXPECT_TRUE(seen.cv.wait_for(lock, 10s, [&] { return seen.lost; }));
  EXPECT_TRUE(seen.events.empty());
}

}  // namespace
}  // namespace crowd::cluster
