// UnionCache: a cached union equals or_many of its members; a write to a
// member is seen by the next lookup, a write elsewhere keeps the entry; the
// byte budget evicts.
#include <gtest/gtest.h>

#include <roaring/roaring.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "index/index.h"
#include "index/system_tags.h"
#include "index/system_view.h"
#include "query/query.h"
#include "tests/support/index_test_util.h"
#include "query/union_cache.h"

namespace crowd::query {
namespace {

// An index of tags t0..t5, each user u in tag t when (u + t) % (t + 2) == 0.
std::unique_ptr<Index> make_index() {
  auto index = std::make_unique<Index>();
  WriteBatch batch;
  for (UserId u = 1; u <= 5000; ++u) {
    std::vector<uint32_t> tags;
    for (int t = 0; t < 6; ++t) {
      if ((u + t) % (t + 2) == 0) tags.push_back(batch.intern(std::string{"t"} + static_cast<char>('0' + t)));
    }
    batch.add(u, tags);
  }
  WriteResult r;
  EXPECT_TRUE(index->apply(batch, r));
  return index;
}

uint64_t union_size(const IndexView& view, const std::vector<TagId>& ids) {
  std::vector<const roaring_bitmap_t*> bits;
  for (const TagId id : ids) bits.push_back(view.tag(id).bits.get());
  Bitmap u(roaring_bitmap_or_many(bits.size(), bits.data()));
  return u.cardinality();
}

TagId id_of(const IndexView& view, const std::string& name) { return *view.dictionary().find(name); }

TEST(UnionCache, HitsUntilAMemberChanges) {
  auto owned = make_index();
  Index& index = *owned;
  UnionCache cache(64 << 20);
  auto view = index.view();
  const std::vector<TagId> ids = {id_of(*view, "t0"), id_of(*view, "t1"), id_of(*view, "t2")};
  const auto first = cache.get(*view, ids);
  EXPECT_EQ(first->cardinality, union_size(*view, ids));
  EXPECT_EQ(cache.get(*view, ids), first) << "same view: the same cached bitmap";
  EXPECT_EQ(cache.stats().hits, 1u);

  // A write to a tag outside the union keeps the entry.
  {
    WriteBatch b = test::add_batch(999'999, {"t5"});
    WriteResult r;
    ASSERT_TRUE(index.apply(b, r));
  }
  view = index.view();
  EXPECT_EQ(cache.get(*view, ids), first);

  // A write to a member is seen at once.
  {
    WriteBatch b = test::add_batch(888'888, {"t1"});
    WriteResult r;
    ASSERT_TRUE(index.apply(b, r));
  }
  view = index.view();
  const auto after = cache.get(*view, ids);
  EXPECT_NE(after, first);
  EXPECT_EQ(after->cardinality, first->cardinality + 1);
  EXPECT_EQ(after->cardinality, union_size(*view, ids));
  EXPECT_EQ(cache.stats().misses, 2u);
}

TEST(UnionCache, BudgetEvictsTheLeastRecentlyUsed) {
  auto owned = make_index();
  Index& index = *owned;
  const auto view = index.view();
  const std::vector<TagId> a = {id_of(*view, "t0"), id_of(*view, "t1"), id_of(*view, "t2")};
  const std::vector<TagId> b = {id_of(*view, "t3"), id_of(*view, "t4"), id_of(*view, "t5")};
  UnionCache probe(64 << 20);
  const uint64_t a_bytes = probe.get(*view, a)->bytes;
  const uint64_t b_bytes = probe.get(*view, b)->bytes;

  UnionCache cache(std::max(a_bytes, b_bytes) + 1);  // room for one
  (void)cache.get(*view, a);
  (void)cache.get(*view, b);  // evicts a
  EXPECT_EQ(cache.stats().entries, 1u);
  EXPECT_LE(cache.stats().bytes, std::max(a_bytes, b_bytes));
  (void)cache.get(*view, b);
  EXPECT_EQ(cache.stats().hits, 1u);
  (void)cache.get(*view, a);
  EXPECT_EQ(cache.stats().misses, 3u);
}

// The blocks tile the window exactly, each aligned to its own size (so the
// same blocks recur as the window slides), and there are O(log N) of them.
TEST(UnionCache, DayBlocksTileTheWindowAligned) {
  std::mt19937_64 rng(3);
  for (int k = 0; k < 2000; ++k) {
    const int64_t first = static_cast<int64_t>(rng() % 40'000) - 1'000;
    const int64_t last = first + static_cast<int64_t>(rng() % 400) - 2;
    const auto blocks = UnionCache::day_blocks(first, last);
    int64_t next = first;
    for (const auto& [a, b] : blocks) {
      ASSERT_EQ(a, next);
      const int64_t size = b - a + 1;
      ASSERT_GT(size, 0);
      ASSERT_EQ(size & (size - 1), 0) << "a power of two";
      ASSERT_EQ(((a % size) + size) % size, 0) << "aligned to its size";
      next = b + 1;
    }
    ASSERT_EQ(next, std::max(first, last + 1)) << first << ".." << last;
    ASSERT_LE(blocks.size(), 2u * 9) << first << ".." << last;  // 2 log2(400)
  }
}

// Windows of days through the cache equal a direct union of the day tags of
// an independent model, as the window slides day by day and while late
// events land on past days (which must rebuild their blocks).
TEST(UnionCache, SlidingWindowsEqualTheModel) {
  Index index;
  std::mt19937_64 rng(11);
  std::map<std::pair<std::string, int64_t>, std::set<UserId>> model;
  const std::vector<std::string> tags = {"cat:1:buy", "cat:1:pv", "cat:2:pv"};
  const auto event = [&](UserId u, const std::string& tag, int64_t day) {
    WriteResult r;
    ASSERT_TRUE(index.apply(test::add_batch(u, {tag, system_tags::day(tag, day)}), r));
    model[{tag, day}].insert(u);
  };
  for (int e = 0; e < 3000; ++e) event(1 + rng() % 2000, tags[rng() % tags.size()], 1000 + rng() % 200);
  UnionCache cache(256 << 20);
  for (int64_t as_of = 1030; as_of < 1200; ++as_of) {
    if (as_of % 7 == 0) event(1 + rng() % 2000, tags[rng() % tags.size()], as_of - 1 - rng() % 25);  // late
    for (const auto& [q, prefix, n] : std::vector<std::tuple<std::string, std::string, int>>{
             {"within(cat:1:buy, 30d)", "cat:1:buy", 30},
             {"within(cat:*, 7d)", "cat:", 7},
             {"within(cat:1:*, 90d)", "cat:1:", 90}}) {
      std::set<UserId> expected;
      for (const auto& [key, users] : model) {
        if (key.first.starts_with(prefix) && key.second > as_of - n && key.second <= as_of) {
          expected.insert(users.begin(), users.end());
        }
      }
      Options options{false, &cache};
      options.as_of = as_of;
      const auto view = index.view();
      auto compiled = compile(q, *view, options);
      ASSERT_TRUE(std::holds_alternative<Plan>(compiled)) << q;
      Evaluator evaluator;
      ASSERT_EQ(evaluator.count(std::get<Plan>(compiled), *view), expected.size()) << q << " as of " << as_of;
    }
  }
  EXPECT_GT(cache.stats().hits, 0u);
}

}  // namespace
}  // namespace crowd::query
