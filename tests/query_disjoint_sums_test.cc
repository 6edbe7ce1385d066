// Disjoint sums (issue 17, item 6): an OR of values of an exclusive field is
// counted as a sum, and an AND with one as a sum of ANDs -- equal to the
// ordinary evaluation and to a model, and never used for a field that is not
// exclusive.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "index/index.h"
#include "query/query.h"
#include "tests/support/index_test_util.h"

namespace crowd::query {
namespace {

const std::vector<std::string> kCities = {"city:a", "city:b", "city:c", "city:d", "city:e"};
const std::vector<std::string> kOther = {"g:x", "g:y", "vip"};

class DisjointSums : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteBatch on;
    on.set_exclusive_field("city", true);
    WriteResult r;
    ASSERT_TRUE(index_.apply(on, r));
    std::mt19937_64 rng(5);
    for (UserId u = 1; u <= 3000; ++u) {
      std::vector<std::string> tags = {kCities[rng() % kCities.size()]};
      for (const auto& t : kOther) {
        if (rng() % 3 == 0) tags.push_back(t);
      }
      // Some users get a second city later: it replaces the first.
      if (rng() % 7 == 0) tags.push_back(kCities[rng() % kCities.size()]);
      ASSERT_TRUE(index_.apply(test::add_batch(u, tags), r));
      auto& mine = users_[u];
      for (const auto& t : tags) {
        if (t.starts_with("city:")) std::erase_if(mine, [](const std::string& s) { return s.starts_with("city:"); });
        mine.insert(t);
      }
    }
  }
  uint64_t count(const std::string& q, bool sums, bool* disjoint = nullptr) {
    const auto view = index_.view();
    Options options;
    options.disjoint_sums = sums;
    auto compiled = compile(q, *view, options);
    EXPECT_TRUE(std::holds_alternative<Plan>(compiled)) << q;
    const auto& plan = std::get<Plan>(compiled);
    if (disjoint != nullptr) {
      *disjoint = plan.root().disjoint;
      for (const auto& c : plan.root().children) *disjoint |= c.disjoint;
    }
    Evaluator evaluator;
    return evaluator.count(plan, *view);
  }
  Index index_;
  std::map<UserId, std::set<std::string>> users_;
};

TEST_F(DisjointSums, EqualTheOrdinaryCountAndTheModel) {
  std::mt19937_64 rng(9);
  int summed = 0;
  for (int k = 0; k < 300; ++k) {
    std::set<std::string> cities;
    for (int n = 2 + static_cast<int>(rng() % 3); static_cast<int>(cities.size()) < n;) {
      cities.insert(kCities[rng() % kCities.size()]);
    }
    std::string either;
    for (const auto& c : cities) either += (either.empty() ? "" : " OR ") + c;
    const std::string other = kOther[rng() % kOther.size()];
    const bool negate = rng() % 2 == 0;
    const std::string q = rng() % 4 == 0 ? either : "(" + either + ") AND " + (negate ? "NOT " : "") + other;
    uint64_t expected = 0;
    for (const auto& [u, tags] : users_) {
      // An init-capture: Clang 14 (the sanitizer build) cannot capture a structured binding.
      const bool in_city =
          std::any_of(cities.begin(), cities.end(), [&held = tags](const auto& c) { return held.contains(c); });
      const bool in_other = q == either || (tags.contains(other) != negate);
      expected += in_city && in_other ? 1 : 0;
    }
    bool disjoint = false;
    EXPECT_EQ(count(q, true, &disjoint), expected) << q;
    EXPECT_EQ(count(q, false), expected) << q;
    summed += disjoint ? 1 : 0;
  }
  EXPECT_EQ(summed, 300) << "every city list should be planned as disjoint";
  // A field that is not exclusive is never summed.
  bool disjoint = true;
  (void)count("g:x OR g:y", true, &disjoint);
  EXPECT_FALSE(disjoint);
  (void)count("city:a OR g:x", true, &disjoint);
  EXPECT_FALSE(disjoint);
}

}  // namespace
}  // namespace crowd::query
