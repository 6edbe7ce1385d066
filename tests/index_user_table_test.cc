// UserTable (and its OrdinalHash) against std::unordered_map: IDs that are
// random, sequential, or equal in their low or high bits; growth through
// many rehashes; duplicates stopping append_new where they occur; erasure
// (forget) interleaved with adds, which exercises the hash's backward-shift
// deletion on every cluster shape.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

#include "index/user_table.h"

namespace crowd {
namespace {

std::vector<UserId> ids_of_shape(int shape, std::size_t n, std::mt19937_64& rng) {
  std::vector<UserId> ids;
  for (std::size_t i = 0; i < n; ++i) {
    switch (shape) {
      case 0:
        ids.push_back(rng());
        break;
      case 1:
        ids.push_back(1'000'000'000 + i);  // sequential
        break;
      case 2:
        ids.push_back((rng() % 5000) << 32);  // equal low halves
        break;
      default:
        ids.push_back(rng() % 5000);  // equal high halves, and repeats
        break;
    }
  }
  return ids;
}

TEST(UserTable, FindOrAddMatchesAMap) {
  for (int shape = 0; shape < 4; ++shape) {
    SCOPED_TRACE("shape " + std::to_string(shape));
    std::mt19937_64 rng(shape + 1);
    UserTable table;
    std::unordered_map<UserId, Ordinal> model;
    for (const UserId id : ids_of_shape(shape, 200'000, rng)) {
      const auto [it, added] = model.try_emplace(id, static_cast<Ordinal>(model.size()));
      const auto o = table.find_or_add(id);
      ASSERT_TRUE(o.has_value());
      ASSERT_EQ(*o, it->second);
      (void)added;
    }
    ASSERT_EQ(table.size(), model.size());
    for (const auto& [id, o] : model) {
      ASSERT_EQ(table.find(id), o);
      ASSERT_EQ(table.external(o), id);
    }
    // Absent IDs are absent.
    for (int i = 0; i < 10'000; ++i) {
      const UserId id = rng();
      ASSERT_EQ(table.find(id).has_value(), model.count(id) == 1);
    }
    // ~8-11 bytes a user in the hash (75% load at most, 8-byte slots).
    EXPECT_LE(table.index_bytes(), model.size() * 8 * 4 / 3 * 2 + 8192);
  }
}

TEST(UserTable, AppendNewStopsAtTheFirstDuplicate) {
  std::mt19937_64 rng(7);
  std::vector<UserId> ids = ids_of_shape(0, 50'000, rng);
  UserTable table;
  ASSERT_EQ(table.find_or_add(ids[100]), 0u);  // already present before the append
  ids.erase(ids.begin() + 100);
  ids.insert(ids.begin() + 30'000, UserId{ids[5]});  // a duplicate inside the run
  std::vector<UserId> first(ids.begin(), ids.begin() + 20'000);
  EXPECT_EQ(table.append_new(first), first.size());
  EXPECT_EQ(table.size(), 20'001u);
  std::vector<UserId> rest(ids.begin() + 20'000, ids.end());
  EXPECT_EQ(table.append_new(rest), 10'000u) << "stops at the duplicate of ids[5]";
  EXPECT_EQ(table.size(), 30'001u);
  for (std::size_t i = 0; i < 30'000; ++i) ASSERT_EQ(table.find(ids[i]), static_cast<Ordinal>(i + 1));
  // The stopped run left nothing behind: the next add gets the next ordinal.
  EXPECT_EQ(table.find_or_add(ids[30'001]), 30'001u);
  EXPECT_EQ(table.external(30'001), ids[30'001]);
}

TEST(UserTable, ForgetMatchesAMapUnderChurn) {
  for (int shape = 0; shape < 4; ++shape) {
    SCOPED_TRACE("shape " + std::to_string(shape));
    std::mt19937_64 rng(shape + 11);
    UserTable table;
    std::unordered_map<UserId, Ordinal> model;  // IDs currently known
    const auto ids = ids_of_shape(shape, 60'000, rng);
    Ordinal next = 0;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const UserId id = ids[i];
      if (rng() % 3 == 0) {
        // Forget a user that is there, or one that is not.
        EXPECT_EQ(table.forget(id), model.erase(id) == 1) << "id " << id;
        EXPECT_FALSE(table.find(id));
        continue;
      }
      const auto [it, added] = model.emplace(id, next);
      if (added) ++next;
      ASSERT_EQ(table.find_or_add(id), it->second) << "id " << id;
      if (i % 4096 == 0) {
        // Every known ID still finds its ordinal; forgotten ones keep their
        // ordinal's ID readable.
        for (const auto& [known, o] : model) ASSERT_EQ(table.find(known), o);
      }
    }
    EXPECT_EQ(table.size(), next);
    for (const auto& [known, o] : model) {
      ASSERT_EQ(table.find(known), o);
      EXPECT_EQ(table.external(o), known);
    }
  }
}

TEST(UserTable, AForgottenUserComesBackWithANewOrdinal) {
  UserTable table;
  ASSERT_EQ(table.find_or_add(7), 0u);
  ASSERT_EQ(table.find_or_add(8), 1u);
  EXPECT_TRUE(table.forget(7));
  EXPECT_FALSE(table.forget(7));
  EXPECT_EQ(table.external(0), 7u);  // old views may still read it
  EXPECT_EQ(table.find_or_add(7), 2u);
  EXPECT_EQ(table.append_erased(3), 3u);
  EXPECT_EQ(table.size(), 6u);
  EXPECT_EQ(table.external(4), 0u);
  EXPECT_FALSE(table.find(0));  // an erased ordinal's 0 finds nothing
  EXPECT_EQ(table.find(8), 1u);
}

}  // namespace
}  // namespace crowd
