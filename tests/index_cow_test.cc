// CowVector and CowSortedMap against std::vector and std::map: random edits
// over many versions, every older version still answering as it did, and an
// edit copying only the chunk or leaf it writes (issue 14, 8b: a saved crowd's
// PUT must not cost a copy of every tag and every definition).
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "index/cow_sorted_map.h"
#include "index/cow_vector.h"
#include "support/index_test_util.h"

namespace crowd {
namespace {

using test::numbered;

using Vec = CowVector<std::string, 8>;  // small chunks: many boundaries
using Map = CowSortedMap<std::string, 4>;
using Model = std::map<std::string, std::string, std::less<>>;

void expect_same(const Vec& v, const std::vector<std::string>& m, const std::string& context) {
  ASSERT_EQ(v.size(), m.size()) << context;
  for (std::size_t i = 0; i < m.size(); ++i) ASSERT_EQ(v[i], m[i]) << context << " at " << i;
}

void expect_same(const Map& map, const Model& m, const std::string& context) {
  ASSERT_EQ(map.size(), m.size()) << context;
  auto it = map.begin();
  for (const auto& [key, value] : m) {
    ASSERT_NE(it, map.end()) << context;
    ASSERT_EQ(it->first, key) << context;
    ASSERT_EQ(it->second, value) << context;
    ++it;
    ASSERT_TRUE(map.contains(key)) << context;
    ASSERT_EQ(map.at(key), value) << context;
  }
  ASSERT_EQ(it, map.end()) << context;
  // lower_bound between and beyond keys, as std::map answers it.
  for (const std::string probe : {"", "k", "k5", "k50", "k999", "z"}) {
    const auto want = m.lower_bound(probe);
    const auto got = map.lower_bound(probe);
    if (want == m.end()) {
      ASSERT_EQ(got, map.end()) << context << " probe " << probe;
    } else {
      ASSERT_NE(got, map.end()) << context << " probe " << probe;
      ASSERT_EQ(got->first, want->first) << context << " probe " << probe;
    }
  }
  EXPECT_FALSE(map.contains("absent")) << context;
}

TEST(CowVector, EditsMatchAVectorAndLeaveEveryOlderVersionAlone) {
  std::mt19937_64 rng(8);
  Vec v;
  std::vector<std::string> m;
  std::vector<Vec> versions{v};
  std::vector<std::vector<std::string>> models{m};
  for (int step = 0; step < 400; ++step) {
    Vec::Editor e(v);
    const int edits = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < edits; ++i) {
      if (m.empty() || rng() % 3 == 0) {
        const std::string item = numbered("item-long-enough-to-leave-small-string-storage-", step * 10 + i);
        e.push_back(item);
        m.push_back(item);
      } else {
        const std::size_t at = rng() % m.size();
        const std::string item = numbered("set", step);
        e.set(at, item);
        m[at] = item;
      }
    }
    ASSERT_EQ(e.size(), m.size());
    v = std::move(e).finish();
    versions.push_back(v);
    models.push_back(m);
  }
  ASSERT_GT(v.size(), 100u);
  for (std::size_t i = 0; i < versions.size(); ++i) expect_same(versions[i], models[i], numbered("version ", i));
  expect_same(Vec(m), m, "built from a vector");
}

TEST(CowVector, AnEditCopiesOnlyTheChunksItWrites) {
  std::vector<std::string> items;
  for (int i = 0; i < 80; ++i) items.push_back(numbered("i", i));
  const Vec before(items);
  Vec::Editor e(before);
  e.set(20, "changed");  // chunk 2 of 10
  e.push_back("new");    // chunk 10, new
  const Vec after = std::move(e).finish();
  for (std::size_t i = 0; i < 80; ++i) {
    EXPECT_EQ(after.shares_chunk_with(before, i), i / 8 != 2) << i;
  }
  EXPECT_EQ(before[20], "i20");
  EXPECT_EQ(after[20], "changed");
  EXPECT_EQ(after[80], "new");
  // A second write into the same chunk does not copy it again.
  Vec::Editor twice(after);
  twice.set(0, "a");
  twice.set(1, "b");
  const Vec again = std::move(twice).finish();
  EXPECT_EQ(again[0], "a");
  EXPECT_EQ(again[1], "b");
  EXPECT_EQ(after[0], "i0");
}

TEST(CowSortedMap, EditsMatchAMapAndLeaveEveryOlderVersionAlone) {
  std::mt19937_64 rng(4);
  Map map;
  Model m;
  std::vector<Map> versions{map};
  std::vector<Model> models{m};
  for (int step = 0; step < 600; ++step) {
    Map::Editor e(map);
    const int edits = 1 + static_cast<int>(rng() % 5);
    for (int i = 0; i < edits; ++i) {
      const std::string key = numbered("k", rng() % 300);
      if (rng() % 3 == 0) {
        EXPECT_EQ(e.erase(key), m.erase(key) == 1) << key;
      } else {
        const std::string value = numbered("v", step);
        e.set(key, value);
        m[key] = value;
      }
    }
    map = std::move(e).finish();
    if (step % 20 == 0) {
      versions.push_back(map);
      models.push_back(m);
    }
  }
  ASSERT_GT(map.size(), 50u);
  for (std::size_t i = 0; i < versions.size(); ++i) expect_same(versions[i], models[i], numbered("version ", i));
  expect_same(Map(m), m, "built from a map");
  EXPECT_TRUE(Map(m) == map);
  EXPECT_FALSE(Map() == map);
}

TEST(CowSortedMap, ErasingEverythingLeavesAnEmptyMapThatStillTakesKeys) {
  Model m;
  for (int i = 0; i < 40; ++i) m.emplace(numbered("k", i), "v");
  const Map full(m);
  Map::Editor e(full);
  for (const auto& [key, value] : m) EXPECT_TRUE(e.erase(key));
  EXPECT_FALSE(e.erase("k0"));
  Map empty = std::move(e).finish();
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.begin(), empty.end());
  EXPECT_EQ(empty.lower_bound("k"), empty.end());
  Map::Editor refill(empty);
  refill.set("b", "2");
  refill.set("a", "1");
  const Map two = std::move(refill).finish();
  expect_same(two, Model{{"a", "1"}, {"b", "2"}}, "refilled");
  expect_same(full, m, "the full version");
}

TEST(CowSortedMap, SettingOneKeyCopiesOnlyItsLeaf) {
  Model m;
  for (int i = 0; i < 400; ++i) m.emplace(numbered("k", 1000 + i), "v");
  const Map before(m);
  Map::Editor e(before);
  e.set("k1200", "changed");
  const Map after = std::move(e).finish();
  std::size_t shared = 0;
  for (const auto& [key, value] : m) shared += after.shares_leaf_with(before, key) ? 1 : 0;
  // Leaves hold at most 8 entries here: everything but k1200's leaf is shared.
  EXPECT_GE(shared, m.size() - 8);
  EXPECT_FALSE(after.shares_leaf_with(before, "k1200"));
  EXPECT_EQ(before.at("k1200"), "v");
  EXPECT_EQ(after.at("k1200"), "changed");
}

}  // namespace
}  // namespace crowd
