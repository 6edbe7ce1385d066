// Disjoint sums (issue 17, item 6) on the demo population: city lists --
// an OR of values of the exclusive field city -- with disjoint sums on and
// off, both without the union cache (which would otherwise hold the city
// list as one bitmap after its first use). A list alone is summed; under an
// AND the sum of AND counts was measured here and lost, so the evaluator no
// longer takes it: those rows now show two equal paths (the record of the
// loss is in docs/benchmarks.md).
//   CROWD_BENCH_USERS=10000000 build/bench-disjoint-sums --benchmark_repetitions=3
//     --benchmark_report_aggregates_only=true   (one command line)
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/bench_population.h"
#include "query/query.h"

namespace crowd::bench {
namespace {

// The demo's cities by size: its city field is exclusive by construction;
// the bench says so to the index, as `crowdd --demo` does.
std::string city_list(std::size_t n) {
  static const char* kCities[] = {"beijing",   "shanghai",  "guangzhou", "shenzhen", "chengdu",   "hangzhou",
                                  "chongqing", "wuhan",     "suzhou",    "xian",     "nanjing",   "changsha",
                                  "tianjin",   "zhengzhou", "dongguan",  "qingdao",  "kunming",   "ningbo",
                                  "hefei",     "foshan",    "shenyang",  "wuxi",     "jinan",     "xiamen",
                                  "fuzhou",    "wenzhou",   "haerbin",   "dalian",   "changchun", "nanning"};
  std::string out = "(";
  for (std::size_t i = 0; i < n && i < std::size(kCities); ++i)
    out += (i ? " OR city:" : "city:") + std::string(kCities[i]);
  return out + ")";
}

const IndexView& exclusive_view() {
  static std::shared_ptr<const IndexView> view = [] {
    BenchPopulation& p = bench_population();
    WriteBatch b;
    b.set_exclusive_field("city", true);
    WriteResult r;
    if (p.store->write(b, r) != WriteStatus::kOk) std::abort();
    return p.store->view();
  }();
  return *view;
}

// Arg 0: the query; arg 1: 1 with disjoint sums, 0 as a union.
std::string query_of(int64_t which) {
  switch (which) {
    case 0:
      return city_list(10);
    case 1:
      return city_list(10) + " AND gender:female AND age:25-29";
    case 2:
      return city_list(30) + " AND gender:female";
    default:
      return city_list(30) + " AND power:high AND NOT member:brand_x";
  }
}

void BM_CityList(benchmark::State& state) {
  const IndexView& view = exclusive_view();
  const std::string q = query_of(state.range(0));
  query::Options options;
  options.disjoint_sums = state.range(1) != 0;
  query::Evaluator evaluator;
  uint64_t n = 0;
  for (auto _ : state) {
    auto compiled = query::compile(q, view, options);
    if (!std::holds_alternative<query::Plan>(compiled)) std::abort();
    n = evaluator.count(std::get<query::Plan>(compiled), view);
    benchmark::DoNotOptimize(n);
  }
  state.counters["users"] = static_cast<double>(n);
}

BENCHMARK(BM_CityList)->ArgsProduct({{0, 1, 2, 3}, {1, 0}})->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace crowd::bench

BENCHMARK_MAIN();
