// Estimates (issue 18, item 6): a count from a fixed sample of chunks with a
// 95% interval. Checked against exact counts of the same plans: the interval
// holds the exact count about 95 times in 100 over many queries, on users
// independent of their ordinals and on tags clustered by arrival order; the
// statistics against hand-worked samples; the exact cases exact.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "index/bulk_loader.h"
#include "index/index.h"
#include "query/estimate.h"
#include "query/query.h"

namespace crowd::query {
namespace {

// ---- The statistics on samples worked by hand --------------------------------------------------

TEST(EstimateFromSample, EveryChunkSampledIsExact) {
  const std::vector<ChunkSample> all = {{0, 100, 10}, {1, 100, 30}};
  const Estimate e = estimate_from_sample(all, 200, 2);
  EXPECT_TRUE(e.exact);
  EXPECT_EQ(e.count, 40u);
  EXPECT_EQ(e.low, 40u);
  EXPECT_EQ(e.high, 40u);
  EXPECT_EQ(e.variance, 0.0);
}

TEST(EstimateFromSample, RatioEstimatorScalesTheSampledShare) {
  // 4 of 10 chunks, 1,000 users each, 10,000 users in all; 100, 120, 80, 100
  // members: share 400/4000 = 10% -> 1,000.
  const std::vector<ChunkSample> s = {{0, 1000, 100}, {3, 1000, 120}, {5, 1000, 80}, {8, 1000, 100}};
  const Estimate e = estimate_from_sample(s, 10'000, 10);
  EXPECT_FALSE(e.exact);
  EXPECT_EQ(e.count, 1000u);
  EXPECT_EQ(e.sampled_users, 4000u);
  EXPECT_EQ(e.sampled_chunks, 4u);
  // Between chunks: deviations 0, 20, -20, 0 -> s^2 = 800/3;
  // V = 10^2 (1 - 4/10) / 4 * 800/3 = 4000. Binomial: 10^8 * 0.6 * p(1-p) / 4000
  // with p = 402/4004: 1354.5. So V = 4000 and the half width 1.96 * sqrt(V).
  EXPECT_NEAR(e.variance, 4000.0, 1e-6);
  const double half = 1.959964 * std::sqrt(4000.0);
  EXPECT_EQ(e.low, static_cast<uint64_t>(std::floor(1000 - half)));
  EXPECT_EQ(e.high, static_cast<uint64_t>(std::ceil(1000 + half)));
}

TEST(EstimateFromSample, NoMemberInTheSampleStillHasAnInterval) {
  // Chunks alike (no spread) and empty: the binomial floor gives a width.
  const std::vector<ChunkSample> s = {{0, 1000, 0}, {1, 1000, 0}, {2, 1000, 0}, {3, 1000, 0}};
  const Estimate e = estimate_from_sample(s, 100'000, 100);
  EXPECT_EQ(e.count, 0u);
  EXPECT_EQ(e.low, 0u);
  EXPECT_GT(e.high, 0u);
  EXPECT_GT(e.variance, 0.0);
}

TEST(EstimateFromSample, IntervalIsClippedToWhatIsCertain) {
  // Everyone sampled is a member, with a large spread: the interval may not
  // go below the members seen nor above them plus every unsampled user.
  const std::vector<ChunkSample> s = {{0, 10, 10}, {1, 1000, 1000}};
  const Estimate e = estimate_from_sample(s, 1100, 3);
  EXPECT_GE(e.low, 1010u);
  EXPECT_LE(e.high, 1100u);
  EXPECT_LE(e.low, e.count);
  EXPECT_LE(e.count, e.high);
}

// ---- Against exact counts on a sampled index ------------------------------------------------------

constexpr uint32_t kChunks = 48;  // 3.1M users: 16 of 48 chunks sampled
constexpr uint64_t kUsers = uint64_t{kChunks} << 16;

// Tags of several densities, every user independent of its ordinal ("p<share
// in thousandths>"), plus tags clustered by arrival order: "burst" is held
// by 30% of the users of one chunk in four and nobody else's; "ramp" by a
// share growing from 0 to 20% over the ordinals.
std::unique_ptr<Index> make_index() {
  auto index = std::make_unique<Index>();
  BulkLoader load(*index);
  const std::vector<std::pair<std::string, double>> independent = {{"p500", 0.5},  {"p200", 0.2},  {"p100", 0.1},
                                                                   {"p050", 0.05}, {"p010", 0.01}, {"p002", 0.002}};
  std::vector<uint32_t> ids;
  for (const auto& [name, share] : independent) ids.push_back(load.tag(name));
  const uint32_t burst = load.tag("burst");
  const uint32_t ramp = load.tag("ramp");
  std::mt19937_64 rng(18);
  std::uniform_real_distribution<double> u01(0, 1);
  std::vector<uint32_t> tags;
  for (uint64_t user = 0; user < kUsers; ++user) {
    tags.clear();
    for (std::size_t i = 0; i < independent.size(); ++i) {
      if (u01(rng) < independent[i].second) tags.push_back(ids[i]);
    }
    if ((user >> 16) % 4 == 1 && u01(rng) < 0.3) tags.push_back(burst);
    if (u01(rng) < 0.2 * static_cast<double>(user) / kUsers) tags.push_back(ramp);
    EXPECT_TRUE(load.add(user + 1, tags));
  }
  load.finish();
  return index;
}

class EstimateAgainstExact : public ::testing::Test {
 public:
  static void SetUpTestSuite() { index_ = make_index().release(); }
  static void TearDownTestSuite() {
    delete index_;
    index_ = nullptr;
  }
  struct Both {
    uint64_t exact;
    Estimate estimate;
  };
  static Both run(const std::string& q, double phase = kEstimatePhase) {
    const auto view = index_->view();
    auto compiled = compile(q, *view, Options{});
    EXPECT_TRUE(std::holds_alternative<Plan>(compiled)) << q;
    const auto& plan = std::get<Plan>(compiled);
    Evaluator evaluator;
    return {evaluator.count(plan, *view), evaluator.estimate(plan, *view, phase)};
  }
  static Index* index_;
};
Index* EstimateAgainstExact::index_ = nullptr;

TEST_F(EstimateAgainstExact, OneTagIsExactWithoutSampling) {
  const Both b = run("p050");
  EXPECT_TRUE(b.estimate.exact);
  EXPECT_EQ(b.estimate.count, b.exact);
  EXPECT_EQ(b.estimate.low, b.exact);
  EXPECT_EQ(b.estimate.high, b.exact);
}

TEST_F(EstimateAgainstExact, SamplesSixteenChunksAndIsDeterministic) {
  const Both a = run("p500 AND p100");
  const Both b = run("p500 AND p100");
  EXPECT_FALSE(a.estimate.exact);
  EXPECT_EQ(a.estimate.sampled_chunks, kEstimateChunks);
  EXPECT_EQ(a.estimate.sampled_users, kEstimateChunks << 16);
  EXPECT_EQ(a.estimate.count, b.estimate.count);
  EXPECT_EQ(a.estimate.low, b.estimate.low);
  EXPECT_EQ(a.estimate.high, b.estimate.high);
}

// Random queries of 2-5 terms over the tags, with AND, OR and AND NOT, each
// estimated from 8 samples (phases 1/16, 3/16, ... of the stride): over these
// 1,200 intervals, a 95% interval should hold the exact count about 95% of
// the time. Intervals of one sample are correlated (they share chunks), so
// the bounds are loose: under 90% would be a broken interval; on independent
// users over 99% would be one too wide to be worth its claim. On tags
// clustered by arrival the interval is knowingly wider: its variance assumes
// chunks drawn at random, and the systematic sample does better than that on
// periodic and trending data.
std::vector<std::string> random_queries(uint64_t seed, std::size_t n, bool clustered) {
  const std::vector<std::string> independent = {"p500", "p200", "p100", "p050", "p010", "p002"};
  const std::vector<std::string> all = {"p500", "p200", "p100", "p050", "p010", "p002", "burst", "ramp"};
  const auto& names = clustered ? all : independent;
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  while (out.size() < n) {
    const std::size_t terms = 2 + rng() % 4;
    std::string q = names[rng() % names.size()];
    if (clustered && q != "burst" && q != "ramp") q = (rng() % 2 ? "burst" : "ramp");
    for (std::size_t i = 1; i < terms; ++i) {
      const char* op = (rng() % 3 == 0) ? " OR " : (rng() % 2 ? " AND " : " AND NOT ");
      q = "(" + q + op + names[rng() % names.size()] + ")";
    }
    out.push_back(q);
  }
  return out;
}

void expect_coverage(const std::vector<std::string>& queries, bool tight) {
  std::size_t held = 0;
  std::size_t sampled = 0;
  for (const auto& q : queries) {
    for (int k = 0; k < 8; ++k) {
      const auto b = EstimateAgainstExact::run(q, (2 * k + 1) / 16.0);
      ASSERT_LE(b.estimate.low, b.estimate.count) << q;
      ASSERT_LE(b.estimate.count, b.estimate.high) << q;
      if (b.estimate.exact) {
        EXPECT_EQ(b.estimate.count, b.exact) << q;
        continue;
      }
      ++sampled;
      if (b.estimate.low <= b.exact && b.exact <= b.estimate.high) ++held;
    }
  }
  std::printf("intervals held the exact count in %zu of %zu sampled estimates\n", held, sampled);
  EXPECT_GE(sampled, queries.size() * 8 * 9 / 10) << "most random queries need a pass";
  EXPECT_GE(held * 100, sampled * 90) << held << " of " << sampled << " intervals hold";
  if (tight) {
    EXPECT_LE(held * 100, sampled * 99) << held << " of " << sampled << " intervals hold";
  }
}

TEST_F(EstimateAgainstExact, IntervalsHoldTheExactCountOnIndependentUsers) {
  expect_coverage(random_queries(1, 150, false), true);
}

TEST_F(EstimateAgainstExact, IntervalsHoldTheExactCountOnTagsClusteredByArrival) {
  expect_coverage(random_queries(2, 150, true), false);
}

// The targets: relative error at 95% <= 1% for crowds of >= 5% of
// users and <= 5% for crowds of >= 0.2%, measured as the estimate's distance
// from the exact count; on independent users the interval's half width says
// the same.
TEST_F(EstimateAgainstExact, ErrorWithinTargetsOnIndependentUsers) {
  const auto queries = random_queries(3, 200, false);
  std::size_t big = 0, big_within = 0, mid = 0, mid_within = 0;
  for (const auto& q : queries) {
    const auto b = run(q);
    if (b.estimate.exact || b.exact == 0) continue;
    const double share = static_cast<double>(b.exact) / kUsers;
    const double error =
        std::abs(static_cast<double>(b.estimate.count) - static_cast<double>(b.exact)) / static_cast<double>(b.exact);
    if (share >= 0.05) {
      ++big;
      big_within += error <= 0.01;
    } else if (share >= 0.002) {
      ++mid;
      mid_within += error <= 0.05;
    }
  }
  std::printf("within target: %zu of %zu crowds >= 5%%, %zu of %zu crowds 0.2-5%%\n", big_within, big, mid_within, mid);
  ASSERT_GT(big, 20u);
  ASSERT_GT(mid, 10u);
  EXPECT_GE(big_within * 100, big * 90) << big_within << " of " << big;
  EXPECT_GE(mid_within * 100, mid * 90) << mid_within << " of " << mid;
}

TEST(EstimateSmallIndex, NoMoreChunksThanTheSampleIsExact) {
  Index index;
  BulkLoader load(index);
  const uint32_t a = load.tag("a");
  const uint32_t b = load.tag("b");
  for (UserId u = 1; u <= 200'000; ++u) {
    std::vector<uint32_t> tags;
    if (u % 3 == 0) tags.push_back(a);
    if (u % 5 == 0) tags.push_back(b);
    ASSERT_TRUE(load.add(u, tags));
  }
  load.finish();
  const auto view = index.view();
  auto compiled = compile("a AND NOT b", *view, Options{});
  ASSERT_TRUE(std::holds_alternative<Plan>(compiled));
  Evaluator evaluator;
  const Estimate e = evaluator.estimate(std::get<Plan>(compiled), *view);
  EXPECT_TRUE(e.exact);
  // Multiples of 3 up to 200,000 that are not multiples of 15.
  EXPECT_EQ(e.count, 66'666u - 13'333u);
}

// A cluster's count: the shards' estimates of disjoint users add up, their
// variances too, and the interval is 95% around the sum, within [0, total].
TEST(SumEstimates, CountsAndVariancesAddAndTheIntervalIsAroundTheSum) {
  const Estimate exact_part = exact_estimate(1'000, 50'000);
  const Estimate all_exact[] = {exact_part, exact_estimate(234, 40'000)};
  const Estimate both = sum_estimates(all_exact, 90'000);
  EXPECT_TRUE(both.exact);
  EXPECT_EQ(both.count, 1'234u);
  EXPECT_EQ(both.low, 1'234u);
  EXPECT_EQ(both.high, 1'234u);

  Estimate sampled{5'000, 4'800, 5'200, false, 20'000, 16, 10'000.0};
  const Estimate mixed[] = {exact_part, sampled, sampled};
  const Estimate sum = sum_estimates(mixed, 200'000);
  EXPECT_FALSE(sum.exact);
  EXPECT_EQ(sum.count, 11'000u);
  EXPECT_EQ(sum.sampled_users, 50'000u + 40'000u);
  EXPECT_EQ(sum.sampled_chunks, 32u);
  EXPECT_DOUBLE_EQ(sum.variance, 20'000.0);
  const double half = 1.959964 * std::sqrt(20'000.0);  // 277.2
  EXPECT_EQ(sum.low, static_cast<uint64_t>(std::floor(11'000 - half)));
  EXPECT_EQ(sum.high, static_cast<uint64_t>(std::ceil(11'000 + half)));

  // Clipped to what can be: no fewer than none, no more than every user.
  Estimate wide{10, 0, 500, false, 1'000, 16, 1e6};
  const Estimate one[] = {wide};
  EXPECT_EQ(sum_estimates(one, 100).low, 0u);
  EXPECT_EQ(sum_estimates(one, 100).high, 100u);
}

}  // namespace
}  // namespace crowd::query
