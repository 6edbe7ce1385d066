// The write stream (cluster/jetstream.h) against a real 3-member NATS
// cluster with JetStream: a replicated stream; publishes acknowledged with
// their sequence; a repeated message id stored once; readers from any
// sequence get exactly the stream in order; and through a SIGKILL of the
// stream's leader, every acknowledged publish is in the stream exactly once.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "cluster/jetstream.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/eventually.h"
#include "tests/support/nats_cluster.h"

namespace crowd::cluster {
namespace {

using namespace std::chrono_literals;

std::string numbered(const char* prefix, int i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

// Every message from `from` on until the reader has been quiet for 1 s.
// Creating a reader (a consumer) can time out while JetStream elects a new
// meta leader after a member died: it is retried, as a replica would, for
// up to 20 s.
std::vector<StreamMessage> read_all(JetStream& js, const std::string& subject, uint64_t from) {
  std::string error;
  std::unique_ptr<JetStream::Reader> reader;
  test::eventually(
      [&] {
        reader = js.read(subject, from, error);
        return reader != nullptr;
      },
      20s, 200ms);
  EXPECT_NE(reader, nullptr) << error;
  std::vector<StreamMessage> out;
  if (!reader) return out;
  error.clear();  // the failed tries' words
  while (auto m = reader->next(1000ms, error)) out.push_back(std::move(*m));
  EXPECT_EQ(error, "");
  return out;
}

class JetStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CROWD_NEED_PROGRAM("nats-server");
    nats_ = std::make_unique<test::NatsCluster>(3);
    ASSERT_TRUE(nats_->ok()) << nats_->log(0);
    std::string error;
    js_ = JetStream::connect(nats_->urls(), error);
    ASSERT_NE(js_, nullptr) << error;
    ASSERT_TRUE(js_->ensure_stream(settings_, error)) << error;
    ASSERT_TRUE(js_->ensure_stream(settings_, error)) << "a second ensure is a no-op: " << error;
  }
  StreamSettings settings_{"CROWD_T_S0", "crowd.t.w.0", 3, 600s};
  std::unique_ptr<test::NatsCluster> nats_;
  std::unique_ptr<JetStream> js_;
};

TEST_F(JetStreamTest, PublishesInOrderAndStoresARepeatedIdOnce) {
  std::string error;
  for (int i = 1; i <= 50; ++i) {
    const auto p = js_->publish(settings_.subject, numbered("m", i), numbered("id-", i), 5s, error);
    ASSERT_TRUE(p) << error;
    EXPECT_EQ(p->sequence, static_cast<uint64_t>(i));
    EXPECT_FALSE(p->duplicate);
  }
  const auto again = js_->publish(settings_.subject, "m7 again", "id-7", 5s, error);
  ASSERT_TRUE(again) << error;
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->sequence, 7u) << "a duplicate answers with the original's sequence";

  const auto all = read_all(*js_, settings_.subject, 1);
  ASSERT_EQ(all.size(), 50u);
  for (int i = 1; i <= 50; ++i) {
    EXPECT_EQ(all[static_cast<std::size_t>(i - 1)].sequence, static_cast<uint64_t>(i));
    EXPECT_EQ(all[static_cast<std::size_t>(i - 1)].data, numbered("m", i));
  }
  const auto tail = read_all(*js_, settings_.subject, 41);
  ASSERT_EQ(tail.size(), 10u);
  EXPECT_EQ(tail.front().sequence, 41u);
  EXPECT_EQ(tail.back().data, "m50");
}

// Publishing goes on while the stream's leader is SIGKILLed; a publish
// whose acknowledgement does not come is retried with the same id inside
// publish() (what a router relies on). Afterwards the stream holds every acknowledged message exactly
// once, nothing else, in the order acknowledged.
TEST_F(JetStreamTest, AcknowledgedPublishesSurviveTheLeadersDeathExactlyOnce) {
  std::string error;
  const std::string leader = js_->stream_leader(settings_.name, error);
  const int victim = nats_->index_of(leader);
  ASSERT_GE(victim, 0) << "leader '" << leader << "' " << error;
  std::map<uint64_t, std::string> acked;  // sequence -> data
  double longest_stall = 0;
  for (int i = 1; i <= 200; ++i) {
    if (i == 60) nats_->kill(victim);
    const auto started = std::chrono::steady_clock::now();
    const std::optional<Published> p = js_->publish(settings_.subject, numbered("m", i), numbered("id-", i), 30s, error);
    ASSERT_TRUE(p) << "no acknowledgement in 30 s: " << error;
    longest_stall =
        std::max(longest_stall, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    const auto [it, fresh] = acked.emplace(p->sequence, numbered("m", i));
    EXPECT_TRUE(fresh || it->second == numbered("m", i)) << "sequence " << p->sequence << " acknowledged twice";
  }
  std::printf("stream leader %s SIGKILLed at publish 60: longest wait for an acknowledgement %.2f s\n", leader.c_str(),
              longest_stall);
  ASSERT_EQ(acked.size(), 200u);
  const auto all = read_all(*js_, settings_.subject, 1);
  ASSERT_EQ(all.size(), 200u) << "the stream holds exactly the acknowledged messages";
  std::set<std::string> seen;
  for (const auto& m : all) {
    EXPECT_EQ(acked.at(m.sequence), m.data);
    EXPECT_TRUE(seen.insert(m.data).second) << m.data << " stored twice";
  }
  ASSERT_TRUE(nats_->restart(victim));
}

}  // namespace
}  // namespace crowd::cluster
