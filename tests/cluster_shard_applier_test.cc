// A shard's replicas (cluster/shard_applier.h) against a real NATS
// JetStream: two replicas with their own Stores apply the same stream of
// random write batches and end as the same index, down to ordinals; a
// replica closed mid-stream and reopened on its data directory resumes from
// the position its log recovered, applying nothing twice; a batch the index
// refuses moves the position on all the same; a message that is not a batch
// stops the applier.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "cluster/shard_applier.h"
#include "index/write_batch.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/index_test_util.h"
#include "tests/support/nats_cluster.h"

namespace crowd::cluster {
namespace {

using namespace std::chrono_literals;

class ShardApplierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CROWD_NEED_PROGRAM("nats-server");
    nats_ = std::make_unique<test::NatsCluster>(1);
    ASSERT_TRUE(nats_->ok()) << nats_->log(0);
    std::string error;
    js_ = JetStream::connect(nats_->urls(), error);
    ASSERT_NE(js_, nullptr) << error;
    ASSERT_TRUE(js_->ensure_stream(stream_, error)) << error;
  }
  std::unique_ptr<Store> open(const std::string& dir) {
    std::string error;
    auto store = Store::open(StoreOptions{dir, FsyncPolicy::kBatch}, error);
    EXPECT_NE(store, nullptr) << error;
    return store;
  }
  void publish(const WriteBatch& b, const std::string& id) {
    std::string bytes;
    b.encode(bytes);
    std::string error;
    ASSERT_TRUE(js_->publish(stream_.subject, bytes, id, 5s, error)) << error;
  }
  // Applies until `position` is reached (bounded); with `applied`, until
  // the outcome of `position` was returned too (a group's outcomes come one
  // a call, after its position moved).
  static void catch_up(ShardApplier& a, uint64_t position, std::vector<AppliedMessage>* applied = nullptr) {
    const auto until = std::chrono::steady_clock::now() + 30s;
    const auto done = [&] {
      if (applied == nullptr) return a.position() >= position;
      return !applied->empty() && applied->back().sequence >= position;
    };
    while (!done()) {
      ASSERT_LT(std::chrono::steady_clock::now(), until) << "stuck at " << a.position();
      std::string error;
      auto m = a.apply_next(500ms, error);
      ASSERT_EQ(error, "");
      if (m && applied) applied->push_back(*m);
    }
  }
  StreamSettings stream_{"CROWD_T_S1", "crowd.t.w.1", 1, 600s};
  std::unique_ptr<test::NatsCluster> nats_;
  std::unique_ptr<JetStream> js_;
  test::TempDir dir_a_, dir_b_;
};

TEST_F(ShardApplierTest, ReplicasEndAsTheSameIndexAndResumeWithoutRepeats) {
  test::Workload work(18);
  for (int i = 0; i < 300; ++i) publish(work.batch(), test::numbered("b", static_cast<uint64_t>(i)));
  auto store_a = open(dir_a_.path());
  auto store_b = open(dir_b_.path());
  ShardApplier a(*store_a, *js_, stream_);
  {
    ShardApplier b(*store_b, *js_, stream_, 1);  // one message at a time, to stop at 150
    EXPECT_EQ(a.position(), 0u);
    catch_up(a, 300);
    catch_up(b, 150);  // replica b stops half way
    EXPECT_EQ(b.position(), 150u);
  }
  store_b.reset();
  // More writes while b is down.
  for (int i = 300; i < 400; ++i) publish(work.batch(), test::numbered("b", static_cast<uint64_t>(i)));
  catch_up(a, 400);

  store_b = open(dir_b_.path());
  ShardApplier b(*store_b, *js_, stream_);
  EXPECT_EQ(b.position(), 150u) << "the position comes back with the log";
  std::vector<AppliedMessage> applied;
  catch_up(b, 400, &applied);
  ASSERT_EQ(applied.size(), 250u) << "only what it had not applied";
  EXPECT_EQ(applied.front().sequence, 151u);
  EXPECT_EQ(applied.back().sequence, 400u);
  EXPECT_EQ(test::same_index(*store_a->view(), *store_b->view()), "");
  EXPECT_GT(store_a->view()->universe().cardinality, 100u);
}

// A replica catching up takes the waiting messages in groups: every
// message's outcome, and the index, are those of applying them one by one.
TEST_F(ShardApplierTest, GroupedAndOneByOneReplicasAgreeOnEveryOutcome) {
  test::Workload work(19);
  for (int i = 0; i < 400; ++i) {
    WriteBatch b = work.batch(20);
    if (i % 97 == 50) {  // now and then a message that is applied alone
      const auto person = b.add_person(900000 + static_cast<UserId>(i));
      const uint32_t t = b.intern("by_person");
      b.add(person, std::span<const uint32_t>(&t, 1));
    }
    publish(b, test::numbered("g", static_cast<uint64_t>(i)));
  }
  auto store_a = open(dir_a_.path());
  auto store_b = open(dir_b_.path());
  ShardApplier grouped(*store_a, *js_, stream_);
  ShardApplier alone(*store_b, *js_, stream_, 1);
  std::vector<AppliedMessage> got, expected;
  catch_up(grouped, 400, &got);
  catch_up(alone, 400, &expected);
  ASSERT_EQ(got.size(), 400u);
  ASSERT_EQ(expected.size(), 400u);
  for (std::size_t i = 0; i < 400; ++i) {
    ASSERT_EQ(got[i].sequence, i + 1);
    ASSERT_EQ(got[i].sequence, expected[i].sequence);
    ASSERT_EQ(got[i].status, expected[i].status) << i;
    const WriteResult& g = got[i].result;
    const WriteResult& e = expected[i].result;
    ASSERT_EQ(g.users, e.users) << i;
    ASSERT_EQ(g.added, e.added) << i;
    ASSERT_EQ(g.removed, e.removed) << i;
    ASSERT_EQ(g.erased, e.erased) << i;
  }
  EXPECT_EQ(test::same_index(*store_a->view(), *store_b->view()), "");
  // Fewer views published: the grouped replica did group.
  EXPECT_LT(store_a->view()->version() * 4, store_b->view()->version())
      << store_a->view()->version() << " vs " << store_b->view()->version();
}

TEST_F(ShardApplierTest, ARefusedBatchStillMovesThePosition) {
  // Two persons' IDs, then one record naming both: an id_conflict that the
  // index refuses by its state -- on every replica alike.
  WriteBatch define;
  define.define_space(define.intern_space("oaid"), 0);
  publish(define, "define");
  auto person = [](std::string_view oaid, UserId uid, const char* tag) {
    WriteBatch b;
    const uint32_t space = b.intern_space("oaid");
    const WriteBatch::PersonRef p = b.add_person(uid);
    b.add_person_key(space, oaid);
    const uint32_t t = b.intern(tag);
    b.add(p, std::span<const uint32_t>(&t, 1));
    return b;
  };
  publish(person("A", 1, "vip"), "p1");
  publish(person("B", 2, "vip"), "p2");
  // uid 1 named with B's OAID: two users in one record.
  publish(person("B", 1, "conflict"), "both");
  publish(test::add_batch(3, {"after"}), "after");

  auto store = open(dir_a_.path());
  ShardApplier a(*store, *js_, stream_);
  std::vector<AppliedMessage> applied;
  catch_up(a, 5, &applied);
  ASSERT_EQ(applied.size(), 5u);
  EXPECT_EQ(applied[3].status, WriteStatus::kConflict);
  EXPECT_FALSE(applied[3].refusal.empty());
  EXPECT_EQ(applied[4].status, WriteStatus::kOk);
  const auto view = store->view();
  EXPECT_FALSE(view->dictionary().find("conflict").has_value());
  EXPECT_TRUE(view->dictionary().find("after").has_value());
}

TEST_F(ShardApplierTest, AMessageThatIsNotABatchStopsTheApplier) {
  publish(test::add_batch(1, {"x"}), "ok");
  std::string error;
  ASSERT_TRUE(js_->publish(stream_.subject, "not a batch", "bad", 5s, error)) << error;
  auto store = open(dir_a_.path());
  ShardApplier a(*store, *js_, stream_);
  catch_up(a, 1);
  const auto m = a.apply_next(2s, error);
  EXPECT_FALSE(m.has_value());
  EXPECT_NE(error.find("message 2 is not a write batch"), std::string::npos) << error;
  EXPECT_EQ(a.position(), 1u) << "nothing skipped";
}

}  // namespace
}  // namespace crowd::cluster
