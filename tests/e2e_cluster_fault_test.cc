// Fault tests of the cluster (issue 18, docs/cluster.md#failure-and-change),
// each on its own local cluster (3 etcd, 3 nats-server, 4 shards x 2
// replicas, 2 routers): a stream of writes goes through the routers, each
// retried with its Idempotency-Key until acknowledged, while a process is
// killed or stopped. Afterwards every acknowledged write is present exactly
// once and nothing else is: the crowd is exactly the users written, the
// shards' streams hold exactly one message per write (a retry stored twice
// would show), and every replica of a shard holds the same users.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cluster/etcd_client.h"
#include "cluster/http_client.h"
#include "cluster/jetstream.h"
#include "cluster/names.h"
#include "tests/support/child_process.h"
#include "tests/support/e2e_util.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/eventually.h"
#include "tests/support/local_cluster.h"
#include "tests/support/server_process.h"
#include "tests/support/tool_process.h"

namespace crowd::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

// Writes of users first..last-1, one request each ({"id": i, "tags": ["w",
// "w:<i>"]}), through the routers in turn. A write not acknowledged (503, a
// lost connection) is sent again with the same Idempotency-Key, to the
// other router, until it is (or 90 s pass: then the test fails).
struct WriteStream {
  uint64_t acknowledged = 0;
  uint64_t retries = 0;
  std::chrono::milliseconds longest{0};  // from the first try to the acknowledgement
  std::string failure;

  void run(const std::vector<ClusterProcess>& routers, uint64_t first, uint64_t last) {
    for (uint64_t i = first; i < last; ++i) {
      const std::string body = json{{"id", i}, {"tags", {"w", "w:" + std::to_string(i)}}}.dump() + "\n";
      const std::string key = "write-" + std::to_string(i);
      const auto started = Clock::now();
      for (std::size_t attempt = 0;; ++attempt) {
        if (Clock::now() - started > 90s) {
          failure = "write " + std::to_string(i) + " was never acknowledged";
          return;
        }
        HttpResult r;
        try {
          HttpConnection c(routers[(i + attempt) % routers.size()].port(), 30);
          r = c.request("POST", "/v1/ingest", body, "application/x-ndjson", {{"Idempotency-Key", key}});
        } catch (const std::exception&) {
          r.status = 0;
        }
        if (r.status == 200) break;
        if (r.status != 503 && r.status != 0) {
          failure = "write " + std::to_string(i) + ": " + std::to_string(r.status) + " " + r.body;
          return;
        }
        ++retries;
        std::this_thread::sleep_for(100ms);
      }
      longest = std::max(longest, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started));
      ++acknowledged;
    }
  }
};

json get_json(int port, const std::string& target) {
  try {
    const auto r = HttpConnection(port, 30).get(target);
    if (r.status != 200) return json();
    return json::parse(r.body, nullptr, false);
  } catch (const std::exception&) {
    return json();
  }
}

uint64_t count_at(int port, const std::string& q) {
  const json j = get_json(port, "/v1/count?lenient=true&q=" + url_encode(q));
  return j.is_object() ? j.value("count", UINT64_MAX) : UINT64_MAX;
}

// The command line of a running process, to start it again after a kill.
std::vector<std::string> command_line(pid_t pid) {
  std::vector<std::string> argv;
  const std::string raw = read_file("/proc/" + std::to_string(pid) + "/cmdline");
  for (std::size_t at = 0; at < raw.size();) {
    const auto end = raw.find('\0', at);
    argv.push_back(raw.substr(at, end - at));
    at = end == std::string::npos ? raw.size() : end + 1;
  }
  return argv;
}

class ClusterFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    CROWD_NEED_PROGRAM("nats-server");
    CROWD_NEED_PROGRAM("etcd");
    cluster_ = std::make_unique<LocalCluster>();
    ASSERT_TRUE(cluster_->ok()) << cluster_->output();
    routers_ = cluster_->named("router");
    ASSERT_EQ(routers_.size(), 2u);
  }

  // Until every registered replica of every shard stands at the same
  // position, and `replicas` are registered.
  bool replicas_converge(std::size_t replicas) {
    cluster::EtcdClient etcd(cluster_->etcd_endpoints());
    return eventually(
        [&] {
          const auto members = etcd.get_prefix(cluster::etcd_prefix("local") + "members/");
          if (!members.ok() || members->kvs.size() != replicas) return false;
          std::map<uint64_t, std::set<uint64_t>> positions;
          for (const auto& kv : members->kvs) {
            const json v = json::parse(kv.value, nullptr, false);
            if (!v.is_object()) return false;
            positions[v.value("shard", uint64_t{0})].insert(v.value("position", uint64_t{0}));
          }
          // Equal, and at what the shard's replicas announced last (the
          // registered positions are refreshed every second or so).
          const json health = get_json(routers_[0].port(), "/healthz");
          if (!health.is_object()) return false;
          for (const auto& [shard, seen] : positions) {
            if (seen.size() != 1 || *seen.begin() != health["shards"][shard]["applied"].get<uint64_t>()) return false;
          }
          return true;
        },
        90s);
  }

  // Every acknowledged write exactly once and nothing else (see the top).
  void expect_exactly(uint64_t writes) {
    ASSERT_TRUE(replicas_converge(8)) << "the replicas did not converge";
    const int router = routers_[0].port();
    EXPECT_EQ(count_at(router, "ALL"), writes) << "nothing but the writes";
    EXPECT_EQ(count_at(router, "w"), writes);
    EXPECT_EQ(count_at(router, "w:*"), writes);
    // One stream message per write: a write is one user, so one shard's part.
    const json health = get_json(router, "/healthz");
    ASSERT_TRUE(health.is_object()) << "router health";
    uint64_t messages = 0;
    for (const auto& s : health["shards"]) messages += s["applied"].get<uint64_t>();
    EXPECT_EQ(messages, writes) << "a retried write was stored twice, or one is missing";
    // Every replica of a shard holds the same users; the shards add up.
    std::map<std::string, uint64_t> by_shard;
    std::vector<ClusterProcess> replicas = cluster_->named("shard");
    uint64_t total = 0;
    for (const auto& r : replicas) {
      const std::string shard = r.name.substr(0, r.name.find('-'));
      const uint64_t n = count_at(r.port(), "w");
      if (!by_shard.contains(shard)) total += n;
      const auto [at, fresh] = by_shard.emplace(shard, n);
      if (!fresh) {
        EXPECT_EQ(at->second, n) << r.name << " differs from its shard's other replica";
      }
    }
    EXPECT_EQ(total, writes);
  }

  std::unique_ptr<LocalCluster> cluster_;
  std::vector<ClusterProcess> routers_;
};

TEST_F(ClusterFaults, AReplicaKilledUnderWritesComesBackAndCatchesUp) {
  const ClusterProcess victim = cluster_->named("shard1-replica0").at(0);
  const std::vector<std::string> argv = command_line(victim.pid);
  ASSERT_GT(argv.size(), 3u);
  WriteStream writes;
  std::thread writer([&] { writes.run(routers_, 1, 301); });
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(::kill(victim.pid, SIGKILL), 0);
  writer.join();
  ASSERT_EQ(writes.failure, "");
  EXPECT_EQ(writes.acknowledged, 300u);
  // It comes back on its data directory and replays the stream from its
  // own log's position while more writes arrive.
  ChildProcess again;
  ASSERT_TRUE(again.start(argv, cluster_->dir() + "/shard1-0.again.log"));
  writes.run(routers_, 301, 401);
  ASSERT_EQ(writes.failure, "");
  expect_exactly(400);
  EXPECT_NE(read_file(cluster_->dir() + "/shard1-0.again.log").find("applying from stream position"),
            std::string::npos);
}

TEST_F(ClusterFaults, TheStreamLeaderKilledUnderWritesLosesNothing) {
  std::string error;
  const auto js = cluster::JetStream::connect(cluster_->nats_urls(), error);
  ASSERT_NE(js, nullptr) << error;
  // Shard 2's stream leader (nats-server names are n0..n2: process natsK).
  std::string leader;
  ASSERT_TRUE(eventually([&] {
    leader = js->stream_leader(cluster::shard_stream("local", 2), error);
    return !leader.empty();
  }, 30s)) << error;
  const auto nats = cluster_->named("nats" + leader.substr(1));
  ASSERT_EQ(nats.size(), 1u) << leader;
  WriteStream writes;
  std::thread writer([&] { writes.run(routers_, 1, 201); });
  std::this_thread::sleep_for(400ms);
  ASSERT_EQ(::kill(nats[0].pid, SIGKILL), 0);
  writer.join();
  ASSERT_EQ(writes.failure, "");
  EXPECT_EQ(writes.acknowledged, 200u);
  std::cerr << "stream leader " << leader << " killed: longest wait for an acknowledgement " << writes.longest.count()
            << " ms, " << writes.retries << " retries\n";
  expect_exactly(200);
}

TEST_F(ClusterFaults, TheEtcdLeaderKilledUnderWritesLosesNothing) {
  // The leader: the member whose status says it is.
  int leader_port = 0;
  for (const auto& e : cluster_->named("etcd")) {
    cluster::HttpClient c("127.0.0.1", std::to_string(e.port()));
    const auto a = c.post("/v3/maintenance/status", "{}", 1000ms);
    const json j = json::parse(a.body, nullptr, false);
    if (a.ok() && j.is_object() && j["leader"] == j["header"].value("member_id", "")) leader_port = e.port();
  }
  ASSERT_NE(leader_port, 0);
  pid_t leader_pid = -1;
  for (const auto& e : cluster_->named("etcd")) {
    if (e.port() == leader_port) leader_pid = e.pid;
  }
  WriteStream writes;
  std::thread writer([&] { writes.run(routers_, 1, 201); });
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(::kill(leader_pid, SIGKILL), 0);
  writer.join();
  ASSERT_EQ(writes.failure, "");
  EXPECT_EQ(writes.acknowledged, 200u);
  expect_exactly(200);
}

TEST_F(ClusterFaults, AStoppedReplicaIsHedgedAroundAndWritesGoOn) {
  WriteStream first;
  first.run(routers_, 1, 101);
  ASSERT_EQ(first.failure, "");
  ASSERT_TRUE(replicas_converge(8));
  const ClusterProcess victim = cluster_->named("shard0-replica1").at(0);
  ASSERT_EQ(::kill(victim.pid, SIGSTOP), 0);
  // Reads for 8 s: past the replica's lease (5 s), so both the hedged
  // phase and the phase after it left the map are seen. Without hedging a
  // read sent to it would wait for the 30 s read deadline.
  WriteStream more;
  std::thread writer([&] { more.run(routers_, 101, 151); });
  std::vector<std::chrono::milliseconds> took;
  std::size_t wrong = 0;
  const auto until = Clock::now() + 8s;
  while (Clock::now() < until) {
    const auto started = Clock::now();
    const json j = get_json(routers_[took.size() % 2].port(), "/v1/count?q=w");
    took.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started));
    if (!j.is_object() || j.value("count", uint64_t{0}) < 100) ++wrong;
  }
  writer.join();
  ::kill(victim.pid, SIGCONT);
  EXPECT_EQ(wrong, 0u) << "every read answered, with at least the first 100 writes";
  std::sort(took.begin(), took.end());
  ASSERT_FALSE(took.empty());
  EXPECT_LT(took.back(), 5s) << "a read waited on the stopped replica";
  std::cerr << took.size() << " reads while a replica was stopped: median " << took[took.size() / 2].count()
            << " ms, max " << took.back().count() << " ms\n";
  // The routers say so in their metrics: reads sent on to the other replica.
  uint64_t hedged = 0;
  for (const auto& router : routers_) {
    const std::string text = HttpConnection(router.port()).get("/metrics").body;
    const auto at = text.find("\ncrowd_router_hedges_total ");
    ASSERT_NE(at, std::string::npos) << text;
    hedged += std::stoull(text.substr(at + std::string_view("\ncrowd_router_hedges_total ").size()));
  }
  EXPECT_GT(hedged, 0u) << "no read was hedged around the stopped replica";
  ASSERT_EQ(more.failure, "");
  EXPECT_EQ(more.acknowledged, 50u) << "writes went on: the other replica applied them";
  // Resumed, it catches up.
  expect_exactly(150);
}

}  // namespace
}  // namespace crowd::test
