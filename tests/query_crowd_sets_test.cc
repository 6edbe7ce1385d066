// query::overlap, flow and funnel against the analytics model
// (tests/support/analytics_model.h): random crowds over a random index,
// every count checked user by user.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "query/crowd_sets.h"
#include "query/parser.h"
#include "query/plan_set.h"
#include "query/query.h"
#include "tests/support/analytics_model.h"
#include "tests/support/random_index.h"

namespace crowd::query {
namespace {

using test::IdList;

class CrowdSetsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new test::RandomIndex(test::make_random_index({.seed = 11, .users = 20'000, .tags = 40}));
  }
  static void TearDownTestSuite() {
    delete data_;
    data_ = nullptr;
  }

  // Random query texts: a tag, an AND, an OR, an and-not, a prefix; now and
  // then an empty crowd and ALL.
  static std::vector<std::string> random_queries(std::mt19937_64& rng, std::size_t n) {
    const auto& names = data_->tag_names;
    auto tag = [&] { return test::quoted(names[rng() % names.size()]); };
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) {
      switch (rng() % 8) {
        case 0: out.push_back(tag()); break;
        case 1: out.push_back(tag() + " AND " + tag()); break;
        case 2: out.push_back(tag() + " OR " + tag()); break;
        case 3: out.push_back(tag() + " AND NOT " + tag()); break;
        case 4: out.push_back("cat:* AND NOT " + tag()); break;
        case 5: out.push_back("NOT " + tag()); break;
        case 6: out.push_back(rng() % 2 ? "ALL" : "no_such_tag"); break;
        default: out.push_back("(" + tag() + " OR " + tag() + ") AND " + tag()); break;
      }
    }
    return out;
  }

  // The crowds of `queries` on one view, and per the model.
  struct Sets {
    std::shared_ptr<const IndexView> view;
    std::vector<Plan> plans;
    std::vector<PlanSet> sets;
    std::vector<const roaring_bitmap_t*> bits;
    std::vector<IdList> model;
  };
  static Sets evaluate(const std::vector<std::string>& queries) {
    Sets out;
    out.view = data_->index->view();
    Evaluator evaluator;
    for (const auto& q : queries) {
      auto compiled = compile(q, *out.view, Options{.lenient = true});
      EXPECT_TRUE(std::holds_alternative<Plan>(compiled)) << q;
      out.plans.push_back(std::move(std::get<Plan>(compiled)));
      out.model.push_back(data_->model.evaluate(std::get<Ast>(parse(q))));
    }
    for (const auto& plan : out.plans) {
      out.sets.emplace_back(plan, *out.view, evaluator);
      out.bits.push_back(out.sets.back().bits());
    }
    return out;
  }
  static IdList universe() { return data_->model.evaluate(make_all()); }

  static test::RandomIndex* data_;
};
test::RandomIndex* CrowdSetsTest::data_ = nullptr;

TEST_F(CrowdSetsTest, PairIndexWalksTheUpperTriangle) {
  for (std::size_t n = 2; n <= kMaxCrowdSets; ++n) {
    std::size_t expected = 0;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = i + 1; j < n; ++j) EXPECT_EQ(pair_index(i, j, n), expected++);
    }
  }
}

TEST_F(CrowdSetsTest, OverlapMatchesTheModel) {
  std::mt19937_64 rng(3);
  const IdList all = universe();
  for (int round = 0; round < 40; ++round) {
    const std::size_t n = 2 + rng() % (round < 30 ? 3 : kMaxCrowdSets - 1);  // mostly Venn-sized
    const auto queries = random_queries(rng, n);
    SCOPED_TRACE(::testing::PrintToString(queries));
    const Sets s = evaluate(queries);
    const OverlapReport r = overlap(s.bits);
    ASSERT_EQ(r.sizes.size(), n);
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(r.sizes[i], s.model[i].size());
      for (std::size_t j = i + 1; j < n; ++j) {
        EXPECT_EQ(r.intersections[pair_index(i, j, n)], test::intersection_size(s.model[i], s.model[j]));
      }
    }
    EXPECT_EQ(r.union_size, test::model_union_size(all, s.model));
    if (n <= kMaxVennCrowds) {
      EXPECT_EQ(r.regions, test::model_regions(all, s.model));
    } else {
      EXPECT_TRUE(r.regions.empty());
    }
  }
}

TEST_F(CrowdSetsTest, OverlapOfIdenticalAndDisjointCrowds) {
  const auto& names = data_->tag_names;
  const std::string a = test::quoted(names[0]);
  const Sets s = evaluate({a, a, "NOT " + a, "no_such_tag"});
  const OverlapReport r = overlap(s.bits);
  const IdList all = universe();
  EXPECT_EQ(r.regions, test::model_regions(all, s.model));
  EXPECT_EQ(r.intersections[pair_index(0, 1, 4)], s.model[0].size());
  EXPECT_EQ(r.intersections[pair_index(0, 2, 4)], 0u);
  EXPECT_EQ(r.union_size, all.size());
  // Users of a are exactly in crowds {0, 1}; the rest exactly in {2}.
  EXPECT_EQ(r.regions[0b0011 - 1], s.model[0].size());
  EXPECT_EQ(r.regions[0b0100 - 1], all.size() - s.model[0].size());
}

TEST_F(CrowdSetsTest, FlowMatchesTheModel) {
  std::mt19937_64 rng(5);
  const IdList all = universe();
  for (int round = 0; round < 30; ++round) {
    const std::size_t m = 1 + rng() % 5;
    const std::size_t n = 1 + rng() % 5;
    auto queries = random_queries(rng, m + n);
    SCOPED_TRACE(::testing::PrintToString(queries));
    const Sets s = evaluate(queries);
    const std::span<const roaring_bitmap_t* const> bits(s.bits);
    const FlowReport r = flow(bits.first(m), bits.subspan(m));
    const std::vector<IdList> from(s.model.begin(), s.model.begin() + static_cast<std::ptrdiff_t>(m));
    const std::vector<IdList> to(s.model.begin() + static_cast<std::ptrdiff_t>(m), s.model.end());
    for (std::size_t i = 0; i < m; ++i) {
      EXPECT_EQ(r.from_sizes[i], from[i].size());
      for (std::size_t j = 0; j < n; ++j) {
        EXPECT_EQ(r.cells[i * n + j], test::intersection_size(from[i], to[j])) << i << "," << j;
      }
      uint64_t left = 0;
      for (const UserId u : from[i]) left += test::model_union_size({u}, to) == 0 ? 1 : 0;
      EXPECT_EQ(r.left[i], left) << i;
    }
    for (std::size_t j = 0; j < n; ++j) {
      EXPECT_EQ(r.to_sizes[j], to[j].size());
      uint64_t entered = 0;
      for (const UserId u : to[j]) entered += test::model_union_size({u}, from) == 0 ? 1 : 0;
      EXPECT_EQ(r.entered[j], entered) << j;
    }
    EXPECT_EQ(r.from_any, test::model_union_size(all, from));
    EXPECT_EQ(r.to_any, test::model_union_size(all, to));
    uint64_t stayed = 0;
    for (const UserId u : all) {
      stayed += test::model_union_size({u}, from) != 0 && test::model_union_size({u}, to) != 0 ? 1 : 0;
    }
    EXPECT_EQ(r.stayed, stayed);
  }
}

TEST_F(CrowdSetsTest, FunnelMatchesTheModel) {
  std::mt19937_64 rng(9);
  for (int round = 0; round < 40; ++round) {
    const std::size_t n = 1 + rng() % 6;
    // Broad steps, so the funnel does not empty at once.
    std::vector<std::string> queries;
    for (std::size_t k = 0; k < n; ++k) {
      const auto& names = data_->tag_names;
      queries.push_back(rng() % 3 == 0 ? random_queries(rng, 1)[0]
                                       : "NOT " + test::quoted(names[rng() % names.size()]));
    }
    SCOPED_TRACE(::testing::PrintToString(queries));
    const Sets s = evaluate(queries);
    const auto counts = funnel(s.bits);
    EXPECT_EQ(counts, test::model_funnel(s.model));
    for (std::size_t k = 1; k < counts.size(); ++k) EXPECT_LE(counts[k], counts[k - 1]);
  }
}

}  // namespace
}  // namespace crowd::query
