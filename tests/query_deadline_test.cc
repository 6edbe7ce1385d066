// The per-request time budget (query/deadline.h): with a deadline already
// past, every long-running evaluation -- both count paths, materialise,
// pages, unions, saved-union caching, profiles, crowd sets, lookalike,
// numeric comparisons and statistics -- stops with TimedOut; without one,
// the same thread then gets exactly the answers of a fresh evaluator (no
// scratch left dirty by the interruption).
#include "query/deadline.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "index/index.h"
#include "query/attribute.h"
#include "query/crowd_sets.h"
#include "query/evaluator.h"
#include "query/insight.h"
#include "query/lookalike.h"
#include "query/query.h"
#include "query/union_cache.h"
#include "query/union_of.h"
#include "tests/support/times_out.h"

namespace crowd::query {
namespace {

using test::times_out;

using Clock = Deadline::Clock;

// 200k users (four chunks), 40 tags in 4 fields, a numeric attribute.
std::unique_ptr<Index> make_index() {
  auto index = std::make_unique<Index>();
  std::mt19937_64 rng(7);
  WriteBatch batch;
  std::vector<uint32_t> tags;
  for (int f = 0; f < 4; ++f) {
    for (int t = 0; t < 10; ++t) tags.push_back(batch.intern("f" + std::to_string(f) + ":" + std::to_string(t)));
  }
  const uint32_t spend = batch.intern("spend");
  for (UserId u = 0; u < 200'000; ++u) {
    std::vector<uint32_t> mine;
    for (const uint32_t t : tags) {
      if (rng() % 4 == 0) mine.push_back(t);
    }
    batch.add(u, mine);
    if (u % 3 == 0) batch.set_value(u, spend, static_cast<int64_t>(rng() % 100'000) - 500);
  }
  WriteResult ignored;
  EXPECT_TRUE(index->apply(batch, ignored));
  return index;
}

Plan compiled(std::string_view q, const IndexView& view, UnionCache* unions = nullptr) {
  auto c = compile(q, view, Options{false, unions});
  EXPECT_TRUE(std::holds_alternative<Plan>(c)) << q;
  return std::move(std::get<Plan>(c));
}

// Queries for both count paths: fused (3+ operands) and operator (forced).
const std::vector<std::string> kQueries = {
    "f0:1 AND f1:2 AND NOT f2:3",
    "(f0:1 OR f0:2 OR f1:5) AND f3:*",
    "f2:* AND NOT (f1:1 OR f1:2) AND f0:0",
    "f0:* OR f1:* OR f2:*",
    "spend > 1000 AND f1:1 AND NOT f2:2",
};

TEST(Deadline, NoScopeNeverThrowsAndScopesNest) {
  EXPECT_FALSE(Deadline::set());
  EXPECT_NO_THROW(Deadline::check());
  {
    const Deadline::Scope later(Clock::now() + std::chrono::hours(1));
    EXPECT_TRUE(Deadline::set());
    EXPECT_NO_THROW(Deadline::check());
    {
      const Deadline::Scope past(Clock::now() - std::chrono::milliseconds(1));
      EXPECT_THROW(Deadline::check(), TimedOut);
    }
    EXPECT_NO_THROW(Deadline::check());
  }
  EXPECT_FALSE(Deadline::set());
}

TEST(Deadline, EveryEvaluationStopsAndTheNextIsExact) {
  const auto index = make_index();
  const auto view = index->view();
  for (const CountPath path : {CountPath::kAuto, CountPath::kOperator, CountPath::kFused}) {
    SCOPED_TRACE(static_cast<int>(path));
    Evaluator interrupted(path);
    for (const auto& q : kQueries) {
      SCOPED_TRACE(q);
      // Compiled outside the deadline (comparisons and unions resolve then).
      const Plan plan = compiled(q, *view);
      EXPECT_TRUE(times_out([&] { (void)interrupted.count(plan, *view); }));
      EXPECT_TRUE(times_out([&] { (void)interrupted.materialize(plan, *view); }));
      std::vector<Ordinal> page;
      EXPECT_TRUE(times_out([&] { interrupted.collect(plan, *view, 0, 1'000'000, page); }));
      // The same evaluator, no deadline: the answers of a fresh one.
      Evaluator fresh(path);
      EXPECT_EQ(interrupted.count(plan, *view), fresh.count(plan, *view));
      const Bitmap a = interrupted.materialize(plan, *view);
      const Bitmap b = fresh.materialize(plan, *view);
      EXPECT_TRUE(roaring_bitmap_equals(a.get(), b.get()));
    }
  }
}

TEST(Deadline, CompilationUnionsAndAnalyticsStop) {
  const auto index = make_index();
  const auto view = index->view();
  // Resolving a comparison walks the value slices; a prefix builds a union
  // through the cache.
  EXPECT_TRUE(times_out([&] { (void)compile("spend BETWEEN 10 AND 90000", *view, Options{}); }));
  UnionCache cache(64 << 20);
  EXPECT_TRUE(times_out([&] { (void)compile("f0:* AND f1:1", *view, Options{false, &cache}); }));
  EXPECT_EQ(cache.stats().entries, 0u);  // nothing half-built was kept
  const Plan with_cache = compiled("f0:* AND f1:1", *view, &cache);
  Evaluator e;
  EXPECT_EQ(e.count(with_cache, *view), e.count(compiled("f0:* AND f1:1", *view), *view));

  std::vector<const roaring_bitmap_t*> many;
  for (TagId id = 0; id < view->tag_count(); ++id) many.push_back(view->tag(id).bits.get());
  EXPECT_TRUE(times_out([&] { (void)union_of(many); }));

  const Bitmap crowd = e.materialize(compiled("f0:1", *view), *view);
  EXPECT_TRUE(times_out([&] { (void)insight(crowd.get(), *view, InsightOptions{}); }));
  EXPECT_TRUE(times_out([&] { (void)attribute_stats(*view, "spend", crowd.get()); }));
  LookalikeOptions expand;
  expand.size = 10'000;
  EXPECT_TRUE(times_out([&] { (void)lookalike(*view, crowd.get(), expand); }));
  // Without a deadline they answer.
  EXPECT_TRUE(std::holds_alternative<InsightReport>(insight(crowd.get(), *view, InsightOptions{})));
  EXPECT_EQ(lookalike(*view, crowd.get(), expand).users.cardinality(), 10'000u);
}

}  // namespace
}  // namespace crowd::query
