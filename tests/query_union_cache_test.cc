// UnionCache: a cached union equals or_many of its members; a write to a
// member is seen by the next lookup, a write elsewhere keeps the entry; the
// byte budget evicts.
#include <gtest/gtest.h>

#include <roaring/roaring.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "index/index.h"
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

}  // namespace
}  // namespace crowd::query
