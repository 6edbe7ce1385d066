// The synthetic population's facts (Population::facts): numeric values for
// buyers and dated AIPL snapshots, and how load_population stores them.
// Expectations come from what the facts mean (a buyer holds a cat:*:buy tag,
// the later snapshot is the current aipl state, a slice is a bit of the
// offset-binary value), read back by tag names, not from the generator's
// code.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "data/synthetic_blocks.h"
#include "data/synthetic_load.h"
#include "data/synthetic_population.h"
#include "data/synthetic_world.h"
#include "index/bulk_loader.h"
#include "index/index.h"
#include "index/system_view.h"
#include "query/date.h"

namespace crowd::synth {
namespace {

constexpr int kOrders = 0, kSpend = 1, kRecency = 2, kClv = 3;  // world::kAttributeNames order
constexpr std::string_view kStates = "AIPL";

// (brand, state) pairs named by aipl:<brand>:<S> tags, or by aipl_daily tags.
using BrandStates = std::set<std::pair<std::string, char>>;

std::pair<std::string, char> brand_state(std::string_view name) {
  const auto first = name.find(':'), last = name.rfind(':');
  return {std::string(name.substr(first + 1, last - first - 1)), name.back()};
}

BrandStates current_states(const Population& pop, const std::vector<uint32_t>& tags) {
  BrandStates out;
  for (const uint32_t t : tags) {
    if (pop.vocabulary()[t].starts_with("aipl:")) out.insert(brand_state(pop.vocabulary()[t]));
  }
  return out;
}

BrandStates snapshot_states(const Population& pop, const UserFacts& f, uint32_t snapshot) {
  BrandStates out;
  for (const auto& e : f.events) {
    if (e.snapshot == snapshot) out.insert(brand_state(pop.vocabulary()[e.tag]));
  }
  return out;
}

TEST(SyntheticFacts, SnapshotDaysAreTheDatesTheyName) {
  for (const auto& s : world::kSnapshotDays) {
    EXPECT_EQ(query::parse_day(s.date), s.day) << s.date;
  }
  EXPECT_EQ(world::kSnapshotDays[0].date, "2026-10-15");
  EXPECT_EQ(world::kSnapshotDays[1].date, "2026-11-15");
  EXPECT_EQ(world::days_since_1970(1970, 1, 1), 0);
  EXPECT_EQ(world::days_since_1970(2000, 3, 1), *query::parse_day("2000-03-01"));
  EXPECT_EQ(world::days_since_1970(2024, 12, 31), *query::parse_day("2024-12-31"));
}

// The facts' vocabulary: one aipl_daily tag per aipl tag, after every tag
// user() emits.
TEST(SyntheticFacts, AiplDailyTagsMirrorAiplTagsAtTheEnd) {
  const Population pop({1'000, 1});
  const auto& v = pop.vocabulary();
  std::size_t aipl = 0, daily = 0, first_daily = v.size();
  for (std::size_t t = 0; t < v.size(); ++t) {
    if (v[t].starts_with("aipl:")) {
      ++aipl;
      EXPECT_NE(std::find(v.begin(), v.end(), "aipl_daily:" + v[t].substr(5)), v.end()) << v[t];
    }
    if (v[t].starts_with("aipl_daily:")) {
      ++daily;
      first_daily = std::min(first_daily, t);
    }
  }
  EXPECT_EQ(daily, aipl);
  EXPECT_EQ(first_daily, v.size() - daily);
  std::vector<uint32_t> tags;
  UserId id = 0;
  for (uint64_t i = 0; i < pop.users(); ++i) {
    pop.user(i, id, tags);
    for (const uint32_t t : tags) ASSERT_LT(t, first_daily);
  }
}

// Same seed, same facts; another seed, other facts; a smaller population is
// a prefix; facts from i alone equal facts from user(i)'s tags.
TEST(SyntheticFacts, DeterministicAndPrefixStable) {
  const Population a({20'000, 7}), b({20'000, 7}), small({5'000, 7}), other({20'000, 8});
  std::vector<uint32_t> tags;
  UserId id = 0;
  UserFacts fa, fb, fs, fo, fi;
  int same_as_other = 0;
  for (uint64_t i = 0; i < a.users(); ++i) {
    a.user(i, id, tags);
    a.facts(i, tags, fa);
    b.facts(i, fb);
    ASSERT_EQ(fa.has_values, fb.has_values) << i;
    ASSERT_EQ(fa.values, fb.values) << i;
    ASSERT_EQ(fa.events, fb.events) << i;
    if (i < small.users()) {
      small.facts(i, fs);
      ASSERT_EQ(fa.values, fs.values) << i;
      ASSERT_EQ(fa.events, fs.events) << i;
    }
    other.facts(i, fo);
    same_as_other += fa.has_values && fo.has_values && fa.values == fo.values;
  }
  EXPECT_LT(same_as_other, 20);
  // In blocks, on 1 and 3 threads: the same facts.
  for (const unsigned threads : {1u, 3u}) {
    uint64_t next = 0;
    EXPECT_TRUE(generate_in_order(a, threads, [&](const UserBlock& block) {
      for (std::size_t k = 0; k < block.size(); ++k, ++next) {
        a.facts(next, fi);
        const auto values = block.values_of(k);
        EXPECT_EQ(values.empty(), !fi.has_values) << next;
        if (!values.empty()) {
          EXPECT_TRUE(std::equal(values.begin(), values.end(), fi.values.begin())) << next;
        }
        const auto events = block.events_of(k);
        EXPECT_TRUE(std::equal(events.begin(), events.end(), fi.events.begin(), fi.events.end())) << next;
      }
      return true;
    }));
    EXPECT_EQ(next, a.users());
  }
}

// One pass over 200,000 users, shared by the value and AIPL tests.
struct FactsCensus {
  uint64_t users = 0, buyers = 0, zero_spend = 0;
  std::string first_problem;
  std::array<std::vector<int64_t>, world::kAttributes> values;
  std::map<std::string, std::vector<int64_t>> orders_by_depth, spend_by_power;
  std::vector<int64_t> clv_loyal, clv_other;  // buyers with and without an L state
  // AIPL (user, brand) pairs by state on the earlier and the later day
  // (0 none, 1..4 A I P L).
  std::array<std::array<uint64_t, 5>, 5> flow{};
};

const FactsCensus& facts_census() {
  static const FactsCensus shared = [] {
    FactsCensus c;
    const Population pop({200'000, 42});
    c.users = pop.users();
    std::vector<uint32_t> tags;
    UserId id = 0;
    UserFacts f;
    const auto problem = [&](uint64_t i, const std::string& what) {
      if (c.first_problem.empty()) c.first_problem = "user " + std::to_string(i) + ": " + what;
    };
    for (uint64_t i = 0; i < pop.users(); ++i) {
      pop.user(i, id, tags);
      pop.facts(i, tags, f);
      std::string depth, power;
      bool loyal = false;
      std::set<std::string> bought;
      for (const uint32_t t : tags) {
        const auto& name = pop.vocabulary()[t];
        if (name.starts_with("depth:")) depth = name;
        if (name.starts_with("power:")) power = name;
        if (name.starts_with("aipl:") && name.ends_with(":L")) loyal = true;
        if (name.starts_with("cat:") && name.ends_with(":buy")) bought.insert(name);
      }
      if (f.has_values != !bought.empty()) problem(i, "values without a buy tag, or a buyer without values");
      if (!f.has_values && f.values != std::array<int64_t, world::kAttributes>{}) problem(i, "non-buyer values");
      if (f.has_values) {
        ++c.buyers;
        const auto& v = f.values;
        for (int a = 0; a < world::kAttributes; ++a) c.values[a].push_back(v[a]);
        if (v[kOrders] < static_cast<int64_t>(bought.size())) problem(i, "fewer orders than bought categories");
        if (v[kOrders] > std::max<int64_t>(100, static_cast<int64_t>(bought.size()))) problem(i, "over 100 orders");
        if (v[kRecency] < 0 || v[kRecency] > 364) problem(i, "recency outside 0..364");
        if (v[kSpend] < 0 || v[kClv] < 0) problem(i, "negative spend or clv");
        // No spend in the last 90 days when the newest order is older.
        if (v[kSpend] > 0 && v[kRecency] >= 90) problem(i, "spend without an order in the last 90 days");
        c.zero_spend += v[kSpend] == 0;
        c.orders_by_depth[depth].push_back(v[kOrders]);
        if (v[kSpend] > 0) c.spend_by_power[power].push_back(v[kSpend]);
        (loyal ? c.clv_loyal : c.clv_other).push_back(v[kClv]);
      }
      // At most one state a brand a day; the later day is the current state.
      const auto now = current_states(pop, tags);
      const auto later = snapshot_states(pop, f, 1), earlier = snapshot_states(pop, f, 0);
      if (later != now) problem(i, "the later snapshot differs from the aipl tags");
      std::map<std::string, std::array<int, 2>> by_brand;
      for (const auto& e : f.events) {
        const auto [brand, s] = brand_state(pop.vocabulary()[e.tag]);
        auto& slot = by_brand.try_emplace(brand, std::array<int, 2>{0, 0}).first->second;
        if (slot[e.snapshot] != 0) problem(i, "two states for " + brand + " on one day");
        slot[e.snapshot] = 1 + static_cast<int>(kStates.find(s));
      }
      for (const auto& [brand, s] : by_brand) ++c.flow[s[0]][s[1]];
    }
    return c;
  }();
  return shared;
}

int64_t percentile(std::vector<int64_t> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * (v.size() - 1))];
}

double mean(const std::vector<int64_t>& v) {
  double sum = 0;
  for (const auto x : v) sum += static_cast<double>(x);
  return sum / static_cast<double>(std::max<std::size_t>(v.size(), 1));
}

TEST(SyntheticFacts, EveryUserIsConsistent) { EXPECT_EQ(facts_census().first_problem, ""); }

TEST(SyntheticFacts, ValuesArePlausible) {
  const auto& c = facts_census();
  const double buyers = static_cast<double>(c.buyers) / static_cast<double>(c.users);
  EXPECT_GT(buyers, 0.2);
  EXPECT_LT(buyers, 0.8);
  // Some buyers bought nothing in the last 90 days, most did.
  const double idle = static_cast<double>(c.zero_spend) / static_cast<double>(c.buyers);
  EXPECT_GT(idle, 0.1);
  EXPECT_LT(idle, 0.6);
  // Orders: from 1 to the cap, more for deeper shoppers.
  EXPECT_EQ(percentile(c.values[kOrders], 0), 1);
  EXPECT_GE(percentile(c.values[kOrders], 1), 80);
  EXPECT_GT(mean(c.orders_by_depth.at("depth:3")), 2 * mean(c.orders_by_depth.at("depth:1")));
  EXPECT_GT(mean(c.orders_by_depth.at("depth:2")), mean(c.orders_by_depth.at("depth:1")));
  // Recency spans the year.
  EXPECT_LE(percentile(c.values[kRecency], 0.05), 10);
  EXPECT_GE(percentile(c.values[kRecency], 0.95), 200);
  // Spend: heavy-tailed, higher with purchasing power.
  std::vector<int64_t> spending;
  for (const auto v : c.values[kSpend]) {
    if (v > 0) spending.push_back(v);
  }
  EXPECT_GT(percentile(spending, 0.99), 8 * percentile(spending, 0.5));
  EXPECT_GE(percentile(spending, 1), 10'000);
  EXPECT_GT(percentile(c.spend_by_power.at("power:high"), 0.5), 3 * percentile(c.spend_by_power.at("power:low"), 0.5));
  EXPECT_GT(percentile(c.spend_by_power.at("power:mid"), 0.5), percentile(c.spend_by_power.at("power:low"), 0.5));
  // CLV: positive for (nearly) every buyer, higher for loyal customers.
  EXPECT_GT(percentile(c.values[kClv], 0.01), 0);
  EXPECT_GT(mean(c.clv_loyal), 1.5 * mean(c.clv_other));
}

TEST(SyntheticFacts, TheEarlierSnapshotHasNewLeftMovedAndStayingUsers) {
  const auto& f = facts_census().flow;
  uint64_t now = 0, was = 0, same = 0, forward = 0, backward = 0;
  for (int from = 0; from < 5; ++from) {
    for (int to = 0; to < 5; ++to) {
      if (to != 0) now += f[from][to];
      if (from != 0) was += f[from][to];
      if (from == 0 || to == 0) continue;
      if (from == to) same += f[from][to];
      if (from < to) forward += f[from][to];
      if (from > to) backward += f[from][to];
    }
  }
  uint64_t fresh = 0, left = 0;
  for (int s = 1; s < 5; ++s) {
    fresh += f[0][s];
    left += f[s][0];
  }
  const auto share = [&](uint64_t n) { return static_cast<double>(n) / static_cast<double>(now); };
  EXPECT_GT(now, 100'000u);
  EXPECT_GT(share(fresh), 0.10) << "new to the funnel";
  EXPECT_LT(share(fresh), 0.40);
  EXPECT_GT(share(same), 0.45) << "most stayed";
  EXPECT_GT(share(forward), 0.05);
  EXPECT_GT(forward, 2 * backward) << "A->I->P->L moves forward more often than back";
  EXPECT_GT(backward, 0u);
  EXPECT_GT(share(left), 0.02) << "left the funnel";
  EXPECT_LT(share(left), 0.30);
  EXPECT_GT(f[1][0], f[2][0]) << "leavers were mostly A";
  EXPECT_EQ(f[3][0] + f[4][0], 0u) << "leavers were A or I";
  EXPECT_EQ(was, now - fresh + left);
}

// load_population stores the facts as the write path would: decoding a
// user's slices gives facts()'s values back; every event is a day tag and its
// plain tag; the assignments it returns count users' tags only.
TEST(SyntheticFacts, LoadedSlicesAndDayTagsDecodeToFacts) {
  const Population pop({30'000, 5});
  Index index;
  BulkLoader loader(index);
  const auto assignments = load_population(pop, loader, 2);
  ASSERT_TRUE(assignments.has_value());
  loader.finish();
  const auto view = index.view();
  const SystemView system = view->system();
  const auto holds = [&](const std::optional<TagId>& tag, Ordinal o) {
    return tag.has_value() && view->tag(*tag).bits.contains(o);
  };
  const auto slice_holds = [](const TagBits* slice, Ordinal o) { return slice != nullptr && slice->bits.contains(o); };

  std::vector<uint32_t> tags;
  UserId id = 0;
  UserFacts f;
  uint64_t naive_assignments = 0;
  std::map<std::pair<std::string, int64_t>, uint64_t> day_counts;  // (tag, day) -> users
  uint64_t buyers = 0;
  for (uint64_t i = 0; i < pop.users(); ++i) {
    pop.user(i, id, tags);
    pop.facts(i, f);
    std::set<uint32_t> plain;
    for (const auto& e : f.events) {
      plain.insert(e.tag);
      ++day_counts[{pop.vocabulary()[e.tag], world::kSnapshotDays[e.snapshot].day}];
    }
    naive_assignments += tags.size() + plain.size();
    buyers += f.has_values;
    if (i % 37 != 0) continue;  // decode a sample bit by bit
    const auto ordinal = index.users().find(id);
    ASSERT_TRUE(ordinal.has_value());
    for (int a = 0; a < world::kAttributes; ++a) {
      const std::string attribute(world::kAttributeNames[a]);
      const auto slices = system.attribute(attribute);
      ASSERT_EQ(slices && slice_holds(slices->exists, *ordinal), f.has_values) << i << " " << attribute;
      uint64_t bits = 0;
      for (int b = 0; slices && b < AttributeSlices::kBits; ++b) {
        if (slice_holds(slices->bits[static_cast<std::size_t>(b)], *ordinal)) bits |= uint64_t{1} << b;
      }
      if (f.has_values) {
        EXPECT_EQ(AttributeSlices::from_offset_binary(bits), f.values[a]) << i << " " << attribute;
      } else {
        EXPECT_EQ(bits, 0u) << i << " " << attribute;
      }
    }
    for (const auto& e : f.events) {
      const auto& name = pop.vocabulary()[e.tag];
      EXPECT_TRUE(holds(view->find_tag(name), *ordinal)) << i << " " << name;
      EXPECT_TRUE(holds(system.day(name, world::kSnapshotDays[e.snapshot].day), *ordinal)) << i << " " << name;
    }
  }
  EXPECT_EQ(*assignments, naive_assignments);
  // Every day tag holds exactly the users with that event; there are no
  // others.
  // (Each expected one is there with its count, and there are as many.)
  for (const auto& [tag_day, users] : day_counts) {
    const auto t = system.day(tag_day.first, tag_day.second);
    ASSERT_TRUE(t.has_value()) << "missing day tag of " << tag_day.first;
    EXPECT_EQ(view->tag(*t).cardinality, users);
  }
  EXPECT_EQ(system.all_days().size(), day_counts.size());
  const auto spend = system.attribute("spend_90d");
  ASSERT_TRUE(spend.has_value());
  EXPECT_EQ(spend->exists->cardinality, buyers);
}

}  // namespace
}  // namespace crowd::synth
