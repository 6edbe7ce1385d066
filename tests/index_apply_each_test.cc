// Index::apply_each and Store::write_each: batches applied as one group end
// as the same index -- tags, TagIds, ordinals, entries -- with the same
// per-batch results as the same batches applied one by one with
// Index::apply, the reference. The batches mix everything a group may hold
// (adds, removes, erasures, values, cleared and replaced tags, entries,
// exclusive fields switched on and off between batches) with batches that
// may not join one (persons), which apply_each must stop before.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "index/index.h"
#include "index/store.h"
#include "tests/support/index_test_util.h"

namespace crowd {
namespace {

// Adds `tag` to a person with uid `uid`: a batch that may not join a group.
void add_to_a_person(WriteBatch& b, UserId uid, std::string_view tag) {
  const auto person = b.add_person(uid);
  const uint32_t t = b.intern(tag);
  b.add(person, std::span<const uint32_t>(&t, 1));
}

// test::Workload's batches, with what they lack added at random.
class RichWorkload {
 public:
  explicit RichWorkload(uint64_t seed) : work_(seed, 200, 30), rng_(seed * 31 + 7) {}

  // `ordinals`: the index's ordinal count, for replaced tags' members.
  WriteBatch batch(uint32_t ordinals) {
    WriteBatch b = work_.batch(12);
    const auto roll = [&](int percent) { return pick(100) < static_cast<std::size_t>(percent); };
    if (roll(30)) {
      const uint32_t age = b.intern("age");
      for (int i = 0; i < 3; ++i) {
        const UserId user = 1000 + pick(50);
        if (roll(80)) {
          b.set_value(user, age, static_cast<int64_t>(pick(200)) - 50);
        } else {
          b.clear_value(user, age);
        }
      }
    }
    // Workload's tags include field0:..field6: values; making one exclusive
    // changes what the next batches' adds remove.
    if (roll(10)) b.set_exclusive_field("field" + std::to_string(pick(7)), roll(70));
    if (roll(5)) b.clear_tag(b.intern("field" + std::to_string(pick(7)) + ":v" + std::to_string(9 + pick(20))));
    if (roll(5) && ordinals > 0) {
      auto members = std::make_shared<Bitmap>();
      for (int i = 0; i < 20; ++i) members->add(static_cast<uint32_t>(pick(ordinals)));
      b.replace_tag(b.intern("replaced"), members);
    }
    if (roll(10)) b.set_entry("note:" + std::to_string(pick(5)), std::to_string(pick(1000)));
    if (roll(5)) b.erase_entry("note:" + std::to_string(pick(5)));
    if (roll(8)) add_to_a_person(b, 2000 + pick(20), "by_person");  // this batch may not join a group
    return b;
  }

  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }

 private:
  test::Workload work_;
  std::mt19937_64 rng_;
};

std::string same_result(const WriteResult& a, const WriteResult& b) {
  if (a.users != b.users || a.added != b.added || a.removed != b.removed || a.erased != b.erased ||
      a.linked != b.linked) {
    return "users/added/removed/erased/linked " + std::to_string(a.users) + "/" + std::to_string(a.added) + "/" +
           std::to_string(a.removed) + "/" + std::to_string(a.erased) + "/" + std::to_string(a.linked) + " vs " +
           std::to_string(b.users) + "/" + std::to_string(b.added) + "/" + std::to_string(b.removed) + "/" +
           std::to_string(b.erased) + "/" + std::to_string(b.linked);
  }
  return {};
}

TEST(IndexApplyEach, GroupsEndAsTheBatchesAppliedOneByOne) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RichWorkload work(seed);
    std::mt19937_64 rng(seed);
    Index one_by_one, grouped;
    std::size_t groups_of_several = 0;
    for (int round = 0; round < 40; ++round) {
      // A group's batches, made against the state before it (replaced
      // tags' ordinals are the index's, as a writer's would be).
      std::vector<WriteBatch> batches;
      const std::size_t size = 1 + std::uniform_int_distribution<std::size_t>(0, 11)(rng);
      for (std::size_t i = 0; i < size; ++i) batches.push_back(work.batch(one_by_one.view()->ordinal_count()));
      // Turning a field exclusive is refused while users hold two of its
      // values: such a batch never joins a group, and is refused alike.
      std::vector<WriteResult> expected(size);
      std::vector<bool> accepted(size);
      for (std::size_t i = 0; i < size; ++i) {
        accepted[i] = one_by_one.apply(batches[i], expected[i]);
        ASSERT_TRUE(accepted[i] || !expected[i].refusal.empty());
      }

      std::vector<WriteResult> got(size);
      std::size_t done = 0;
      while (done < size) {
        const std::size_t n = grouped.apply_each(std::span(batches).subspan(done), std::span(got).subspan(done));
        if (n > 1) ++groups_of_several;
        done += n;
        if (done < size) {  // it stopped before a batch that may not join: that one goes alone
          ASSERT_FALSE(Index::joins_others(batches[done]));
          ASSERT_EQ(grouped.apply(batches[done], got[done]), accepted[done]);
          ++done;
        }
      }
      for (std::size_t i = 0; i < size; ++i) {
        ASSERT_EQ(same_result(got[i], expected[i]), "") << "batch " << i;
        ASSERT_EQ(got[i].refusal, expected[i].refusal) << "batch " << i;
      }
      ASSERT_EQ(test::same_index(*grouped.view(), *one_by_one.view()), "") << "round " << round;
      ASSERT_TRUE(grouped.view()->entries() == one_by_one.view()->entries()) << "round " << round;
    }
    EXPECT_GT(groups_of_several, 10u);  // the test exercised groups, not only single batches
  }
}

TEST(IndexApplyEach, StopsBeforeABatchThatMayNotJoin) {
  Index index;
  WriteBatch plain = test::add_batch(1, {"a"});
  WriteBatch with_person;
  add_to_a_person(with_person, 2, "b");
  std::vector<WriteBatch> batches;
  batches.push_back(std::move(plain));
  batches.push_back(std::move(with_person));
  std::vector<WriteResult> results(2);
  EXPECT_EQ(index.apply_each(batches, results), 1u);
  EXPECT_EQ(results[0].added, 1u);
  EXPECT_FALSE(index.view()->dictionary().find("b").has_value());
  // Nothing at all when the first may not join: no new view.
  const auto version = index.view()->version();
  EXPECT_EQ(index.apply_each(std::span(batches).subspan(1), std::span(results).subspan(1)), 0u);
  EXPECT_EQ(index.view()->version(), version);
}

// A batch adding only what an earlier batch of the group added must keep
// that batch's copy of the tag (more than 64 pairs: the add_many path).
TEST(IndexApplyEach, ReaddingWhatTheGroupAddedKeepsIt) {
  Index index;
  WriteBatch first, again;
  const uint32_t t1 = first.intern("t");
  const uint32_t t2 = again.intern("t");
  for (UserId u = 0; u < 100; ++u) {
    first.add(u, std::span<const uint32_t>(&t1, 1));
    again.add(u, std::span<const uint32_t>(&t2, 1));
  }
  std::vector<WriteBatch> batches;
  batches.push_back(std::move(first));
  batches.push_back(std::move(again));
  std::vector<WriteResult> results(2);
  ASSERT_EQ(index.apply_each(batches, results), 2u);
  EXPECT_EQ(results[0].added, 100u);
  EXPECT_EQ(results[1].added, 0u);
  const auto view = index.view();
  EXPECT_EQ(view->tag(*view->dictionary().find("t")).bits.cardinality(), 100u);
}

// The store logs a record per batch: reopened, it replays to the same index.
TEST(StoreWriteEach, LogsEveryBatchAndReplaysToTheSameIndex) {
  test::TempDir dir;
  RichWorkload work(77);
  Index reference;
  {
    std::string error;
    auto store = Store::open(StoreOptions{dir.path(), FsyncPolicy::kBatch}, error);
    ASSERT_NE(store, nullptr) << error;
    for (int round = 0; round < 30; ++round) {
      std::vector<WriteBatch> batches;
      for (int i = 0; i < 8; ++i) {
        WriteBatch b = work.batch(reference.view()->ordinal_count());
        if (!Index::joins_others(b)) continue;
        WriteResult r;
        ASSERT_TRUE(reference.apply(b, r));
        batches.push_back(std::move(b));
      }
      std::vector<WriteResult> results(batches.size());
      std::size_t written = 0;
      ASSERT_EQ(store->write_each(batches, results, written), WriteStatus::kOk);
      ASSERT_EQ(written, batches.size());
    }
    ASSERT_EQ(test::same_index(*store->view(), *reference.view()), "");
  }
  std::string error;
  auto reopened = Store::open(StoreOptions{dir.path(), FsyncPolicy::kBatch}, error);
  ASSERT_NE(reopened, nullptr) << error;
  EXPECT_EQ(test::same_index(*reopened->view(), *reference.view()), "");
  EXPECT_TRUE(reopened->view()->entries() == reference.view()->entries());
}

TEST(StoreWriteEach, RefusesABatchThatMayNotJoinAndWritesThoseBefore) {
  test::TempDir dir;
  std::string error;
  auto store = Store::open(StoreOptions{dir.path(), FsyncPolicy::kBatch}, error);
  ASSERT_NE(store, nullptr) << error;
  std::vector<WriteBatch> batches;
  batches.push_back(test::add_batch(1, {"a"}));
  WriteBatch with_person;
  add_to_a_person(with_person, 2, "b");
  batches.push_back(std::move(with_person));
  std::vector<WriteResult> results(2);
  std::size_t written = 0;
  EXPECT_EQ(store->write_each(batches, results, written), WriteStatus::kConflict);
  EXPECT_EQ(written, 1u);
  EXPECT_FALSE(results[1].refusal.empty());
  EXPECT_TRUE(store->view()->dictionary().find("a").has_value());
  EXPECT_FALSE(store->view()->dictionary().find("b").has_value());
}

}  // namespace
}  // namespace crowd
