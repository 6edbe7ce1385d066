// The fixed catalogue the synthetic population is drawn from: category
// groups ("verticals"), cities, brands and the hidden personas.
//
// This is data, not code: the numbers are hand-set to look like a Chinese
// e-commerce audience (Taobao's own UserBehavior log for the behaviour mix and
// category ids, public city-tier lists for the cities). The catalogue does not
// depend on the seed: a seed draws a different population from the same
// world, so tag names are stable across seeds and a demo query written for
// one seed runs on any other.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace crowd::synth::world {

inline constexpr int kVerticals = 16;
inline constexpr int kAgeBands = 7;
inline constexpr int kTiers = 5;
inline constexpr int kPowerLevels = 3;  // low, mid, high
inline constexpr int kDepthLevels = 3;  // 1, 2, 3
inline constexpr int kPlatformTraits = 3;

inline constexpr std::array<std::string_view, kAgeBands> kAgeBandNames = {"18-24", "25-29", "30-34", "35-39",
                                                                          "40-49", "50-59", "60+"};
inline constexpr std::array<std::string_view, kPowerLevels> kPowerNames = {"low", "mid", "high"};
inline constexpr std::array<std::string_view, kPlatformTraits> kPlatformNames = {"promo_sensitive", "quality_pref",
                                                                                 "sharer"};

// Numeric attributes of buyers (Population::facts): orders in the last 365
// days, spend in the last 90 days (whole yuan), days since the last order,
// and a predicted customer lifetime value (whole yuan).
inline constexpr int kAttributes = 4;
inline constexpr std::array<std::string_view, kAttributes> kAttributeNames = {"orders_365d", "spend_90d",
                                                                              "recency_days", "clv"};

// Days since 1970-01-01 of a Gregorian date in year 1970 or later: the day
// numbers of dated tags (index/system_view.h). A plain count (years, then months) is fine
// at compile time; data/ does not depend on query/date.h, so a test checks
// the results against query::parse_day.
[[nodiscard]] constexpr int64_t days_since_1970(int year, int month, int day) {
  const auto leap = [](int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
  constexpr std::array<int, 12> kMonthDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int64_t days = 0;
  for (int y = 1970; y < year; ++y) days += leap(y) ? 366 : 365;
  for (int m = 1; m < month; ++m) days += kMonthDays[m - 1] + (m == 2 && leap(year) ? 1 : 0);
  return days + day - 1;
}

// The two days of the dated AIPL snapshots (aipl_daily:<brand>:<A|I|P|L>),
// a month apart: the later one is the users' current state (their aipl tags),
// the earlier one the state a month before, for AIPL flow between two dates.
struct SnapshotDay {
  std::string_view date;  // YYYY-MM-DD
  int64_t day;            // days since 1970-01-01
};
inline constexpr int kSnapshots = 2;
inline constexpr std::array<SnapshotDay, kSnapshots> kSnapshotDays = {
    {{"2026-10-15", days_since_1970(2026, 10, 15)}, {"2026-11-15", days_since_1970(2026, 11, 15)}}};
static_assert(kSnapshotDays[0].day == 20'741 && kSnapshotDays[1].day == 20'772);

// Dated behaviour (Population::facts): the cat tags of the head categories
// (head_categories(), the most popular ranks) are also dated, on days within
// the last kBehaviourDays before the population's as-of day, so relative
// windows (within(cat:2520377:*, 30d)) work on the demo. Only the head: a
// day bitmap per (tag, day) for all 2,000 categories would be ~1.4M tags.
inline constexpr int kBehaviourDays = 180;
inline constexpr uint32_t kDatedCategories = 30;

// A top-level group of leaf categories. `share` is its share of the 2,000
// leaf categories; `interest` names its 兴趣 tag.
struct Vertical {
  std::string_view key;
  std::string_view interest;
  double share;
};
[[nodiscard]] std::span<const Vertical> verticals();

// Cities in order of size (the Zipf rank). `hanzi` is empty for cities that
// only get the pinyin tag.
struct City {
  std::string_view pinyin;
  std::string_view hanzi;
  int tier;  // 1..5
};
[[nodiscard]] std::span<const City> cities();

// A (fictional) brand selling in one vertical. `share` is its share of the
// vertical's buyers, which scales every AIPL transition for the brand.
struct Brand {
  std::string_view name;
  int vertical;
  double share;
};
[[nodiscard]] std::span<const Brand> brands();

// Real Taobao leaf category ids (the most frequent ones in the UserBehavior
// sample), used as the most popular synthetic categories so demo queries
// written against the real log find the same ids here.
[[nodiscard]] std::span<const uint32_t> head_categories();

struct Affinity {
  int vertical;
  double weight;  // share of the persona's focused browsing
};

// A hidden persona: what its members look like and what they shop for.
struct Persona {
  std::string_view name;
  double weight;  // share of the population
  double female;  // P(gender:female)
  std::array<double, kAgeBands> age;
  std::array<double, kTiers> tier;  // city tier; the city is drawn within it
  std::array<double, kPowerLevels> power;
  std::array<double, kDepthLevels> depth;  // shopping depth: how many categories a user touches
  double student;                          // P(student:yes) at 18-24; a third of it at 25-29
  std::array<double, kPlatformTraits> platform;
  std::array<Affinity, 3> favours;  // primary vertical first
  std::string_view brand;           // the persona's favourite brand
};
[[nodiscard]] std::span<const Persona> personas();

}  // namespace crowd::synth::world
