// The index's own state kept beside users' tags (index/system_tags.h):
// numeric values as bit slices, whole-tag replacement and clearing (saved
// crowds, retention), metadata entries, the newest day of dated tags — how
// Index::apply keeps them, how the log encodes them, and that the log and
// snapshots bring them back exactly. Expectations come from plain maps.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "index/index.h"
#include "index/store.h"
#include "index/system_tags.h"
#include "index/write_batch.h"
#include "support/index_test_util.h"

namespace crowd {
namespace {

using Values = std::map<UserId, int64_t>;

// A user's value read back from the slices, nullopt without one.
std::optional<int64_t> value_of(const IndexView& view, std::string_view attribute, UserId user) {
  const auto ordinal = view.parts().users->find(user);
  const auto exists = view.dictionary().find(system_tags::attribute(attribute, -1));
  if (!ordinal || !exists || !view.tag(*exists).bits.contains(*ordinal)) return std::nullopt;
  uint64_t u = 0;
  for (int b = 0; b < system_tags::kValueBits; ++b) {
    const auto slice = view.dictionary().find(system_tags::attribute(attribute, b));
    if (slice && view.tag(*slice).bits.contains(*ordinal)) u |= uint64_t{1} << b;
  }
  return system_tags::from_offset_binary(u);
}

// Empty when the view's values of `attribute` are exactly `want`, and every
// slice is a subset of the "has a value" tag.
std::string diff_values(const IndexView& view, std::string_view attribute, const Values& want) {
  const auto exists = view.dictionary().find(system_tags::attribute(attribute, -1));
  const uint64_t holders = exists ? view.tag(*exists).cardinality : 0;
  if (holders != want.size()) return "holders " + std::to_string(holders) + ", want " + std::to_string(want.size());
  for (const auto& [user, v] : want) {
    const auto got = value_of(view, attribute, user);
    if (got != v) return "user " + std::to_string(user) + ": got " + (got ? std::to_string(*got) : "none");
  }
  for (int b = 0; b < system_tags::kValueBits; ++b) {
    const auto slice = view.dictionary().find(system_tags::attribute(attribute, b));
    if (slice && !roaring_bitmap_is_subset(view.tag(*slice).bits.get(), view.tag(*exists).bits.get())) {
      return "slice " + std::to_string(b) + " is not within the holders";
    }
  }
  return {};
}

Bitmap ordinals_of(const IndexView& view, const std::vector<UserId>& users) {
  Bitmap b;
  for (const UserId u : users) {
    if (const auto o = view.parts().users->find(u)) b.add(*o);
  }
  return b;
}

uint64_t count(const IndexView& view, const std::string& tag) {
  const auto id = view.dictionary().find(tag);
  return id ? view.tag(*id).cardinality : 0;
}

TEST(SystemTags, NamesRoundTripAndStayApart) {
  EXPECT_TRUE(system_tags::is_system(system_tags::crowd("x")));
  EXPECT_FALSE(system_tags::is_system("gender:female"));
  EXPECT_FALSE(system_tags::is_system(""));
  EXPECT_EQ(system_tags::day_of(system_tags::day("cat:1:buy", 17495), "cat:1:buy"), 17495);
  EXPECT_EQ(system_tags::day_of_any(system_tags::day("a\x1f" "b", -719528)), -719528);
  // A tag that extends another's name does not pass for one of its days.
  EXPECT_FALSE(system_tags::day_of(system_tags::day("a@2", 5), "a").has_value());
  EXPECT_EQ(system_tags::attribute_of_exists_tag(system_tags::attribute("spend", -1)), "spend");
  EXPECT_FALSE(system_tags::attribute_of_exists_tag(system_tags::attribute("spend", 7)).has_value());
  // Day names sort in date order.
  EXPECT_LT(system_tags::day("t", -1), system_tags::day("t", 0));
  EXPECT_LT(system_tags::day("t", 9), system_tags::day("t", 10));
  for (const int64_t v : {std::numeric_limits<int64_t>::min(), int64_t{-1}, int64_t{0}, int64_t{1},
                          std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(system_tags::from_offset_binary(system_tags::to_offset_binary(v)), v);
  }
  EXPECT_LT(system_tags::to_offset_binary(-1), system_tags::to_offset_binary(0));
}

TEST(SystemTags, AreHiddenFromListingsOfUsersTags) {
  Index index;
  WriteBatch b;
  const uint32_t t[] = {b.intern("b"), b.intern("a:x"), b.intern(system_tags::day("a:x", 3))};
  b.add(7, t);
  b.set_value(7, b.intern("spend"), 5);
  WriteResult r;
  ASSERT_TRUE(index.apply(b, r));
  EXPECT_EQ(r.added, 2u) << "system tags are not users' assignments";
  const auto view = index.view();
  const auto& dict = view->dictionary();
  EXPECT_EQ(dict.user_tag_count(), 2u);
  std::vector<std::string> listed;
  for (const TagId id : dict.sorted()) listed.push_back(dict.name(id));
  EXPECT_EQ(listed, (std::vector<std::string>{"a:x", "b"}));
  EXPECT_EQ(dict.with_prefix("").size(), 2u);
  EXPECT_EQ(dict.system_with_prefix(system_tags::day_prefix("a:x")).size(), 1u);
  EXPECT_EQ(dict.system_with_prefix(system_tags::attribute_prefix("spend")).size(), dict.size() - 3);
  for (const auto& f : view->field_stats()) EXPECT_FALSE(system_tags::is_system(f.field)) << f.field;
}

TEST(WriteBatchEncoding, EveryKindRoundTripsAndEveryCutIsRefused) {
  WriteBatch b;
  const uint32_t tags[] = {b.intern("a"), b.intern("城市:杭州")};
  b.add(1, tags);
  b.remove(UINT64_MAX, std::span<const uint32_t>(tags, 1));
  b.erase(3);
  b.clear_tag(b.intern(system_tags::day("a", 10)));
  Bitmap members;
  for (uint32_t o : {0u, 5u, 70000u, 1u << 20}) members.add(o);
  b.replace_tag(b.intern(system_tags::crowd("c")), std::make_shared<const Bitmap>(std::move(members)));
  b.set_value(4, b.intern("spend"), std::numeric_limits<int64_t>::min());
  b.set_value(4, b.intern("spend"), -12);
  b.clear_value(5, b.intern("spend"));
  b.set_entry("k", std::string("v\0w", 3));
  b.erase_entry("k2");

  std::string bytes;
  b.encode(bytes);
  WriteBatch d;
  ASSERT_TRUE(d.decode(bytes));
  std::string again;
  d.encode(again);
  EXPECT_EQ(again, bytes);
  ASSERT_EQ(d.ops().size(), b.ops().size());
  for (std::size_t i = 0; i < d.ops().size(); ++i) {
    EXPECT_EQ(d.ops()[i].kind, b.ops()[i].kind) << i;
    EXPECT_EQ(d.ops()[i].user, b.ops()[i].user) << i;
  }
  EXPECT_EQ(d.ops()[5].value, std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(roaring_bitmap_equals(d.bitmaps()[0]->get(), b.bitmaps()[0]->get()));
  EXPECT_EQ(d.entries()[0].text, std::string("v\0w", 3));
  EXPECT_EQ(d.entries()[1].key, "k2");
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    WriteBatch partial;
    EXPECT_FALSE(partial.decode(std::string_view(bytes).substr(0, cut))) << "cut at " << cut;
  }
}

TEST(IndexValues, MatchAPlainMapOnRandomWrites) {
  Index index;
  Values spend, score;
  std::mt19937_64 rng(11);
  const int64_t edges[] = {std::numeric_limits<int64_t>::min(), -1, 0, 1, std::numeric_limits<int64_t>::max(),
                           1 << 20};
  auto random_value = [&]() -> int64_t {
    switch (rng() % 4) {
      case 0: return edges[rng() % std::size(edges)];
      case 1: return static_cast<int64_t>(rng() % 2000) - 1000;
      case 2: return static_cast<int64_t>(rng());
      default: return static_cast<int64_t>(rng() % 100'000);
    }
  };
  for (int round = 0; round < 200; ++round) {
    WriteBatch b;
    const uint32_t attrs[] = {b.intern("spend"), b.intern("score")};
    Values* maps[] = {&spend, &score};
    const int ops = 1 + static_cast<int>(rng() % (round % 10 == 0 ? 400 : 6));
    for (int i = 0; i < ops; ++i) {
      const UserId user = rng() % 300;
      const std::size_t a = rng() % 2;
      const auto roll = rng() % 10;
      if (roll < 7) {
        const int64_t v = random_value();
        b.set_value(user, attrs[a], v);
        (*maps[a])[user] = v;
      } else {
        b.clear_value(user, attrs[a]);
        maps[a]->erase(user);
      }
    }
    WriteResult r;
    ASSERT_TRUE(index.apply(b, r));
    const auto view = index.view();
    ASSERT_EQ(diff_values(*view, "spend", spend), "") << "round " << round;
    ASSERT_EQ(diff_values(*view, "score", score), "") << "round " << round;
    for (const auto& [user, v] : spend) {
      ASSERT_TRUE(view->universe().bits.contains(*view->parts().users->find(user))) << "a value puts the user in";
    }
  }
}

TEST(IndexValues, RewritingTheSameValueCopiesNoSlice) {
  Index index;
  WriteBatch b;
  b.set_value(1, b.intern("spend"), 12345);
  WriteResult r;
  ASSERT_TRUE(index.apply(b, r));
  const auto before = index.view();
  ASSERT_TRUE(index.apply(b, r));
  const auto after = index.view();
  for (TagId id = 0; id < before->tag_count(); ++id) {
    EXPECT_EQ(&before->tag(id), &after->tag(id)) << before->dictionary().name(id);
  }
}

TEST(IndexReplaceAndClear, ReplaceKeepsOnlyUsersStillInTheUniverse) {
  Index index;
  WriteResult r;
  for (UserId u = 1; u <= 5; ++u) ASSERT_TRUE(index.apply(test::add_batch(u, {"t"}), r));
  auto view = index.view();
  Bitmap wanted = ordinals_of(*view, {1, 2, 3});
  WriteBatch erase;
  erase.erase(2);
  ASSERT_TRUE(index.apply(erase, r));

  WriteBatch save;
  const std::string crowd = system_tags::crowd("c");
  save.replace_tag(save.intern(crowd), std::make_shared<const Bitmap>(std::move(wanted)));
  save.set_entry(crowd, "def");
  ASSERT_TRUE(index.apply(save, r));
  view = index.view();
  const auto id = view->dictionary().find(crowd);
  ASSERT_TRUE(id);
  EXPECT_TRUE(roaring_bitmap_equals(view->tag(*id).bits.get(), ordinals_of(*view, {1, 3}).get()));
  EXPECT_EQ(view->entries().at(crowd), "def");

  // Deleting a member reaches the crowd; other tags' writes do not change it.
  WriteBatch e;
  e.erase(3);
  ASSERT_TRUE(index.apply(e, r));
  ASSERT_TRUE(index.apply(test::add_batch(4, {"u"}), r));
  EXPECT_EQ(count(*index.view(), crowd), 1u);

  WriteBatch drop;
  drop.clear_tag(drop.intern(crowd));
  drop.erase_entry(crowd);
  ASSERT_TRUE(index.apply(drop, r));
  EXPECT_EQ(count(*index.view(), crowd), 0u);
  EXPECT_FALSE(index.view()->entries().contains(crowd));
  EXPECT_EQ(view->entries().at(crowd), "def") << "an old view keeps its entries";
  EXPECT_EQ(count(*index.view(), "t"), 3u) << "users 1, 4 and 5 keep their tag";
}

// Saving one more crowd among thousands publishes a view that shares the old
// one's untouched tags, definitions and dictionary shards: the write costs
// what it changes, not a copy per saved crowd (issue 14, 8b).
TEST(IndexReplaceAndClear, SavingACrowdSharesWhatItDidNotChange) {
  Index index;
  WriteResult r;
  ASSERT_TRUE(index.apply(test::add_batch(1, {"t"}), r));
  const auto members = std::make_shared<const Bitmap>(ordinals_of(*index.view(), {1}));
  constexpr int kCrowds = 3000;
  for (int first = 0; first < kCrowds; first += 500) {  // a few big batches, not 3000 writes
    WriteBatch save;
    for (int c = first; c < first + 500; ++c) {
      const std::string crowd = system_tags::crowd(test::numbered("c", c));
      save.replace_tag(save.intern(crowd), members);
      save.set_entry(crowd, test::numbered("def ", c));
    }
    ASSERT_TRUE(index.apply(save, r));
  }
  const auto before = index.view();
  WriteBatch one;
  const std::string crowd = system_tags::crowd("one more");
  one.replace_tag(one.intern(crowd), members);
  one.set_entry(crowd, "def");
  ASSERT_TRUE(index.apply(one, r));
  const auto after = index.view();

  const auto& old_parts = before->parts();
  const auto& new_parts = after->parts();
  ASSERT_EQ(after->tag_count(), before->tag_count() + 1);
  std::size_t shared_tags = 0;
  for (TagId id = 0; id < before->tag_count(); ++id) shared_tags += new_parts.tags.shares_chunk_with(old_parts.tags, id);
  EXPECT_GE(shared_tags, before->tag_count() - 256) << "at most the last chunk is copied";
  std::size_t shared_entries = 0;
  for (const auto& [key, text] : before->entries()) shared_entries += after->entries().shares_leaf_with(before->entries(), key);
  EXPECT_GE(shared_entries, before->entries().size() - 128) << "at most one leaf is copied";
  const auto& old_dictionary = before->dictionary();
  EXPECT_EQ(after->dictionary().shards_shared_with(old_dictionary), old_dictionary.shard_count() - 1);
  EXPECT_EQ(after->entries().at(crowd), "def");
  EXPECT_FALSE(before->entries().contains(crowd));
  EXPECT_EQ(after->entries().at(system_tags::crowd("c7")), "def 7");
}

// Random batches of every kind through a store, closed and reopened through
// the log alone and through a snapshot: the same index, values and entries.
TEST(StoreSystemState, LogAndSnapshotBringEverythingBack) {
  test::TempDir dir;
  std::mt19937_64 rng(5);
  std::shared_ptr<const IndexView> before;
  Values spend;
  auto open = [&] {
    std::string error;
    auto store = Store::open(StoreOptions{dir.path(), FsyncPolicy::kOff}, error);
    EXPECT_TRUE(store) << error;
    return store;
  };
  auto check = [&](const IndexView& view) {
    EXPECT_EQ(test::same_index(*before, view), "");
    EXPECT_EQ(before->entries(), view.entries());
    EXPECT_EQ(diff_values(view, "spend", spend), "");
  };
  {
    auto store = open();
    test::Workload w(9);
    for (int i = 0; i < 300; ++i) {
      WriteResult r;
      const auto roll = rng() % 10;
      if (roll < 5) {
        auto b = w.batch();
        // A user's values go when the user is erased.
        for (const auto& op : b.ops()) {
          if (op.kind == WriteBatch::Kind::kErase) spend.erase(op.user);
        }
        ASSERT_EQ(store->write(b, r), WriteStatus::kOk);
      } else if (roll < 8) {
        WriteBatch b;
        const UserId user = rng() % 40;
        const int64_t v = static_cast<int64_t>(rng() % 5000) - 2500;
        b.set_value(user, b.intern("spend"), v);
        const uint32_t day = b.intern(system_tags::day("t", static_cast<int64_t>(rng() % 30)));
        b.add(user, std::span<const uint32_t>(&day, 1));
        spend[user] = v;
        ASSERT_EQ(store->write(b, r), WriteStatus::kOk);
      } else {
        const auto view = store->view();
        WriteBatch b;
        const std::string crowd = system_tags::crowd("c" + std::to_string(rng() % 3));
        Bitmap members = view->universe().bits.clone();
        roaring_bitmap_remove_range(members.get(), 0, rng() % (view->ordinal_count() + 1));
        b.replace_tag(b.intern(crowd), std::make_shared<const Bitmap>(std::move(members)));
        b.set_entry(crowd, std::to_string(i));
        if (rng() % 4 == 0) b.erase_entry(system_tags::crowd("c0"));
        ASSERT_EQ(store->write(b, r), WriteStatus::kOk);
      }
    }
    before = store->view();
    ASSERT_FALSE(before->entries().empty());
  }
  {
    auto store = open();
    ASSERT_TRUE(store);
    check(*store->view());
    SnapshotInfo info;
    std::string error;
    ASSERT_TRUE(store->snapshot(info, error)) << error;
  }
  auto store = open();
  ASSERT_TRUE(store);
  check(*store->view());
}

}  // namespace
}  // namespace crowd
