// Numeric attributes at 10M users: range predicates over the bit-sliced index
// (query/attribute.h) and /v1/stats' attribute_stats, each beside the cost of
// one 2-tag AND count on the same data in the same run, so the ratio holds on
// a noisy machine where absolute times drift.
//
// Data (seeded): 10M users; spend_90d for 60% of them, lognormal with median
// ~300 and sigma 1.5, clipped to 0..1,000,000 (so ~20 of the 64 slices vary,
// as real spend does); tags a (50%) and b (10%), independent members. The
// values go in through BulkLoader (user u gets ordinal u), the tags through
// Index::merge, both as a bulk load does (run-optimised).
//
// Also measured: the same `>=` walk with whole-bitmap CRoaring operations
// (a GT and an EQ bitmap updated in place per slice), the alternative to the
// per-chunk word walk that compare_attribute uses.
//
//   bench-attribute --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <roaring/roaring.h>

#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "index/bulk_loader.h"
#include "index/index.h"
#include "index/system_view.h"
#include "query/attribute.h"
#include "query/evaluator.h"
#include "query/query.h"

namespace crowd::query {
namespace {

constexpr uint32_t kUsers = 10'000'000;
constexpr const char* kAttribute = "spend_90d";

Bitmap random_tag(double density, std::mt19937_64& rng) {
  std::vector<uint32_t> members;
  members.reserve(static_cast<std::size_t>(kUsers * density * 1.1));
  std::geometric_distribution<uint32_t> gap(density);
  for (uint64_t u = gap(rng); u < kUsers; u += 1 + uint64_t{gap(rng)}) members.push_back(static_cast<uint32_t>(u));
  return Bitmap(roaring_bitmap_of_ptr(members.size(), members.data()));
}

struct Dataset {
  std::unique_ptr<Index> index;
  std::shared_ptr<const IndexView> view;
};

const Dataset& dataset() {
  static const Dataset data = [] {
    std::mt19937_64 rng(4242);
    std::lognormal_distribution<double> spend(std::log(300.0), 1.5);
    Dataset d;
    d.index = std::make_unique<Index>();
    {
      // Every user is added, with or without a value, so that ordinals are ids.
      BulkLoader loader(*d.index);
      const uint32_t attribute = loader.attribute(kAttribute);
      std::vector<uint32_t> tags;
      for (uint32_t o = 0; o < kUsers; ++o) {
        tags.clear();
        if (rng() % 10 < 6) loader.value_tags(attribute, static_cast<int64_t>(std::min(1'000'000.0, spend(rng))), tags);
        if (!loader.add(o, tags)) std::abort();
      }
      loader.finish();
    }
    const std::vector<std::string> names = {"a", "b"};
    std::vector<Bitmap> bitmaps;
    bitmaps.push_back(random_tag(0.50, rng));
    bitmaps.push_back(random_tag(0.10, rng));
    Bitmap members;
    roaring_bitmap_add_range(members.get(), 0, kUsers);
    d.index->merge(names, std::move(bitmaps), members);
    d.view = d.index->view();
    return d;
  }();
  return data;
}

// The yardstick: "a AND b" counted as /v1/count does (one and_cardinality).
void BM_TwoTagAndCount(benchmark::State& state) {
  const Dataset& d = dataset();
  auto compiled = compile("a AND b", *d.view);
  const Plan& plan = std::get<Plan>(compiled);
  Evaluator evaluator;
  uint64_t n = 0;
  for (auto _ : state) {
    n = evaluator.count(plan, *d.view);
    benchmark::DoNotOptimize(n);
  }
  state.SetLabel("a AND b = " + std::to_string(n));
}
BENCHMARK(BM_TwoTagAndCount)->Unit(benchmark::kMicrosecond);

struct Predicate {
  CompareOp op;
  int64_t low;
  int64_t high;
  const char* text;
};
const Predicate kPredicates[] = {
    {CompareOp::kGreaterEqual, 500, 0, ">= 500"}, {CompareOp::kBetween, 100, 1000, "BETWEEN 100 AND 1000"},
    {CompareOp::kEqual, 250, 0, "= 250"},         {CompareOp::kLess, 10'000, 0, "< 10000"},
    {CompareOp::kNotEqual, 250, 0, "!= 250"},
};

// The result bitmap is built (what the query path needs), then dropped.
void BM_Compare(benchmark::State& state) {
  const Dataset& d = dataset();
  const Predicate& p = kPredicates[state.range(0)];
  uint64_t n = 0;
  for (auto _ : state) {
    auto set = compare_attribute(*d.view, kAttribute, p.op, p.low, p.high);
    n = set->cardinality();
    benchmark::DoNotOptimize(n);
  }
  state.SetLabel(std::string(kAttribute) + " " + p.text + " = " + std::to_string(n));
}
BENCHMARK(BM_Compare)->DenseRange(0, 4)->ArgName("predicate")->Unit(benchmark::kMicrosecond);

// >= c with whole-bitmap CRoaring operations, constant slices skipped the
// same way: GT and EQ updated in place, slice by slice from the top.
void BM_CompareRoaringOps(benchmark::State& state) {
  const Dataset& d = dataset();
  const IndexView& view = *d.view;
  const int64_t c = 500;
  const AttributeSlices stored = *view.system().attribute(kAttribute);
  const TagBits& exists = *stored.exists;
  const auto& slice = stored.bits;
  const uint64_t u = AttributeSlices::to_offset_binary(c);
  uint64_t n = 0;
  for (auto _ : state) {
    Bitmap gt;
    Bitmap eq = exists.bits.clone();
    for (int b = 63; b >= 0; --b) {
      const TagBits* s = slice[static_cast<std::size_t>(b)];
      const bool empty = s == nullptr || s->cardinality == 0;
      const bool full = !empty && s->cardinality == exists.cardinality;
      if ((u >> b) & 1) {
        if (empty) {
          roaring_bitmap_clear(eq.get());
          break;
        }
        if (!full) roaring_bitmap_and_inplace(eq.get(), s->bits.get());
      } else if (!empty) {
        if (full) {
          roaring_bitmap_or_inplace(gt.get(), eq.get());
          roaring_bitmap_clear(eq.get());
          break;
        }
        Bitmap above(roaring_bitmap_and(eq.get(), s->bits.get()));
        roaring_bitmap_or_inplace(gt.get(), above.get());
        roaring_bitmap_andnot_inplace(eq.get(), s->bits.get());
      }
      if ((u & ((uint64_t{1} << b) - 1)) == 0) break;  // lower bits of c all 0: eq is >= c
    }
    roaring_bitmap_or_inplace(gt.get(), eq.get());
    n = gt.cardinality();
    benchmark::DoNotOptimize(n);
  }
  state.SetLabel(std::string(kAttribute) + " >= 500 (roaring ops) = " + std::to_string(n));
}
BENCHMARK(BM_CompareRoaringOps)->Unit(benchmark::kMicrosecond);

// Stats over a crowd: everyone, a (50%), b (10%). The crowd is built once,
// outside the loop (the route materialises it before calling).
void BM_Stats(benchmark::State& state) {
  const Dataset& d = dataset();
  const char* crowds[] = {"ALL", "a", "b"};
  const char* q = crowds[state.range(0)];
  auto compiled = compile(q, *d.view);
  Evaluator evaluator;
  const Bitmap crowd = evaluator.materialize(std::get<Plan>(compiled), *d.view);
  AttributeStats s;
  for (auto _ : state) {
    s = *attribute_stats(*d.view, kAttribute, crowd.get());
    benchmark::DoNotOptimize(s);
  }
  state.SetLabel(std::string("over ") + q + ": count " + std::to_string(s.count) + " p50 " + std::to_string(s.p50) +
                 " p99 " + std::to_string(s.p99) + " max " + std::to_string(s.max));
}
BENCHMARK(BM_Stats)->DenseRange(0, 2)->ArgName("crowd")->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace crowd::query

BENCHMARK_MAIN();
