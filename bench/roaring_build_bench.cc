// The same CRoaring operations, compiled once against the CRoaring we build
// from Debian's source with -march=native (bench-roaring-native) and once
// against Debian's generic binary libroaring (bench-roaring-debian). Run both
// side by side (bench/run-roaring-builds.sh) to see what the build flags buy.
//
// Data: 10M users, tags of fixed densities with uniformly random members,
// seeded, so both binaries see identical bitmaps.
#include <benchmark/benchmark.h>
#include <roaring/roaring.h>

#include <cstdint>
#include <random>
#include <vector>

namespace {

constexpr uint32_t kUsers = 10'000'000;

roaring_bitmap_t* random_tag(double density, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution in(density);
  std::vector<uint32_t> members;
  members.reserve(static_cast<std::size_t>(kUsers * density * 1.1));
  for (uint32_t u = 0; u < kUsers; ++u) {
    if (in(rng)) members.push_back(u);
  }
  roaring_bitmap_t* b = roaring_bitmap_of_ptr(members.size(), members.data());
  roaring_bitmap_run_optimize(b);
  return b;
}

struct Tags {
  roaring_bitmap_t* dense_a = random_tag(0.50, 1);
  roaring_bitmap_t* dense_b = random_tag(0.50, 2);
  roaring_bitmap_t* mid_a = random_tag(0.10, 3);
  roaring_bitmap_t* mid_b = random_tag(0.10, 4);
  roaring_bitmap_t* sparse_a = random_tag(0.01, 5);
  roaring_bitmap_t* sparse_b = random_tag(0.01, 6);
  std::vector<roaring_bitmap_t*> cities;  // 30 tags of 1.5%
  Tags() {
    for (int i = 0; i < 30; ++i) cities.push_back(random_tag(0.015, 100 + i));
  }
};

const Tags& tags() {
  static const Tags t;
  return t;
}

void BM_AndCardinality_50_50(benchmark::State& state) {
  const auto& t = tags();
  for (auto _ : state) benchmark::DoNotOptimize(roaring_bitmap_and_cardinality(t.dense_a, t.dense_b));
}
BENCHMARK(BM_AndCardinality_50_50)->Unit(benchmark::kMicrosecond);

void BM_AndCardinality_1_1(benchmark::State& state) {
  const auto& t = tags();
  for (auto _ : state) benchmark::DoNotOptimize(roaring_bitmap_and_cardinality(t.sparse_a, t.sparse_b));
}
BENCHMARK(BM_AndCardinality_1_1)->Unit(benchmark::kMicrosecond);

void BM_AndCardinality_50_1(benchmark::State& state) {
  const auto& t = tags();
  for (auto _ : state) benchmark::DoNotOptimize(roaring_bitmap_and_cardinality(t.dense_a, t.sparse_a));
}
BENCHMARK(BM_AndCardinality_50_1)->Unit(benchmark::kMicrosecond);

void BM_OrCardinality_10_10(benchmark::State& state) {
  const auto& t = tags();
  for (auto _ : state) benchmark::DoNotOptimize(roaring_bitmap_or_cardinality(t.mid_a, t.mid_b));
}
BENCHMARK(BM_OrCardinality_10_10)->Unit(benchmark::kMicrosecond);

void BM_AndNotCardinality_50_10(benchmark::State& state) {
  const auto& t = tags();
  for (auto _ : state) benchmark::DoNotOptimize(roaring_bitmap_andnot_cardinality(t.dense_a, t.mid_a));
}
BENCHMARK(BM_AndNotCardinality_50_10)->Unit(benchmark::kMicrosecond);

void BM_And_Materialised_10_10(benchmark::State& state) {
  const auto& t = tags();
  for (auto _ : state) {
    roaring_bitmap_t* r = roaring_bitmap_and(t.mid_a, t.mid_b);
    benchmark::DoNotOptimize(r);
    roaring_bitmap_free(r);
  }
}
BENCHMARK(BM_And_Materialised_10_10)->Unit(benchmark::kMicrosecond);

void BM_OrMany_30Cities(benchmark::State& state) {
  const auto& t = tags();
  for (auto _ : state) {
    roaring_bitmap_t* r =
        roaring_bitmap_or_many(t.cities.size(), const_cast<const roaring_bitmap_t**>(t.cities.data()));
    benchmark::DoNotOptimize(roaring_bitmap_get_cardinality(r));
    roaring_bitmap_free(r);
  }
}
BENCHMARK(BM_OrMany_30Cities)->Unit(benchmark::kMicrosecond);

void BM_ToArray_10(benchmark::State& state) {
  const auto& t = tags();
  std::vector<uint32_t> out(roaring_bitmap_get_cardinality(t.mid_a));
  for (auto _ : state) {
    roaring_bitmap_to_uint32_array(t.mid_a, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_ToArray_10)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
