// bench-analytics: the analytics routes over the synthetic demo population
// (bench_population.h: CROWD_BENCH_USERS users, default 1M, seed 42).
//
//   BM_InsightApi/<fields>/<crowd>   POST /v1/insight through Api::handle (body
//                                    parse, compile, crowd, counts, JSON text)
//                                    on the demographic fields (~420 tags) or
//                                    on every tag (~9,900)
//   BM_InsightCore/<fields>/<crowd>  query::insight alone on a crowd built
//                                    once: the counting and sorting
//   BM_Count/<kernel>/<fields>/<crowd>
//                                    the counting alone: count_in_crowd
//                                    (chunked) vs one and_cardinality per tag
//   BM_Scan/<fields>                 the floor: one read of those tags' data
//   BM_OverlapApi/4                  4 crowds with every Venn region
//   BM_FlowApi/4x4                   AIPL of brand_x -> AIPL of lanzhi (the
//                                    demo has no dated tags: two brands stand
//                                    in for two dates)
//   BM_FunnelApi/4                   interest -> any AIPL state -> P or L -> member
//
// Crowds: small (member:brand_x AND aipl:brand_x:L), medium (gender:female AND
// age:25-29), large (gender:female). Opt-in (never run by ctest); every
// benchmark runs 5 repetitions and reports mean, median and stddev:
//   CROWD_BENCH_USERS=10000000 build/bench-analytics --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <roaring/roaring.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "bench/bench_population.h"
#include "index/chunk_cursor.h"
#include "index/tag_dictionary.h"
#include "query/crowd_counts.h"
#include "query/insight.h"
#include "query/plan_set.h"
#include "query/query.h"
#include "server/api.h"

namespace crowd::bench {
namespace {

namespace http = server::http;

[[noreturn]] void fail(benchmark::State& state, const std::string& message) {
  state.SkipWithError(message.c_str());
  std::fprintf(stderr, "bench-analytics: %s\n", message.c_str());
  std::exit(1);
}

// Demographic and trait fields of the demo population (synthetic_population.cc);
// the rest (cat, shop, member, aipl) are behaviour.
const std::vector<std::string> kDemographicFields = {"gender", "age",     "city",    "tier",
                                                     "power",  "depth",   "student", "platform", "兴趣"};

const std::map<std::string, std::string> kCrowds = {
    {"small", "member:brand_x AND aipl:brand_x:L"},
    {"medium", "gender:female AND age:25-29"},
    {"large", "gender:female"},
};

// The texts here need no escapes.
std::string json_string(const std::string& s) {
  std::string out = "\"";
  out.append(s).push_back('"');
  return out;
}

std::string fields_json(bool demographic) {
  if (!demographic) return "";
  std::string out = ",\"fields\":[";
  // Appended piecewise: GCC 12 warns falsely (-Wrestrict) on "lit" + std::string.
  for (std::size_t i = 0; i < kDemographicFields.size(); ++i) {
    if (i) out += ',';
    out += json_string(kDemographicFields[i]);
  }
  return out + "]";
}

// Posts `body` to `target` through Api::handle, as a session would.
void api_bench(benchmark::State& state, const std::string& target, const std::string& body) {
  auto& p = bench_population();
  server::Metrics metrics;
  server::Api api(*p.store, metrics);
  uint64_t bytes = 0;
  for (auto _ : state) {
    server::Request req{http::verb::post, target, 11};
    req.body() = body;
    server::Call call;
    auto reply = api.handle(req, call);
    if (reply.message.result() != http::status::ok) fail(state, target + " " + body + ": " + reply.message.body());
    benchmark::DoNotOptimize(reply.message.body().data());
    bytes += reply.message.body().size();
  }
  state.counters["body_KB"] = static_cast<double>(bytes) / static_cast<double>(state.iterations()) / 1e3;
}

// What insight has to read: the tags' containers by kind and their members
// (once per field set, to stderr).
void print_tag_shapes(const IndexView& view, bool demographic) {
  static bool printed[2] = {false, false};
  if (std::exchange(printed[demographic ? 1 : 0], true)) return;
  uint64_t tags = 0, arrays = 0, array_values = 0, bitsets = 0, bitset_values = 0, runs = 0, run_values = 0;
  for (const TagId id : view.dictionary().sorted()) {
    const auto& name = view.dictionary().name(id);
    const std::string field(tag_field(name));
    if (demographic && std::find(kDemographicFields.begin(), kDemographicFields.end(), field) == kDemographicFields.end()) {
      continue;
    }
    roaring_statistics_t st;
    roaring_bitmap_statistics(view.tag(id).bits.get(), &st);
    ++tags;
    arrays += st.n_array_containers;
    array_values += st.n_values_array_containers;
    bitsets += st.n_bitset_containers;
    bitset_values += st.n_values_bitset_containers;
    runs += st.n_run_containers;
    run_values += st.n_values_run_containers;
  }
  std::fprintf(stderr,
               "bench-analytics: %s: %llu tags; %llu array containers (%llu members), %llu bitset containers (%llu "
               "members), %llu run containers (%llu members)\n",
               demographic ? "demographic fields" : "all fields", static_cast<unsigned long long>(tags),
               static_cast<unsigned long long>(arrays), static_cast<unsigned long long>(array_values),
               static_cast<unsigned long long>(bitsets), static_cast<unsigned long long>(bitset_values),
               static_cast<unsigned long long>(runs), static_cast<unsigned long long>(run_values));
}

void insight_core_bench(benchmark::State& state, bool demographic, const std::string& crowd_query) {
  auto& p = bench_population();
  const auto view = p.store->view();
  auto compiled = query::compile(crowd_query, *view);
  if (!std::holds_alternative<query::Plan>(compiled)) fail(state, "does not compile: " + crowd_query);
  query::Evaluator evaluator;
  const query::PlanSet crowd(std::get<query::Plan>(compiled), *view, evaluator);
  print_tag_shapes(*view, demographic);
  query::InsightOptions options;
  if (demographic) options.fields = kDemographicFields;
  std::size_t tags = 0;
  for (auto _ : state) {
    auto result = query::insight(crowd.bits(), *view, options);
    if (!std::holds_alternative<query::InsightReport>(result)) fail(state, "unknown field");
    tags = 0;
    for (const auto& f : std::get<query::InsightReport>(result).fields) tags += f.tags;
    benchmark::DoNotOptimize(result);
  }
  state.counters["tags"] = static_cast<double>(tags);
  state.counters["crowd"] = static_cast<double>(crowd.cardinality());
}

// The counting alone, two ways on the same tags: count_in_crowd (chunk at a
// time) against one roaring_bitmap_and_cardinality per tag.
void count_bench(benchmark::State& state, bool chunked, bool demographic, const std::string& crowd_query) {
  auto& p = bench_population();
  const auto view = p.store->view();
  auto compiled = query::compile(crowd_query, *view);
  if (!std::holds_alternative<query::Plan>(compiled)) fail(state, "does not compile: " + crowd_query);
  query::Evaluator evaluator;
  const query::PlanSet crowd(std::get<query::Plan>(compiled), *view, evaluator);
  std::vector<const roaring_bitmap_t*> tags;
  for (const TagId id : view->dictionary().sorted()) {
    const std::string field(tag_field(view->dictionary().name(id)));
    if (demographic && std::find(kDemographicFields.begin(), kDemographicFields.end(), field) == kDemographicFields.end()) {
      continue;
    }
    tags.push_back(view->tag(id).bits.get());
  }
  std::vector<uint64_t> counts;
  for (auto _ : state) {
    if (chunked) {
      query::count_in_crowd(crowd.bits(), tags, counts);
    } else {
      counts.clear();
      for (const auto* t : tags) counts.push_back(roaring_bitmap_and_cardinality(crowd.bits(), t));
    }
    benchmark::DoNotOptimize(counts.data());
  }
  state.counters["tags"] = static_cast<double>(tags.size());
}

// The floor of any exact count over these tags without another index: one
// read of every member array and bitset word (summed, so it cannot be
// skipped), no crowd at all.
void scan_bench(benchmark::State& state, bool demographic) {
  auto& p = bench_population();
  const auto view = p.store->view();
  std::vector<const roaring_bitmap_t*> tags;
  for (const TagId id : view->dictionary().sorted()) {
    const std::string field(tag_field(view->dictionary().name(id)));
    if (demographic && std::find(kDemographicFields.begin(), kDemographicFields.end(), field) == kDemographicFields.end()) {
      continue;
    }
    tags.push_back(view->tag(id).bits.get());
  }
  for (auto _ : state) {
    uint64_t sum = 0;
    for (const auto* t : tags) {
      for (ChunkCursor c(t); !c.done(); c.advance()) {
        const Chunk chunk = c.current();
        if (chunk.kind == ChunkKind::kBitset) {
          const uint64_t* w = chunk.words();
          for (std::size_t j = 0; j < kChunkWords; ++j) sum += w[j];
        } else if (chunk.kind == ChunkKind::kArray) {
          for (int32_t j = 0; j < chunk.size; ++j) sum += chunk.values()[j];
        }
      }
    }
    benchmark::DoNotOptimize(sum);
  }
}

benchmark::internal::Benchmark* configure(benchmark::internal::Benchmark* b) {
  return b->Unit(benchmark::kMillisecond)->UseRealTime()->Repetitions(5)->MinTime(0.5);
}

const bool kRegistered = [] {
  for (const bool demographic : {true, false}) {
    const std::string which = demographic ? "demographic" : "all";
    for (const auto& [name, q] : kCrowds) {
      std::string body = "{\"q\":";
      body.append(json_string(q)).append(fields_json(demographic)).append("}");
      configure(benchmark::RegisterBenchmark(("BM_InsightApi/" + which + "/" + name).c_str(),
                                             [body](benchmark::State& s) { api_bench(s, "/v1/insight", body); }));
      configure(benchmark::RegisterBenchmark(
          ("BM_InsightCore/" + which + "/" + name).c_str(),
          [demographic, q = q](benchmark::State& s) { insight_core_bench(s, demographic, q); }));
    }
  }
  for (const bool chunked : {true, false}) {
    for (const bool demographic : {true, false}) {
      for (const auto& [name, q] : kCrowds) {
        const std::string label = std::string("BM_Count/") + (chunked ? "chunked/" : "and_cardinality/") +
                                  (demographic ? "demographic/" : "all/") + name;
        configure(benchmark::RegisterBenchmark(label.c_str(), [chunked, demographic, q = q](benchmark::State& s) {
          count_bench(s, chunked, demographic, q);
        }));
      }
    }
  }
  for (const bool demographic : {true, false}) {
    configure(benchmark::RegisterBenchmark(demographic ? "BM_Scan/demographic" : "BM_Scan/all",
                                           [demographic](benchmark::State& s) { scan_bench(s, demographic); }));
  }
  configure(benchmark::RegisterBenchmark("BM_OverlapApi/4", [](benchmark::State& s) {
    api_bench(s, "/v1/overlap",
              R"({"crowds": {"young women": "gender:female AND age:25-29", "beauty": "兴趣:美妆",)"
              R"( "members": "member:brand_x", "tier 1": "tier:1"}})");
  }));
  configure(benchmark::RegisterBenchmark("BM_FlowApi/4x4", [](benchmark::State& s) {
    api_bench(s, "/v1/flow",
              R"({"from": {"A": "aipl:brand_x:A", "I": "aipl:brand_x:I", "P": "aipl:brand_x:P", "L": "aipl:brand_x:L"},)"
              R"( "to": {"A": "aipl:lanzhi:A", "I": "aipl:lanzhi:I", "P": "aipl:lanzhi:P", "L": "aipl:lanzhi:L"}})");
  }));
  configure(benchmark::RegisterBenchmark("BM_FunnelApi/4", [](benchmark::State& s) {
    api_bench(s, "/v1/funnel",
              R"({"steps": ["兴趣:美妆", "aipl:brand_x:*", "aipl:brand_x:P OR aipl:brand_x:L", "member:brand_x"]})");
  }));
  return true;
}();

}  // namespace
}  // namespace crowd::bench

BENCHMARK_MAIN();
