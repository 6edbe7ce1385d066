// Index::apply semantics: what a write counts, what erasure means, and that
// published views never change.
#include "index/index.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/index_test_util.h"

namespace crowd {
namespace {

// One-operation batches, named for readability.
WriteBatch add(UserId user, const std::vector<std::string>& tags) { return test::add_batch(user, tags); }
WriteBatch remove(UserId user, const std::vector<std::string>& tags) { return test::remove_batch(user, tags); }
WriteBatch erase(UserId user) {
  WriteBatch b;
  b.erase(user);
  return b;
}

WriteResult apply(Index& index, const WriteBatch& b) {
  WriteResult r;
  EXPECT_TRUE(index.apply(b, r));
  return r;
}

// External IDs of a tag's users, sorted by ordinal.
std::vector<UserId> members(const IndexView& v, std::string_view tag) {
  std::vector<UserId> out;
  const auto id = v.dictionary().find(tag);
  if (!id) return out;
  roaring_uint32_iterator_t* it = roaring_create_iterator(v.tag(*id).bits.get());
  for (; it->has_value; roaring_advance_uint32_iterator(it)) out.push_back(v.external(it->current_value));
  roaring_free_uint32_iterator(it);
  return out;
}

std::vector<UserId> universe(const IndexView& v) {
  std::vector<UserId> out;
  roaring_uint32_iterator_t* it = roaring_create_iterator(v.universe().bits.get());
  for (; it->has_value; roaring_advance_uint32_iterator(it)) out.push_back(v.external(it->current_value));
  roaring_free_uint32_iterator(it);
  return out;
}

TEST(IndexApply, AddsCountOnlyNewlySetPairs) {
  Index index;
  auto r = apply(index, add(7, {"a", "b"}));
  EXPECT_EQ(r.added, 2u);
  EXPECT_EQ(r.users, 1u);
  r = apply(index, add(7, {"a", "b", "c"}));
  EXPECT_EQ(r.added, 1u);
  // The same pair twice in one batch counts once.
  WriteBatch twice;
  const uint32_t d = twice.intern("d");
  twice.add(8, std::vector<uint32_t>{d, d});
  twice.add(8, std::vector<uint32_t>{d});
  r = apply(index, twice);
  EXPECT_EQ(r.added, 1u);
  EXPECT_EQ(r.users, 2u);
  EXPECT_EQ(members(*index.view(), "d"), std::vector<UserId>{8});
}

TEST(IndexApply, RemovesCountOnlyClearedPairs) {
  Index index;
  (void)apply(index, add(1, {"a", "b"}));
  auto r = apply(index, remove(1, {"a", "z", "b", "a"}));  // z unknown, a twice
  EXPECT_EQ(r.removed, 2u);
  EXPECT_EQ(r.added, 0u);
  r = apply(index, remove(1, {"a"}));
  EXPECT_EQ(r.removed, 0u);
  // Removing from an unknown user or an unknown tag changes nothing and
  // creates no tag.
  const auto before = index.view()->tag_count();
  r = apply(index, remove(99, {"a", "new-tag"}));
  EXPECT_EQ(r.removed, 0u);
  EXPECT_EQ(index.view()->tag_count(), before);
  EXPECT_FALSE(index.view()->dictionary().find("new-tag"));
}

TEST(IndexApply, EraseRemovesFromEveryTagAndTheUniverse) {
  Index index;
  (void)apply(index, add(1, {"a", "b", "c"}));
  (void)apply(index, add(2, {"a", "c"}));
  auto r = apply(index, erase(1));
  EXPECT_EQ(r.erased, 1u);
  const auto v = index.view();
  EXPECT_EQ(members(*v, "a"), std::vector<UserId>{2});
  EXPECT_TRUE(members(*v, "b").empty());
  EXPECT_EQ(members(*v, "c"), std::vector<UserId>{2});
  EXPECT_EQ(universe(*v), std::vector<UserId>{2});
  // Erasing again, or an unknown user, counts nothing.
  EXPECT_EQ(apply(index, erase(1)).erased, 0u);
  EXPECT_EQ(apply(index, erase(12345)).erased, 0u);
}

TEST(IndexApply, ErasedUserComesBackWithOnlyTheNewTags) {
  Index index;
  (void)apply(index, add(5, {"old1", "old2"}));
  const auto ordinal = *index.users().find(5);
  (void)apply(index, erase(5));
  auto r = apply(index, add(5, {"new"}));
  EXPECT_EQ(r.added, 1u);
  const auto v = index.view();
  EXPECT_EQ(members(*v, "new"), std::vector<UserId>{5});
  EXPECT_TRUE(members(*v, "old1").empty());
  EXPECT_TRUE(members(*v, "old2").empty());
  EXPECT_EQ(universe(*v), std::vector<UserId>{5});
  // Erasure forgot the ID: the user came back as a new ordinal (so a log
  // replayed over a snapshot, which no longer holds erased IDs, hands out
  // the same ordinals). The old ordinal still reads as the ID for old views.
  EXPECT_NE(*index.users().find(5), ordinal);
  EXPECT_EQ(v->ordinal_count(), 2u);
  EXPECT_EQ(v->external(ordinal), 5u);
}

TEST(IndexApply, EraseThenAddInOneBatch) {
  Index index;
  (void)apply(index, add(5, {"x"}));
  WriteBatch b;
  const uint32_t y = b.intern("y");
  b.erase(5);
  b.add(5, std::vector<uint32_t>{y});
  const auto r = apply(index, b);
  EXPECT_EQ(r.erased, 1u);
  EXPECT_EQ(r.added, 1u);
  EXPECT_TRUE(members(*index.view(), "x").empty());
  EXPECT_EQ(members(*index.view(), "y"), std::vector<UserId>{5});
}

TEST(IndexApply, RemovingTheLastTagKeepsTheUserInTheUniverse) {
  Index index;
  (void)apply(index, add(3, {"only"}));
  (void)apply(index, remove(3, {"only"}));
  const auto v = index.view();
  EXPECT_TRUE(members(*v, "only").empty());
  EXPECT_EQ(universe(*v), std::vector<UserId>{3});
  // An add with no tags makes a user too.
  (void)apply(index, add(4, {}));
  EXPECT_EQ(universe(*index.view()), (std::vector<UserId>{3, 4}));
}

TEST(IndexApply, CopyOnWriteLeavesOldViewsUnchanged) {
  Index index;
  (void)apply(index, add(1, {"a", "b"}));
  const auto old = index.view();
  const auto old_a = old->tag(*old->dictionary().find("a")).cardinality;
  (void)apply(index, add(2, {"a", "c"}));
  (void)apply(index, remove(1, {"b"}));
  (void)apply(index, erase(1));
  // The old view still sees its own world, numbers and all.
  EXPECT_EQ(members(*old, "a"), std::vector<UserId>{1});
  EXPECT_EQ(members(*old, "b"), std::vector<UserId>{1});
  EXPECT_FALSE(old->dictionary().find("c"));
  EXPECT_EQ(old->tag_count(), 2u);
  EXPECT_EQ(old->ordinal_count(), 1u);
  EXPECT_EQ(old->tag(*old->dictionary().find("a")).cardinality, old_a);
  EXPECT_EQ(universe(*old), std::vector<UserId>{1});
  // An untouched tag's bitmap is shared, not copied.
  (void)apply(index, add(9, {"c"}));
  const auto v1 = index.view();
  (void)apply(index, add(9, {"a"}));
  const auto v2 = index.view();
  const TagId c = *v2->dictionary().find("c");
  EXPECT_EQ(&v1->tag(c), &v2->tag(c));
  EXPECT_GT(v2->version(), v1->version());
}

TEST(IndexApply, BitmapBytesTrackTheTags) {
  Index index;
  test::Workload w(11);
  for (int i = 0; i < 200; ++i) (void)apply(index, w.batch());
  const auto v = index.view();
  uint64_t sum = 0;
  for (TagId id = 0; id < v->tag_count(); ++id) sum += v->tag(id).bits.bytes();
  EXPECT_EQ(v->bitmap_bytes(), sum);
}

TEST(IndexApply, MatchesTheNaiveModelOnRandomBatches) {
  Index index;
  test::Model model;
  test::Workload w(42);
  for (int i = 0; i < 2000; ++i) {
    const auto b = w.batch();
    (void)apply(index, b);
    model.apply(b);
    if (i % 250 == 0) {
      ASSERT_EQ(model.diff(*index.view()), "") << "after batch " << i;
    }
  }
  EXPECT_EQ(model.diff(*index.view()), "");
}

}  // namespace
}  // namespace crowd
