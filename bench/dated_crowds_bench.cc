// Dated tags and saved crowds on the demo population (bench_population.h):
//
//  - within(tag, Nd) over one bitmap per day, for one tag and for every cat
//    tag (`within(cat:*, Nd)`, the 近N天 of any category): cold (no union
//    cache: the day bitmaps are ORed per query), cached (the union cache
//    holds the window), and rolled (each query a day later than the last:
//    the window is new, its aligned day blocks mostly cached), against the
//    plain tag;
//  - a saved crowd: drawing and saving a ~1M-user crowd (evaluate, log,
//    apply), counting `@name` against counting its definition, and the first
//    page of 1,000 IDs of each.
//
// The dated events are made here: every holder of the 20 largest
// cat:*:buy tags gets that tag on one of 90 days (seeded), written through
// the store like an ingest of events. Run with
//   CROWD_BENCH_USERS=10000000 build/bench-dated-crowds --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true   (one command line)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_population.h"
#include "query/query.h"
#include "query/union_cache.h"

namespace crowd::bench {
namespace {

constexpr int kDays = 90;
constexpr int64_t kLastDay = 20'772;  // 2026-11-15
constexpr int kRolls = 40;            // days a rolled window slides, one a query

struct DatedFixture {
  std::vector<std::string> tags;  // the dated tags, largest first
  std::string crowd_query;
  std::string crowd_name = "bench_crowd";
};

void write_or_die(Store& store, const WriteBatch& batch) {
  WriteResult r;
  if (store.write(batch, r) != WriteStatus::kOk) {
    std::fprintf(stderr, "bench-dated-crowds: a write failed: %s\n", store.last_io_error().c_str());
    std::abort();
  }
}

// Adds the events and one saved crowd to the shared population, once.
DatedFixture& fixture() {
  static DatedFixture* f = [] {
    auto* out = new DatedFixture;
    BenchPopulation& p = bench_population();
    auto view = p.store->view();
    std::vector<std::pair<uint64_t, TagId>> buys;
    for (const TagId id : view->dictionary().with_prefix("cat:")) {
      if (view->dictionary().name(id).ends_with(":buy")) buys.emplace_back(view->tag(id).cardinality, id);
    }
    std::sort(buys.rbegin(), buys.rend());
    buys.resize(std::min<std::size_t>(buys.size(), 20));
    std::mt19937_64 rng(7);
    for (const auto& [n, id] : buys) {
      const std::string& tag = view->dictionary().name(id);
      out->tags.push_back(tag);
      WriteBatch batch;
      std::vector<uint32_t> local_days(kDays);
      for (int d = 0; d < kDays; ++d) local_days[d] = batch.intern_day(tag, kLastDay - d);
      const uint32_t plain = batch.intern(tag);
      roaring_uint32_iterator_t* it = roaring_create_iterator(view->tag(id).bits.get());
      for (; it->has_value; roaring_advance_uint32_iterator(it)) {
        const uint32_t pair[] = {plain, local_days[rng() % kDays]};
        batch.add(view->external(it->current_value), pair);
      }
      roaring_free_uint32_iterator(it);
      write_or_die(*p.store, batch);
    }
    // A crowd of roughly a tenth of the population.
    out->crowd_query = "gender:female AND (age:25-29 OR age:30-34 OR age:35-39)";
    return out;
  }();
  return *f;
}

uint64_t count(const std::string& text, const IndexView& view, query::UnionCache* cache,
               int64_t as_of = kLastDay) {
  // Windows end on the fixture's last day (a server passes its clock's).
  query::Options options{false, cache};
  options.as_of = as_of;
  auto compiled = query::compile(text, view, options);
  if (auto* e = std::get_if<query::Error>(&compiled)) {
    std::fprintf(stderr, "bench-dated-crowds: %s: %s\n", text.c_str(), e->message.c_str());
    std::abort();
  }
  thread_local query::Evaluator evaluator;
  return evaluator.count(std::get<query::Plan>(compiled), view);
}

// Arg 0: the dated tag's rank (0 the largest), or -1 for every cat tag;
// arg 1: the window's days.
std::string window_query(const benchmark::State& state) {
  const auto& f = fixture();
  const std::string what = state.range(0) < 0 ? "cat:*" : f.tags[static_cast<std::size_t>(state.range(0))];
  return "within(" + what + ", " + std::to_string(state.range(1)) + "d)";
}

void BM_WithinCold(benchmark::State& state) {
  const auto view = bench_population().store->view();
  const std::string q = window_query(state);
  for (auto _ : state) benchmark::DoNotOptimize(count(q, *view, nullptr));
  state.counters["users"] = static_cast<double>(count(q, *view, nullptr));
}

void BM_WithinCached(benchmark::State& state) {
  const auto view = bench_population().store->view();
  query::UnionCache cache(256u << 20);
  const std::string q = window_query(state);
  count(q, *view, &cache);  // warm
  for (auto _ : state) benchmark::DoNotOptimize(count(q, *view, &cache));
}

// The day rolls before every query: the cache was warmed a day earlier.
// Arg 2: 1 with the aligned day blocks, 0 whole windows only (as before).
void BM_WithinRolled(benchmark::State& state) {
  const auto view = bench_population().store->view();
  query::UnionCache cache(256u << 20, state.range(2) != 0);
  const std::string q = window_query(state);
  int64_t as_of = kLastDay - kRolls;
  count(q, *view, &cache, as_of);  // warm
  for (auto _ : state) benchmark::DoNotOptimize(count(q, *view, &cache, ++as_of));
}

void BM_PlainTag(benchmark::State& state) {
  const auto& f = fixture();
  const auto view = bench_population().store->view();
  const std::string& q = f.tags[static_cast<std::size_t>(state.range(0))];
  for (auto _ : state) benchmark::DoNotOptimize(count(q, *view, nullptr));
}

// Evaluate, log and apply a replacement of the crowd's bitmap.
void BM_SaveCrowd(benchmark::State& state) {
  const auto& f = fixture();
  Store& store = *bench_population().store;
  uint64_t members = 0;
  for (auto _ : state) {
    const auto view = store.view();
    auto compiled = query::compile(f.crowd_query, *view);
    thread_local query::Evaluator evaluator;
    Bitmap crowd = evaluator.materialize(std::get<query::Plan>(compiled), *view);
    members = crowd.cardinality();
    WriteBatch batch;
    batch.save_crowd(f.crowd_name, std::make_shared<const Bitmap>(std::move(crowd)), "{}");
    write_or_die(store, batch);
  }
  state.counters["users"] = static_cast<double>(members);
}

void BM_CountSavedCrowd(benchmark::State& state) {
  const auto& f = fixture();
  const auto view = bench_population().store->view();
  const std::string q = "@" + f.crowd_name + " AND power:high";
  for (auto _ : state) benchmark::DoNotOptimize(count(q, *view, nullptr));
}

void BM_CountCrowdDefinition(benchmark::State& state) {
  const auto& f = fixture();
  const auto view = bench_population().store->view();
  const std::string q = "(" + f.crowd_query + ") AND power:high";
  for (auto _ : state) benchmark::DoNotOptimize(count(q, *view, nullptr));
}

BENCHMARK(BM_WithinCold)->ArgsProduct({{0, -1}, {7, 30, 90}})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_WithinCached)->ArgsProduct({{0, -1}, {7, 30, 90}})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_WithinRolled)->ArgsProduct({{0, -1}, {7, 30, 90}, {1, 0}})->Iterations(kRolls)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PlainTag)->Arg(0)->Arg(19)->Unit(benchmark::kMicrosecond);
// Saves before the counts, so `@bench_crowd` exists for them.
BENCHMARK(BM_SaveCrowd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CountSavedCrowd)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CountCrowdDefinition)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace crowd::bench

BENCHMARK_MAIN();
