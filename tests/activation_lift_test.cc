// activation/lift.h: hand-computed lifts and intervals (the formula written
// out again here, in its (1-p)/x form), a textbook example, the undefined
// cases, and the interval's coverage over simulated campaigns whose true
// lift is known.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "activation/lift.h"

namespace crowd::activation {
namespace {

constexpr double kZ95 = 1.959963984540054;

TEST(Lift, ThirtyInAHundredAgainstTwentyInAHundred) {
  const LiftEstimate e = relative_lift({30, 100}, {20, 100});
  ASSERT_TRUE(e.treated_rate && e.holdout_rate && e.lift && e.low && e.high);
  EXPECT_DOUBLE_EQ(*e.treated_rate, 0.3);
  EXPECT_DOUBLE_EQ(*e.holdout_rate, 0.2);
  EXPECT_NEAR(*e.lift, 0.5, 1e-12);  // RR = 0.3 / 0.2 = 1.5

  const double se = std::sqrt((1 - 0.3) / 30 + (1 - 0.2) / 20);  // sqrt(0.7/30 + 0.8/20) = 0.25166...
  const double low = std::exp(std::log(1.5) - kZ95 * se) - 1;
  const double high = std::exp(std::log(1.5) + kZ95 * se) - 1;
  EXPECT_NEAR(*e.low, low, 1e-12);
  EXPECT_NEAR(*e.high, high, 1e-12);
  // The same numbers by hand: RR from 0.9160 to 2.4564.
  EXPECT_NEAR(*e.low, -0.0840, 1e-4);
  EXPECT_NEAR(*e.high, 1.4564, 1e-4);
}

TEST(Lift, MatchesTheTextbookCatecholamineExample) {
  // Sahai and Khurshid, Statistics in Epidemiology (1996), example 3.1:
  // coronary heart disease in 27 of 122 men with high catecholamine against
  // 44 of 487 with low; RR 2.450, 95% CI 1.584 to 3.789.
  const LiftEstimate e = relative_lift({27, 122}, {44, 487});
  ASSERT_TRUE(e.lift && e.low && e.high);
  EXPECT_NEAR(*e.lift, 1.450, 5e-4);
  EXPECT_NEAR(*e.low, 0.584, 5e-4);
  EXPECT_NEAR(*e.high, 2.789, 5e-4);
}

TEST(Lift, ASmallerZGivesANarrowerIntervalAroundTheSameLift) {
  const LiftEstimate wide = relative_lift({30, 100}, {20, 100});
  const LiftEstimate narrow = relative_lift({30, 100}, {20, 100}, 1.6448536269514722);  // 90%
  EXPECT_EQ(*wide.lift, *narrow.lift);
  EXPECT_GT(*narrow.low, *wide.low);
  EXPECT_LT(*narrow.high, *wide.high);
  const LiftEstimate point = relative_lift({30, 100}, {20, 100}, 0);
  EXPECT_DOUBLE_EQ(*point.low, *point.lift);
  EXPECT_DOUBLE_EQ(*point.high, *point.lift);
}

TEST(Lift, ANegativeLiftHasAnIntervalAboveMinusOne) {
  const LiftEstimate e = relative_lift({5, 1000}, {40, 1000});
  ASSERT_TRUE(e.lift && e.low && e.high);
  EXPECT_NEAR(*e.lift, -0.875, 1e-12);
  EXPECT_GT(*e.low, -1);
  EXPECT_LT(*e.low, *e.lift);
  EXPECT_GT(*e.high, *e.lift);
  EXPECT_LT(*e.high, 0);
}

TEST(Lift, AGroupWithoutTrialsHasNoRateAndNoLift) {
  const LiftEstimate no_treated = relative_lift({0, 0}, {20, 100});
  EXPECT_FALSE(no_treated.treated_rate);
  EXPECT_DOUBLE_EQ(no_treated.holdout_rate.value_or(-1), 0.2);
  EXPECT_FALSE(no_treated.lift || no_treated.low || no_treated.high);

  const LiftEstimate no_holdout = relative_lift({30, 100}, {0, 0});
  EXPECT_DOUBLE_EQ(no_holdout.treated_rate.value_or(-1), 0.3);
  EXPECT_FALSE(no_holdout.holdout_rate || no_holdout.lift || no_holdout.low || no_holdout.high);

  const LiftEstimate nothing = relative_lift({}, {});
  EXPECT_FALSE(nothing.treated_rate || nothing.holdout_rate || nothing.lift || nothing.low || nothing.high);
}

TEST(Lift, ZeroSuccessesLeaveTheIntervalUndefined) {
  // No hold-out conversions: the ratio is infinite.
  const LiftEstimate infinite = relative_lift({20, 100}, {0, 100});
  EXPECT_DOUBLE_EQ(infinite.holdout_rate.value_or(-1), 0);
  EXPECT_FALSE(infinite.lift || infinite.low || infinite.high);

  // No treated conversions: the lift is -1, but ln 0 has no interval.
  const LiftEstimate none_treated = relative_lift({0, 100}, {20, 100});
  EXPECT_DOUBLE_EQ(none_treated.lift.value_or(0), -1);
  EXPECT_FALSE(none_treated.low || none_treated.high);

  const LiftEstimate none_at_all = relative_lift({0, 100}, {0, 100});
  EXPECT_FALSE(none_at_all.lift || none_at_all.low || none_at_all.high);
}

TEST(Lift, CountsThatAreNotProportionsOrAZThatIsNotANumberGiveNoInterval) {
  const LiftEstimate impossible = relative_lift({101, 100}, {20, 100});
  EXPECT_FALSE(impossible.treated_rate || impossible.lift);
  for (const double z : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(), -1.0}) {
    const LiftEstimate e = relative_lift({30, 100}, {20, 100}, z);
    EXPECT_TRUE(e.lift);
    EXPECT_FALSE(e.low || e.high) << z;
  }
}

TEST(Lift, EverySuccessInBothGroupsCollapsesTheInterval) {
  const LiftEstimate e = relative_lift({100, 100}, {50, 50});
  ASSERT_TRUE(e.lift && e.low && e.high);
  EXPECT_EQ(*e.lift, 0);
  EXPECT_EQ(*e.low, 0);
  EXPECT_EQ(*e.high, 0);
}

TEST(Lift, ATinyLiftOnHugeGroupsKeepsItsDigits) {
  const LiftEstimate e = relative_lift({100'000'100, 1'000'000'000}, {100'000'000, 1'000'000'000});
  ASSERT_TRUE(e.lift && e.low && e.high);
  EXPECT_NEAR(*e.lift, 1e-6, 1e-12);
  EXPECT_LT(*e.low, *e.lift);
  EXPECT_GT(*e.high, *e.lift);
  // se = sqrt(2 * 0.9 / 1e8) = 1.3416e-4, so the interval is about ±2.63e-4.
  EXPECT_NEAR(*e.high - *e.low, 2 * kZ95 * std::sqrt(1.8e-8), 1e-7);
}

// The share of simulated campaigns whose interval covers the true lift.
double coverage(double treated_rate, uint64_t treated_n, double holdout_rate, uint64_t holdout_n, uint64_t seed) {
  constexpr int kCampaigns = 2000;
  const double true_lift = treated_rate / holdout_rate - 1;
  std::mt19937_64 rng(seed);
  std::binomial_distribution<uint64_t> treated(treated_n, treated_rate), holdout(holdout_n, holdout_rate);
  int covered = 0;
  for (int i = 0; i < kCampaigns; ++i) {
    const LiftEstimate e = relative_lift({treated(rng), treated_n}, {holdout(rng), holdout_n});
    if (e.low && e.high && *e.low <= true_lift && true_lift <= *e.high) ++covered;
  }
  return static_cast<double>(covered) / kCampaigns;
}

TEST(Lift, TheIntervalCoversTheTrueLiftAboutNinetyFivePercentOfTheTime) {
  // A 50% lift on a 4% conversion rate, equal groups.
  const double equal = coverage(0.06, 2000, 0.04, 2000, 1);
  EXPECT_GE(equal, 0.93);
  EXPECT_LE(equal, 0.97);
  // No lift, a 10% hold-out (about 50 hold-out conversions).
  const double small_holdout = coverage(0.05, 9000, 0.05, 1000, 2);
  EXPECT_GE(small_holdout, 0.93);
  EXPECT_LE(small_holdout, 0.97);
}

}  // namespace
}  // namespace crowd::activation
