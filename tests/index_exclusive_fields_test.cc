// Exclusive fields (issue 17, item 5): once a field is exclusive, adding a
// user to <field>:v removes it from every other <field>:* tag -- on the
// grouped ingest path and the in-order path alike, in the log and on replay
// -- checked against an independent model of users as sets of tags.
#include <gtest/gtest.h>

#include <roaring/roaring.h>

#include <map>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "index/store.h"
#include "index/system_view.h"
#include "tests/support/index_test_util.h"

namespace crowd {
namespace {

const std::vector<std::string> kTags = {"g:a", "g:b", "g:c", "h:x", "h:y", "plain"};

// The model: users' tags, with g exclusive once `g_exclusive` is set.
struct Model {
  std::map<UserId, std::set<std::string>> users;
  bool g_exclusive = false;
  void add(UserId u, const std::string& tag) {
    auto& tags = users[u];
    if (g_exclusive && tag.starts_with("g:")) std::erase_if(tags, [](const auto& t) { return t.starts_with("g:"); });
    tags.insert(tag);
  }
  void remove(UserId u, const std::string& tag) {
    if (users.contains(u)) users[u].erase(tag);
  }
};

std::string diff(const IndexView& view, const Model& m) {
  for (const auto& tag : kTags) {
    std::set<UserId> expected;
    for (const auto& [u, tags] : m.users) {
      if (tags.contains(tag)) expected.insert(u);
    }
    std::set<UserId> got;
    if (const auto id = view.find_tag(tag)) {
      std::vector<uint32_t> ordinals(view.tag(*id).cardinality);
      roaring_bitmap_to_uint32_array(view.tag(*id).bits.get(), ordinals.data());
      for (const uint32_t o : ordinals) got.insert(view.external(o));
    }
    if (got != expected)
      return tag + ": " + std::to_string(got.size()) + " users, model " + std::to_string(expected.size());
  }
  return "";
}

TEST(ExclusiveFields, RandomBatchesMatchTheModelThroughTheLog) {
  test::TempDir dir;
  std::string error;
  Model m;
  std::mt19937_64 rng(29);
  {
    auto store = Store::open(StoreOptions{dir.path(), FsyncPolicy::kOff}, error);
    ASSERT_TRUE(store) << error;
    for (int step = 0; step < 300; ++step) {
      if (step == 40) {
        // Refused while some user holds two values of g (the index's own
        // check: index/exclusive_fields.h), and nothing changes; taken once
        // the extra values are removed.
        WriteBatch b;
        b.set_exclusive_field("g", true);
        WriteResult r;
        WriteBatch extra;
        for (const auto& [u, tags] : m.users) {
          bool first = true;
          for (const auto& t : tags) {
            if (!t.starts_with("g:")) continue;
            if (!first) {
              const uint32_t local = extra.intern(t);
              extra.remove(u, std::span<const uint32_t>(&local, 1));
            }
            first = false;
          }
        }
        ASSERT_FALSE(extra.empty()) << "the random writes left no user with two values of g";
        ASSERT_EQ(store->write(b, r), WriteStatus::kConflict);
        EXPECT_NE(r.refusal.find("hold two or more g:* tags"), std::string::npos) << r.refusal;
        EXPECT_FALSE(store->view()->system().exclusive("g"));
        ASSERT_EQ(store->write(extra, r), WriteStatus::kOk);
        for (const auto& op : extra.ops()) m.remove(op.user, extra.names()[extra.tags_of(op)[0]]);
        ASSERT_EQ(diff(*store->view(), m), "");
        ASSERT_EQ(store->write(b, r), WriteStatus::kOk);
        m.g_exclusive = true;
        EXPECT_TRUE(store->view()->system().exclusive("g"));
        EXPECT_FALSE(store->view()->system().exclusive("h"));
      }
      WriteBatch b;
      const bool adds_only = rng() % 2 == 0;  // the grouped path, or the in-order one
      const int ops = 1 + static_cast<int>(rng() % 12);
      Model next = m;
      for (int k = 0; k < ops; ++k) {
        const UserId u = 1 + rng() % 30;
        std::vector<uint32_t> local;
        std::vector<std::string> names;
        for (int t = 0, n = 1 + static_cast<int>(rng() % 3); t < n; ++t) names.push_back(kTags[rng() % kTags.size()]);
        for (const auto& name : names) local.push_back(b.intern(name));
        if (adds_only || rng() % 3 != 0) {
          b.add(u, local);
          for (const auto& name : names) next.add(u, name);
        } else {
          b.remove(u, local);
          for (const auto& name : names) next.remove(u, name);
        }
      }
      WriteResult r;
      ASSERT_EQ(store->write(b, r), WriteStatus::kOk);
      m = std::move(next);
      ASSERT_EQ(diff(*store->view(), m), "") << "step " << step;
    }
    // After the switch and enough writes, nobody holds two values of g.
  }
  // Replay from the log gives the same index.
  auto store = Store::open(StoreOptions{dir.path(), FsyncPolicy::kOff}, error);
  ASSERT_TRUE(store) << error;
  EXPECT_EQ(diff(*store->view(), m), "");
  EXPECT_TRUE(store->view()->system().exclusive("g"));
}

TEST(ExclusiveFields, ALaterValueReplacesAndTheLastOfABatchWins) {
  Index index;
  WriteResult r;
  WriteBatch on;
  on.set_exclusive_field("gender", true);
  ASSERT_TRUE(index.apply(on, r));
  ASSERT_TRUE(index.apply(test::add_batch(1, {"gender:male", "vip"}), r));
  ASSERT_TRUE(index.apply(test::add_batch(1, {"gender:female"}), r));
  auto view = index.view();
  EXPECT_EQ(view->tag(*view->find_tag("gender:male")).cardinality, 0u);
  EXPECT_EQ(view->tag(*view->find_tag("gender:female")).cardinality, 1u);
  EXPECT_EQ(view->tag(*view->find_tag("vip")).cardinality, 1u);
  // Two values in one op: the last wins.
  ASSERT_TRUE(index.apply(test::add_batch(2, {"gender:female", "gender:male"}), r));
  view = index.view();
  EXPECT_EQ(view->tag(*view->find_tag("gender:male")).cardinality, 1u);
  EXPECT_EQ(view->tag(*view->find_tag("gender:female")).cardinality, 1u);
  // Turned off: values accumulate again.
  WriteBatch off;
  off.set_exclusive_field("gender", false);
  ASSERT_TRUE(index.apply(off, r));
  ASSERT_TRUE(index.apply(test::add_batch(2, {"gender:female"}), r));
  view = index.view();
  EXPECT_EQ(view->tag(*view->find_tag("gender:female")).cardinality, 2u);
  EXPECT_FALSE(view->system().exclusive("gender"));
}

}  // namespace
}  // namespace crowd
