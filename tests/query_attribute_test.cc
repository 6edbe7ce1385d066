// Numeric attributes (query/attribute.h) against a plain per-user model: every
// comparison operator at boundaries and INT64 extremes, BETWEEN (including an
// empty one), and stats (exact sum, min, max, nearest-rank percentiles) over
// random crowds.
//
// The index is built by Index::merge from slice bitmaps that a helper here
// computes from the plain values, so the expectation (a loop over a std::map)
// shares nothing with the code under test but the storage layout of
// system_tags.h. The users are laid out so that every container shape occurs:
// a chunk where 60% have values (bitsets), one where 2% do (arrays), one where
// everyone has the same value (full runs, slices equal to E or empty within
// the chunk), and one mixed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "index/index.h"
#include "index/system_tags.h"
#include "query/attribute.h"

namespace crowd::query {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

using Values = std::map<UserId, int64_t>;

// One attribute's tags from plain values: the exists bitmap and the 64
// slices of the offset-binary value. Empty slices are left out, or written
// as empty tags when `empty_slices` (both forms must mean "bit clear").
void add_attribute(const std::string& attribute, const Values& values, Index& index, bool empty_slices,
                   std::vector<std::string>& names, std::vector<Bitmap>& bitmaps) {
  Bitmap exists;
  std::vector<Bitmap> slices(64);
  for (const auto& [user, value] : values) {
    const Ordinal o = *index.users().find(user);
    exists.add(o);
    const uint64_t u = static_cast<uint64_t>(value) ^ (uint64_t{1} << 63);
    for (int b = 0; b < 64; ++b) {
      if ((u >> b) & 1) slices[static_cast<std::size_t>(b)].add(o);
    }
  }
  names.push_back(system_tags::attribute(attribute, -1));
  bitmaps.push_back(std::move(exists));
  for (int b = 0; b < 64; ++b) {
    if (slices[static_cast<std::size_t>(b)].empty() && !empty_slices) continue;
    names.push_back(system_tags::attribute(attribute, b));
    bitmaps.push_back(std::move(slices[static_cast<std::size_t>(b)]));
  }
}

// A value drawn from one of several shapes: heavy duplicates near zero,
// lognormal spend, anything in int64, or an extreme.
int64_t random_value(std::mt19937_64& rng) {
  switch (rng() % 8) {
    case 0:
    case 1:
      return static_cast<int64_t>(rng() % 101) - 50;
    case 2:
    case 3:
    case 4: {
      std::lognormal_distribution<double> spend(6.0, 2.0);
      return std::min<int64_t>(1'000'000, static_cast<int64_t>(spend(rng)));
    }
    case 5:
      return static_cast<int64_t>(rng());
    default: {
      const int64_t extremes[] = {kMin, kMin + 1, -1, 0, 1, kMax - 1, kMax};
      return extremes[rng() % 7];
    }
  }
}

struct Fixture {
  std::unique_ptr<Index> index;
  std::vector<UserId> users;  // every user, values or not
  Values mixed;               // "mixed": every shape of value
  Values spend;               // "spend_90d": lognormal, non-negative (constant high slices)
  Values single;              // "one": one user
  Values none;                // "gone": an exists tag with nobody in it
};

// ~210k users over four chunks of different shapes (see the file comment).
Fixture make_fixture(uint64_t seed, bool empty_slices) {
  std::mt19937_64 rng(seed);
  Fixture f;
  f.index = std::make_unique<Index>();
  constexpr uint32_t kUsers = 210'000;
  Bitmap members;
  for (uint32_t i = 0; i < kUsers; ++i) {
    const UserId id = rng() >> 1;  // random external IDs: ordinals follow insertion order
    const auto o = f.index->users().find_or_add(id);
    if (!o) continue;
    f.users.push_back(id);
    members.add(*o);
    const uint32_t chunk = *o >> 16;
    const uint64_t roll = rng() % 1000;
    if (chunk == 0 ? roll < 600 : chunk == 1 ? roll < 20 : chunk == 2 ? true : roll < 300) {
      f.mixed[id] = chunk == 2 ? 123'456 : random_value(rng);
    }
    if (roll % 10 < 6) {
      std::lognormal_distribution<double> spend(6.0, 2.0);
      f.spend[id] = std::min<int64_t>(1'000'000, static_cast<int64_t>(spend(rng)));
    }
  }
  f.single[f.users[f.users.size() / 2]] = -7;
  std::vector<std::string> names;
  std::vector<Bitmap> bitmaps;
  add_attribute("mixed", f.mixed, *f.index, empty_slices, names, bitmaps);
  add_attribute("spend_90d", f.spend, *f.index, empty_slices, names, bitmaps);
  add_attribute("one", f.single, *f.index, empty_slices, names, bitmaps);
  add_attribute("gone", f.none, *f.index, empty_slices, names, bitmaps);
  names.push_back("plain:tag");
  bitmaps.push_back(members.clone());
  f.index->merge(names, std::move(bitmaps), members);
  return f;
}

bool holds(CompareOp op, int64_t v, int64_t low, int64_t high) {
  switch (op) {
    case CompareOp::kLess:
      return v < low;
    case CompareOp::kLessEqual:
      return v <= low;
    case CompareOp::kGreater:
      return v > low;
    case CompareOp::kGreaterEqual:
      return v >= low;
    case CompareOp::kEqual:
      return v == low;
    case CompareOp::kNotEqual:
      return v != low;
    case CompareOp::kBetween:
      return low <= v && v <= high;
  }
  return false;
}

// The values by ordinal, as one sorted array: the model is scanned ~1,500
// times a test, and walking a 100k-node map (or sorting the external IDs of
// every result) would be most of the test's time.
using FlatValues = std::vector<std::pair<Ordinal, int64_t>>;

FlatValues by_ordinal(const Values& values, Index& index) {
  FlatValues out;
  for (const auto& [user, v] : values) out.emplace_back(*index.users().find(user), v);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Ordinal> ordinals(const Bitmap& bits) {
  std::vector<Ordinal> out(bits.cardinality());
  roaring_bitmap_to_uint32_array(bits.get(), out.data());
  return out;
}

// Sorted ordinals.
std::vector<Ordinal> expected(const FlatValues& values, CompareOp op, int64_t low, int64_t high) {
  std::vector<Ordinal> out;
  for (const auto& [user, v] : values) {
    if (holds(op, v, low, high)) out.push_back(user);
  }
  return out;
}

std::vector<UserId> externals(const Bitmap& bits, const IndexView& view) {
  std::vector<uint32_t> ordinals(bits.cardinality());
  roaring_bitmap_to_uint32_array(bits.get(), ordinals.data());
  std::vector<UserId> out;
  out.reserve(ordinals.size());
  for (const uint32_t o : ordinals) out.push_back(view.external(o));
  std::sort(out.begin(), out.end());
  return out;
}

// Operands worth trying: the extremes, zero's neighbours, and for a sample of
// the values present v-1, v, v+1.
std::vector<int64_t> operands(const Values& values, std::mt19937_64& rng) {
  std::vector<int64_t> out = {kMin, kMin + 1, kMin + 2, -1'000'001, -51, -1, 0, 1, 50, 1'000'000, kMax - 1, kMax};
  std::vector<int64_t> present;
  for (const auto& [user, v] : values) present.push_back(v);
  for (int i = 0; i < 12 && !present.empty(); ++i) {
    const int64_t v = present[rng() % present.size()];
    out.push_back(v);
    if (v != kMin) out.push_back(v - 1);
    if (v != kMax) out.push_back(v + 1);
  }
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<int64_t>(rng()));
  return out;
}

constexpr CompareOp kOneSided[] = {CompareOp::kLess,         CompareOp::kLessEqual, CompareOp::kGreater,
                                   CompareOp::kGreaterEqual, CompareOp::kEqual,     CompareOp::kNotEqual};

std::string describe(std::string_view attribute, CompareOp op, int64_t low, int64_t high) {
  std::string s(attribute);
  s += ' ';
  s += spelling(op);
  s += ' ' + std::to_string(low);
  if (op == CompareOp::kBetween) s += " AND " + std::to_string(high);
  return s;
}

void check_compare(const IndexView& view, std::string_view attribute, const FlatValues& values, CompareOp op,
                   int64_t low, int64_t high) {
  const auto got = compare_attribute(view, attribute, op, low, high);
  ASSERT_TRUE(got.has_value()) << describe(attribute, op, low, high);
  const auto want = expected(values, op, low, high);
  const auto have = ordinals(*got);
  // Sizes first: printing two 100k-element vectors on failure helps nobody.
  ASSERT_EQ(have.size(), want.size()) << describe(attribute, op, low, high);
  EXPECT_TRUE(have == want) << describe(attribute, op, low, high);
}

class AttributeCompare : public ::testing::TestWithParam<std::tuple<uint64_t, bool>> {};

TEST_P(AttributeCompare, EveryOperatorMatchesThePlainModel) {
  const auto [seed, empty_slices] = GetParam();
  const Fixture f = make_fixture(seed, empty_slices);
  const auto view = f.index->view();
  std::mt19937_64 rng(seed * 7919);
  const std::pair<const char*, const Values*> attributes[] = {
      {"mixed", &f.mixed}, {"spend_90d", &f.spend}, {"one", &f.single}, {"gone", &f.none}};
  for (const auto& [name, map] : attributes) {
    const FlatValues flat = by_ordinal(*map, *f.index);
    const FlatValues* values = &flat;
    const auto xs = operands(*map, rng);
    for (const int64_t x : xs) {
      for (const CompareOp op : kOneSided) check_compare(*view, name, *values, op, x, 0);
    }
    // BETWEEN over pairs of operands, either order (low > high is empty).
    for (int i = 0; i < 60; ++i) {
      const int64_t a = xs[rng() % xs.size()];
      const int64_t b = xs[rng() % xs.size()];
      check_compare(*view, name, *values, CompareOp::kBetween, a, b);
    }
    for (const int64_t x : xs) check_compare(*view, name, *values, CompareOp::kBetween, x, x);
    check_compare(*view, name, *values, CompareOp::kBetween, kMin, kMax);
    check_compare(*view, name, *values, CompareOp::kBetween, kMax, kMin);
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, AttributeCompare, ::testing::Combine(::testing::Values(1, 2, 3), ::testing::Bool()));

TEST(AttributeCompare, UsersWithoutAValueMatchNothingNotEvenNotEqual) {
  const Fixture f = make_fixture(11, false);
  const auto view = f.index->view();
  const auto differs = compare_attribute(*view, "one", CompareOp::kNotEqual, 0, 0);
  ASSERT_TRUE(differs.has_value());
  EXPECT_EQ(externals(*differs, *view), (std::vector<UserId>{f.single.begin()->first}));
  const auto all = compare_attribute(*view, "mixed", CompareOp::kGreaterEqual, kMin, 0);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->cardinality(), f.mixed.size());
  EXPECT_LT(all->cardinality(), view->universe().cardinality);
}

TEST(AttributeCompare, UnknownAttributeIsNullopt) {
  const Fixture f = make_fixture(12, false);
  const auto view = f.index->view();
  EXPECT_FALSE(compare_attribute(*view, "nope", CompareOp::kEqual, 1, 0).has_value());
  EXPECT_FALSE(compare_attribute(*view, "plain", CompareOp::kEqual, 1, 0).has_value());  // a tag, not an attribute
  EXPECT_FALSE(compare_attribute(*view, "spend", CompareOp::kEqual, 1, 0).has_value());  // a prefix of one
  EXPECT_FALSE(attribute_stats(*view, "nope", view->universe().bits.get()).has_value());
}

// ---------------------------------------------------------------------------
// Stats.

AttributeStats expected_stats(const Values& values, const std::vector<UserId>& crowd) {
  std::vector<int64_t> v;
  for (const UserId u : crowd) {
    if (const auto it = values.find(u); it != values.end()) v.push_back(it->second);
  }
  std::sort(v.begin(), v.end());
  AttributeStats s;
  s.count = v.size();
  for (const int64_t x : v) s.sum += x;
  if (v.empty()) return s;
  s.min = v.front();
  s.max = v.back();
  s.mean = static_cast<double>(static_cast<long double>(s.sum) / static_cast<long double>(v.size()));
  // Nearest rank: the k-th smallest with k = ceil(p * n), by plain integer
  // arithmetic.
  const auto rank = [&](uint64_t percent) {
    uint64_t k = 0;
    while (k * 100 < percent * v.size()) ++k;
    return v[std::max<uint64_t>(k, 1) - 1];
  };
  s.p50 = rank(50);
  s.p90 = rank(90);
  s.p99 = rank(99);
  return s;
}

std::string to_string(Int128 x) {
  if (x == 0) return "0";
  const bool negative = x < 0;
  __extension__ using Uint128 = unsigned __int128;
  Uint128 u = negative ? Uint128(0) - static_cast<Uint128>(x) : static_cast<Uint128>(x);
  std::string s;
  for (; u != 0; u /= 10) s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
  return negative ? "-" + s : s;
}

void check_stats(const IndexView& view, std::string_view attribute, const Values& values, const Bitmap& crowd,
                 const std::string& label) {
  const auto got = attribute_stats(view, attribute, crowd.get());
  ASSERT_TRUE(got.has_value()) << label;
  const AttributeStats want = expected_stats(values, externals(crowd, view));
  EXPECT_EQ(got->count, want.count) << label;
  EXPECT_EQ(to_string(got->sum), to_string(want.sum)) << label;
  if (want.count == 0) return;
  EXPECT_EQ(got->min, want.min) << label;
  EXPECT_EQ(got->max, want.max) << label;
  EXPECT_EQ(got->p50, want.p50) << label;
  EXPECT_EQ(got->p90, want.p90) << label;
  EXPECT_EQ(got->p99, want.p99) << label;
  EXPECT_DOUBLE_EQ(got->mean, want.mean) << label;
}

class AttributeStatsTest : public ::testing::TestWithParam<std::tuple<uint64_t, bool>> {};

TEST_P(AttributeStatsTest, MatchesSortingThePlainValues) {
  const auto [seed, empty_slices] = GetParam();
  const Fixture f = make_fixture(seed, empty_slices);
  const auto view = f.index->view();
  std::mt19937_64 rng(seed * 104729);
  // Crowds: everyone, random fractions, a range of ordinals, one user, nobody.
  std::vector<std::pair<std::string, Bitmap>> crowds;
  crowds.emplace_back("universe", view->universe().bits.clone());
  for (const int percent : {50, 10, 1}) {
    Bitmap b;
    for (uint32_t o = 0; o < view->ordinal_count(); ++o) {
      if (rng() % 100 < static_cast<uint64_t>(percent)) b.add(o);
    }
    crowds.emplace_back(std::to_string(percent) + "%", std::move(b));
  }
  Bitmap range;
  roaring_bitmap_add_range(range.get(), 100'000, 140'000);
  crowds.emplace_back("ordinals 100000..139999", std::move(range));
  Bitmap one;
  one.add(static_cast<uint32_t>(rng() % view->ordinal_count()));
  crowds.emplace_back("one user", std::move(one));
  crowds.emplace_back("nobody", Bitmap());
  const std::pair<const char*, const Values*> attributes[] = {
      {"mixed", &f.mixed}, {"spend_90d", &f.spend}, {"one", &f.single}, {"gone", &f.none}};
  for (const auto& [name, values] : attributes) {
    for (const auto& [label, crowd] : crowds)
      check_stats(*view, name, *values, crowd, std::string(name) + " over " + label);
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, AttributeStatsTest, ::testing::Combine(::testing::Values(1, 2, 3), ::testing::Bool()));

// The sum of extreme values needs more than 64 bits, and percentiles follow
// the nearest-rank rule on a hand-checked example.
TEST(AttributeStatsTest, ExactSumBeyondInt64AndNearestRank) {
  auto index = std::make_unique<Index>();
  Values big;
  Values small;
  Bitmap members;
  for (UserId id = 1; id <= 10; ++id) {
    members.add(*index->users().find_or_add(id));
    big[id] = kMax;
  }
  for (UserId id = 1; id <= 4; ++id) small[id] = static_cast<int64_t>(id);  // {1, 2, 3, 4}
  std::vector<std::string> names;
  std::vector<Bitmap> bitmaps;
  add_attribute("big", big, *index, false, names, bitmaps);
  add_attribute("small", small, *index, false, names, bitmaps);
  index->merge(names, std::move(bitmaps), members);
  const auto view = index->view();

  const auto b = attribute_stats(*view, "big", view->universe().bits.get());
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(to_string(b->sum), to_string(Int128(kMax) * 10));
  EXPECT_EQ(b->min, kMax);
  EXPECT_EQ(b->p50, kMax);
  EXPECT_DOUBLE_EQ(b->mean, static_cast<double>(kMax));

  const auto s = attribute_stats(*view, "small", view->universe().bits.get());
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->count, 4u);
  EXPECT_EQ(to_string(s->sum), "10");
  EXPECT_EQ(s->p50, 2);  // ceil(0.5 * 4) = 2nd smallest
  EXPECT_EQ(s->p90, 4);  // ceil(3.6) = 4th
  EXPECT_EQ(s->p99, 4);
  EXPECT_DOUBLE_EQ(s->mean, 2.5);
}

}  // namespace
}  // namespace crowd::query
