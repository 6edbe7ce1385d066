// The typed door to the index's own tags (index/system_view.h): what typed
// writes (WriteBatch::intern_day, save_crowd, delete_crowd, set_value, the
// activation records and kept bitmaps, and BulkLoader::day, value_tags)
// store, SystemView reads back, and users' views
// (IndexView::find_tag, user_tags) never show it.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "index/bulk_loader.h"
#include "index/index.h"
#include "index/system_view.h"
#include "index/write_batch.h"

namespace crowd {
namespace {

// The value of `o` decoded from the slices.
int64_t decode(const AttributeSlices& s, Ordinal o) {
  uint64_t u = 0;
  for (int b = 0; b < AttributeSlices::kBits; ++b) {
    const TagBits* t = s.bits[static_cast<std::size_t>(b)];
    if (t != nullptr && t->bits.contains(o)) u |= uint64_t{1} << b;
  }
  return AttributeSlices::from_offset_binary(u);
}

TEST(SystemView, TypedWritesReadBack) {
  Index index;
  WriteBatch b;
  const uint32_t tags[] = {b.intern("cat:1:buy"), b.intern_day("cat:1:buy", 17495), b.intern_day("cat:1:buy", -3)};
  b.add(7, tags);
  const uint32_t other[] = {b.intern_day("cat:1:buy", 17500), b.intern_day("cat:2:buy", 17490)};
  b.add(8, other);
  b.set_value(7, b.intern("spend"), -12);
  b.set_value(8, b.intern("spend"), std::numeric_limits<int64_t>::max());
  WriteResult r;
  ASSERT_TRUE(index.apply(b, r));
  auto view = index.view();
  const SystemView system = view->system();

  EXPECT_EQ(view->find_tag("cat:1:buy"), view->dictionary().find("cat:1:buy"));
  EXPECT_EQ(view->user_tags().size(), 1u);
  const auto day = system.day("cat:1:buy", 17495);
  ASSERT_TRUE(day.has_value());
  EXPECT_EQ(view->tag(*day).cardinality, 1u);
  EXPECT_FALSE(view->find_tag(view->dictionary().name(*day)).has_value()) << "users cannot name a system tag";
  EXPECT_FALSE(system.day("cat:1:buy", 17496).has_value());

  const auto days = system.days("cat:1:buy");
  ASSERT_EQ(days.size(), 3u);
  EXPECT_EQ(days[0].day, -3);
  EXPECT_EQ(days[1].day, 17495);
  EXPECT_EQ(days[2].day, 17500);
  EXPECT_EQ(system.days_between("cat:1:buy", 0, 17499), (std::vector<TagId>{days[1].id}));
  EXPECT_EQ(system.all_days().size(), 4u);
  EXPECT_EQ(system.days_before(17495).size(), 2u);  // -3 and cat:2's 17490
  EXPECT_EQ(system.days_before(17495, b).size(), 2u);
  WriteBatch only_new;
  only_new.intern_day("cat:2:buy", 17490);
  EXPECT_EQ(system.days_before(17495, only_new).size(), 1u);

  const auto spend = system.attribute("spend");
  ASSERT_TRUE(spend.has_value());
  EXPECT_EQ(spend->exists->cardinality, 2u);
  EXPECT_EQ(decode(*spend, *index.users().find(7)), -12);
  EXPECT_EQ(decode(*spend, *index.users().find(8)), std::numeric_limits<int64_t>::max());
  EXPECT_FALSE(system.attribute("nope").has_value());
  EXPECT_FALSE(system.attribute(std::string("spend") + '\x1f').has_value()) << "a name with the mark is none";
  EXPECT_EQ(system.attributes(), (std::vector<std::string>{"spend"}));

  // Saved crowds: saved, listed, deleted.
  EXPECT_FALSE(system.saved_crowd("c").has_value());
  WriteBatch save;
  auto members = std::make_shared<Bitmap>();
  members->add(*index.users().find(8));
  save.save_crowd("c", std::move(members), "definition");
  ASSERT_TRUE(index.apply(save, r));
  view = index.view();
  const auto crowd = view->system().saved_crowd("c");
  ASSERT_TRUE(crowd.has_value());
  EXPECT_EQ(crowd->definition, "definition");
  EXPECT_EQ(view->tag(crowd->id).cardinality, 1u);
  EXPECT_EQ(view->system().saved_crowds(), (std::vector<std::string>{"c"}));
  EXPECT_EQ(view->user_tags().size(), 1u);
  WriteBatch drop;
  drop.delete_crowd("c");
  ASSERT_TRUE(index.apply(drop, r));
  view = index.view();
  EXPECT_FALSE(view->system().saved_crowd("c").has_value());
  EXPECT_TRUE(view->system().saved_crowds().empty());
}

// Activation's records and kept bitmaps (issue 16): written, read back by
// key and by prefix, hidden from users' views, and an erased user leaves
// kept bitmaps like any tag.
TEST(SystemView, ActivationRecordsAndKeptBitmaps) {
  Index index;
  WriteResult r;
  WriteBatch users;
  const uint32_t t = users.intern("t");
  for (UserId u : {1, 2, 3}) users.add(u, std::span(&t, 1));
  ASSERT_TRUE(index.apply(users, r));
  auto members = std::make_shared<Bitmap>();
  for (UserId u : {1, 3}) members->add(*index.users().find(u));
  WriteBatch keep;
  keep.set_activation_record("crowd\x1f" "a", "A");
  keep.set_activation_record("crowd\x1f" "b", "B");
  keep.set_activation_record("dest\x1f" "a", "D");
  keep.keep_bitmap("v\x1f" "a\x1f" "1", members);
  keep.keep_bitmap("v\x1f" "a\x1f" "2", std::make_shared<Bitmap>());
  keep.keep_bitmap("w\x1f" "a", members);
  ASSERT_TRUE(index.apply(keep, r));
  auto view = index.view();
  const SystemView system = view->system();
  EXPECT_EQ(system.activation_record("dest\x1f" "a"), "D");
  EXPECT_FALSE(system.activation_record("dest\x1f" "b"));
  const auto crowds = system.activation_records("crowd\x1f");
  ASSERT_EQ(crowds.size(), 2u);
  EXPECT_EQ(crowds[0].first, "crowd\x1f" "a");
  EXPECT_EQ(crowds[1].second, "B");
  const auto kept = system.kept_bitmaps("v\x1f" "a\x1f");
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].first, "v\x1f" "a\x1f" "1");
  EXPECT_EQ(view->tag(kept[0].second).cardinality, 2u);
  EXPECT_EQ(system.kept_bitmap("v\x1f" "a\x1f" "1"), kept[0].second);
  EXPECT_EQ(view->user_tags().size(), 1u) << "kept bitmaps are not users' tags";

  WriteBatch erase;
  erase.erase(1);
  erase.drop_bitmap("w\x1f" "a");
  erase.erase_activation_record("crowd\x1f" "a");
  ASSERT_TRUE(index.apply(erase, r));
  view = index.view();
  const auto id = view->system().kept_bitmap("v\x1f" "a\x1f" "1");
  ASSERT_TRUE(id);
  EXPECT_EQ(view->tag(*id).cardinality, 1u) << "an erased user leaves kept bitmaps";
  EXPECT_EQ(view->tag(*view->system().kept_bitmap("w\x1f" "a")).cardinality, 0u);
  EXPECT_EQ(view->system().activation_records("crowd\x1f").size(), 1u);
}

TEST(SystemView, BulkLoadedValuesAndDaysMatchTheWritePath) {
  Index loaded;
  {
    BulkLoader loader(loaded);
    const uint32_t spend = loader.attribute("spend");
    EXPECT_EQ(loader.attribute("spend"), spend);
    std::vector<uint32_t> tags = {loader.tag("a"), loader.day("a", 100)};
    loader.value_tags(spend, -5, tags);
    ASSERT_TRUE(loader.add(1, tags));
    tags = {loader.tag("a")};
    loader.value_tags(spend, 1'000'000, tags);
    ASSERT_TRUE(loader.add(2, tags));
    loader.finish();
  }
  Index written;
  WriteBatch b;
  const uint32_t t[] = {b.intern("a"), b.intern_day("a", 100)};
  b.add(1, t);
  b.add(2, std::span(t, 1));
  b.set_value(1, b.intern("spend"), -5);
  b.set_value(2, b.intern("spend"), 1'000'000);
  WriteResult r;
  ASSERT_TRUE(written.apply(b, r));

  const auto lv = loaded.view();
  const auto wv = written.view();
  EXPECT_EQ(lv->dictionary().size(), wv->dictionary().size()) << "the same tags, no empty slices";
  const auto ls = lv->system().attribute("spend");
  const auto ws = wv->system().attribute("spend");
  ASSERT_TRUE(ls && ws);
  for (const UserId u : {UserId{1}, UserId{2}}) {
    EXPECT_EQ(decode(*ls, *loaded.users().find(u)), decode(*ws, *written.users().find(u)));
  }
  const auto ld = lv->system().days("a");
  ASSERT_EQ(ld.size(), 1u);
  EXPECT_EQ(ld[0].day, 100);
  EXPECT_EQ(lv->tag(ld[0].id).cardinality, 1u);
}

}  // namespace
}  // namespace crowd
