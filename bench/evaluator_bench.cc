// Count evaluation: the fused per-chunk pass (fused_evaluator.h) against the
// operator-at-a-time Evaluator on the same plans, and the flat-bitset floor
// of the 5-term expression (one pass over five plain 10M-bit arrays).
//
// Data: 10M users, tags a..e of densities 50%, 10%, 5%, 1%, 20% and 30
// "city" tags of 1.5%, seeded. Two layouts: uniform (members independent:
// bitset and array containers) and runs (members in runs averaging 2,000
// users: run containers after run_optimize). Compare the paths with
//   bench-evaluator --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <roaring/roaring.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "index/index_view.h"
#include "query/evaluator.h"
#include "query/query.h"

namespace crowd::query {
namespace {

constexpr uint32_t kUsers = 10'000'000;

// Members of a tag of `density`: independent (geometric gaps), or in runs
// whose in and out lengths are geometric with mean 2,000 * density and 2,000
// * (1 - density).
Bitmap make_tag(double density, bool runs, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint32_t> members;
  members.reserve(static_cast<std::size_t>(kUsers * density * 1.1));
  if (!runs) {
    std::geometric_distribution<uint32_t> gap(density);
    for (uint64_t u = gap(rng); u < kUsers; u += 1 + uint64_t{gap(rng)}) members.push_back(static_cast<uint32_t>(u));
  } else {
    constexpr double kPeriod = 2000;
    std::geometric_distribution<uint32_t> in(1.0 / (kPeriod * density));
    std::geometric_distribution<uint32_t> out(1.0 / (kPeriod * (1 - density)));
    for (uint64_t u = out(rng); u < kUsers;) {
      const uint64_t end = std::min<uint64_t>(kUsers, u + 1 + in(rng));
      for (; u < end; ++u) members.push_back(static_cast<uint32_t>(u));
      u += 1 + out(rng);
    }
  }
  Bitmap b(roaring_bitmap_of_ptr(members.size(), members.data()));
  b.optimize();
  return b;
}

struct Dataset {
  std::unique_ptr<IndexView> view;
  std::vector<std::vector<uint64_t>> flat;  // a..e as plain bitsets, for the floor
};

Dataset make_dataset(bool runs) {
  const double densities[] = {0.50, 0.10, 0.05, 0.01, 0.20};
  std::vector<std::string> names = {"a", "b", "c", "d", "e"};
  for (int i = 0; i < 30; ++i) names.push_back("city:" + std::to_string(i));
  IndexView::Parts parts;
  parts.dictionary = TagDictionary::from_names(names);
  Dataset out;
  std::vector<std::shared_ptr<const TagBits>> bits;
  for (std::size_t t = 0; t < names.size(); ++t) {
    Bitmap b = make_tag(t < 5 ? densities[t] : 0.015, runs, (runs ? 1000 : 0) + t + 1);
    if (t < 5) {
      std::vector<uint64_t> flat((kUsers + 63) / 64);
      roaring_iterate(
          b.get(),
          [](uint32_t v, void* p) {
            static_cast<uint64_t*>(p)[v >> 6] |= uint64_t{1} << (v & 63);
            return true;
          },
          flat.data());
      out.flat.push_back(std::move(flat));
    }
    bits.push_back(std::make_shared<const TagBits>(std::move(b)));
  }
  parts.tags = IndexView::Tags(std::move(bits));
  Bitmap universe;
  roaring_bitmap_add_range(universe.get(), 0, kUsers);
  universe.optimize();
  parts.universe = std::make_shared<const TagBits>(std::move(universe));
  out.view = std::make_unique<IndexView>(std::move(parts));
  return out;
}

const Dataset& dataset(bool runs) {
  static const Dataset uniform = make_dataset(false);
  static const Dataset clustered = make_dataset(true);
  return runs ? clustered : uniform;
}

const char* const kQueries[] = {
    "(a AND b AND c) OR (d AND NOT e)",     // 0: the 5-term expression
    "a AND b AND c",                        // 1: 3-term AND
    "a AND NOT c AND NOT d AND NOT e",      // 2: and-not chain
    "a AND city:*",                         // 3: a 30-tag union under AND
};

// Args: query, path (0 operator, 1 fused), layout (0 uniform, 1 runs).
void BM_Count(benchmark::State& state) {
  const char* text = kQueries[state.range(0)];
  const CountPath path = state.range(1) == 0 ? CountPath::kOperator : CountPath::kFused;
  const Dataset& data = dataset(state.range(2) == 1);
  auto compiled = compile(text, *data.view);
  if (!std::holds_alternative<Plan>(compiled)) {
    state.SkipWithError("compile failed");
    return;
  }
  const Plan& plan = std::get<Plan>(compiled);
  Evaluator evaluator(path);
  const uint64_t expected = Evaluator(CountPath::kOperator).count(plan, *data.view);
  uint64_t n = 0;
  for (auto _ : state) {
    n = evaluator.count(plan, *data.view);
    benchmark::DoNotOptimize(n);
  }
  if (n != expected) state.SkipWithError("paths disagree");
  state.SetLabel(std::string(path == CountPath::kFused ? "fused " : "operator ") +
                 (state.range(2) == 1 ? "runs: " : "uniform: ") + text + " = " + std::to_string(n));
}
BENCHMARK(BM_Count)
    ->ArgsProduct({{0, 1, 2, 3}, {0, 1}, {0, 1}})
    ->ArgNames({"query", "fused", "runs"})
    ->Unit(benchmark::kMicrosecond);

// The floor: the 5-term expression over five flat 10M-bit arrays, one fused
// pass, no containers at all.
void BM_FlatFloor5(benchmark::State& state) {
  const auto& f = dataset(state.range(0) == 1).flat;
  const uint64_t* a = f[0].data();
  const uint64_t* b = f[1].data();
  const uint64_t* c = f[2].data();
  const uint64_t* d = f[3].data();
  const uint64_t* e = f[4].data();
  const std::size_t words = f[0].size();
  for (auto _ : state) {
    uint64_t n = 0;
    for (std::size_t i = 0; i < words; ++i) {
      n += static_cast<uint64_t>(__builtin_popcountll((a[i] & b[i] & c[i]) | (d[i] & ~e[i])));
    }
    benchmark::DoNotOptimize(n);
  }
}
BENCHMARK(BM_FlatFloor5)->Arg(0)->Arg(1)->ArgName("runs")->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace crowd::query

BENCHMARK_MAIN();
