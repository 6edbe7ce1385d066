// bench-layers: one Google Benchmark per layer of crowd, over the synthetic
// demo population (bench_population.h: CROWD_BENCH_USERS users, default 1M,
// seed 42), so each stage's cost can be read without HTTP in the way.
//
//   query layer   parse, resolve+rewrite, compile of the fixed mix;
//                 count of each query of the mix; materialise
//   server layer  the first page of 1,000 IDs (the real handler, and its
//                 steps after materialising); CSV and Roaring export; NDJSON
//                 ingest into a WriteBatch and Index::apply
//   index layer   snapshot save and load
//
// Opt-in: built with the project, never run by ctest. Run it with
// bench/run-microbenchmarks.sh (pinned, 3 repetitions, medians). Every result
// goes through benchmark::DoNotOptimize; items/bytes per second are set
// where a rate means something (IDs, assignments, snapshot bytes).
#include <benchmark/benchmark.h>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <roaring/roaring.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bench/bench_population.h"
#include "data/synthetic_population.h"
#include "index/index.h"
#include "index/user_table.h"
#include "index/write_batch.h"
#include "query/parser.h"
#include "query/query.h"
#include "query/resolve.h"
#include "query/rewrite.h"
#include "server/api.h"
#include "server/id_export.h"
#include "server/ingest_parser.h"
#include "server/json_writer.h"
#include "server/metrics.h"
#include "server/page_cursor.h"

namespace crowd::bench {
namespace {

namespace http = server::http;

// The count mix, by the names bench_population.cc gives them.
const std::vector<std::string> kMix = {"2term_dense", "2term_sparse",    "6term_mixed",
                                       "30city_or",   "category_prefix", "and_not_chain"};
// Materialised (and paged) for a dense, a mixed and a wide result.
const std::vector<std::string> kMaterialize = {"2term_dense", "6term_mixed", "30city_or"};
const std::vector<std::string> kPaged = {"2term_dense", "6term_mixed"};
// The crowd exported: about half the users, bitset containers throughout.
constexpr std::string_view kExportQuery = "gender:female";
// NDJSON ingest: lines until this many (user, tag) assignments.
constexpr uint64_t kIngestPairs = 1'000'000;

[[noreturn]] void fail(benchmark::State& state, const std::string& why) {
  state.SkipWithError(why.c_str());
  std::fprintf(stderr, "bench-layers: %s\n", why.c_str());
  std::exit(2);
}

query::Plan compile_or_die(benchmark::State& state, std::string_view text, const IndexView& view) {
  auto compiled = query::compile(text, view);
  if (auto* e = std::get_if<query::Error>(&compiled)) fail(state, "compile: " + e->message);
  return std::move(std::get<query::Plan>(compiled));
}

// ---- query layer: parse, rewrite, compile ---------------------------------

uint64_t mix_bytes(const BenchPopulation& p) {
  uint64_t n = 0;
  for (const auto& q : p.queries) n += q.text.size();
  return n;
}

// The whole mix per iteration: items/s is queries parsed a second.
void BM_Parse(benchmark::State& state) {
  const auto& p = bench_population();
  for (auto _ : state) {
    for (const auto& q : p.queries) {
      auto ast = query::parse(q.text);
      benchmark::DoNotOptimize(ast);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * p.queries.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * mix_bytes(p)));
}

// Resolve (names -> bitmaps, prefixes expanded) and every rewrite pass, from
// ASTs parsed beforehand.
void BM_ResolveRewrite(benchmark::State& state) {
  const auto& p = bench_population();
  const auto view = p.store->view();
  std::vector<query::Ast> asts;
  for (const auto& q : p.queries) {
    auto parsed = query::parse(q.text);
    if (auto* e = std::get_if<query::Error>(&parsed)) fail(state, "parse: " + e->message);
    asts.push_back(std::move(std::get<query::Ast>(parsed)));
  }
  for (auto _ : state) {
    for (const auto& ast : asts) {
      auto resolved = query::resolve(ast, *view, {});
      if (auto* node = std::get_if<query::PlanNode>(&resolved)) query::rewrite(*node, *view);
      benchmark::DoNotOptimize(resolved);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * asts.size()));
}

// query::compile: parse + resolve + rewrite, what every request pays.
void BM_Compile(benchmark::State& state) {
  const auto& p = bench_population();
  const auto view = p.store->view();
  for (auto _ : state) {
    for (const auto& q : p.queries) {
      auto compiled = query::compile(q.text, *view);
      benchmark::DoNotOptimize(compiled);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * p.queries.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * mix_bytes(p)));
}

// ---- query layer: evaluation ----------------------------------------------

// Evaluator::count of one compiled query; items/s is users covered a second.
void count_bench(benchmark::State& state, const std::string& name) {
  const auto& p = bench_population();
  const auto view = p.store->view();
  const auto plan = compile_or_die(state, p.query(name).text, *view);
  query::Evaluator evaluator;
  uint64_t n = 0;
  for (auto _ : state) {
    n = evaluator.count(plan, *view);
    benchmark::DoNotOptimize(n);
  }
  state.counters["matched"] = static_cast<double>(n);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * p.users));
}

// Evaluator::materialize; items/s is result IDs a second.
void materialize_bench(benchmark::State& state, const std::string& name) {
  const auto& p = bench_population();
  const auto view = p.store->view();
  const auto plan = compile_or_die(state, p.query(name).text, *view);
  query::Evaluator evaluator;
  uint64_t n = 0;
  for (auto _ : state) {
    Bitmap crowd = evaluator.materialize(plan, *view);
    benchmark::DoNotOptimize(crowd.get());
    n = crowd.cardinality();
  }
  state.counters["matched"] = static_cast<double>(n);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

// ---- server layer: the first page of 1,000 IDs ----------------------------

// A query-string value, percent-encoded by Boost.URL (what a client sends).
std::string percent_encode(std::string_view s) { return boost::urls::encode(s, boost::urls::unreserved_chars); }

// The real handler: Api::handle on GET /v1/ids?q=...&limit=1000 (URL parse,
// compile, materialise, iterate, external IDs, JSON text, cursor), no
// socket. bytes/s counts the JSON body.
void first_page_api_bench(benchmark::State& state, const std::string& name) {
  auto& p = bench_population();
  server::Metrics metrics;
  server::Api api(*p.store, metrics);
  const std::string target = "/v1/ids?limit=1000&q=" + percent_encode(p.query(name).text);
  uint64_t bytes = 0;
  for (auto _ : state) {
    server::Request req{http::verb::get, target, 11};
    server::Call call;
    auto reply = api.handle(req, call);
    if (reply.message.result() != http::status::ok) fail(state, "GET " + target + ": " + reply.message.body());
    benchmark::DoNotOptimize(reply.message.body().data());
    bytes += reply.message.body().size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 1000));
}

// The page's steps after the crowd is materialised, as Api::ids_page does
// them (that function is private to server/api_query.cc, so these lines
// mirror it rather than call it): iterator seek + read of 1,001 ordinals,
// external IDs, JSON text via JsonWriter, the cursor. The difference from
// first_page_api is parse/compile/materialise.
void first_page_steps_bench(benchmark::State& state, const std::string& name) {
  const auto& p = bench_population();
  const auto view = p.store->view();
  const auto plan = compile_or_die(state, p.query(name).text, *view);
  query::Evaluator evaluator;
  const Bitmap crowd = evaluator.materialize(plan, *view);
  constexpr uint32_t kLimit = 1000;
  const server::PageCursors cursors;
  const server::CursorScope scope{p.query(name).text, false, {}};
  uint64_t bytes = 0;
  for (auto _ : state) {
    std::vector<uint32_t> ordinals(kLimit + 1);
    roaring_uint32_iterator_t it;
    roaring_init_iterator(crowd.get(), &it);
    uint32_t n = 0;
    if (roaring_move_uint32_iterator_equalorlarger(&it, 0)) {
      n = roaring_read_uint32_iterator(&it, ordinals.data(), kLimit + 1);
    }
    const bool more = n > kLimit;
    if (more) n = kLimit;
    std::string body;
    body.reserve(64 + static_cast<std::size_t>(n) * 12);
    server::JsonWriter w(body);
    w.raw("{\"ids\":[");
    for (uint32_t i = 0; i < n; ++i) {
      if (i) w.raw(",");
      w.user_id(view->external(ordinals[i]));
    }
    w.raw("],").key("count").number(crowd.cardinality()).raw(",").key("cursor");
    if (more) {
      w.string(cursors.issue(ordinals[n], scope));
    } else {
      w.null();
    }
    w.raw("}");
    benchmark::DoNotOptimize(body.data());
    bytes += body.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 1000));
}

// ---- server layer: export -------------------------------------------------

struct ExportCrowd {
  std::shared_ptr<const IndexView> view;
  Bitmap crowd;
};

ExportCrowd export_crowd(benchmark::State& state) {
  const auto& p = bench_population();
  ExportCrowd c{p.store->view(), Bitmap()};
  const auto plan = compile_or_die(state, kExportQuery, *c.view);
  query::Evaluator evaluator;
  c.crowd = evaluator.materialize(plan, *c.view);
  return c;
}

// Drains csv_id_source (what the session streams for ?format=csv): items/s
// is IDs a second, so 1e6 / items_per_second is the time per million IDs.
// The crowd's clone per iteration (csv_id_source takes ownership) is paused.
void BM_ExportCsv(benchmark::State& state) {
  const auto c = export_crowd(state);
  const uint64_t ids = c.crowd.cardinality();
  uint64_t bytes = 0;
  std::string chunk;
  for (auto _ : state) {
    state.PauseTiming();
    Bitmap crowd = c.crowd.clone();
    state.ResumeTiming();
    auto source = server::csv_id_source(c.view, std::move(crowd));
    while (source->next(chunk)) {
      benchmark::DoNotOptimize(chunk.data());
      bytes += chunk.size();
    }
  }
  state.counters["ids"] = static_cast<double>(ids);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ids));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// roaring_id_bytes (?format=roaring): external IDs back into a portable
// Roaring bitmap (64-bit format: 10% of demo IDs are above 2^32).
void BM_ExportRoaring(benchmark::State& state) {
  const auto c = export_crowd(state);
  const uint64_t ids = c.crowd.cardinality();
  uint64_t bytes = 0;
  for (auto _ : state) {
    std::string out = server::roaring_id_bytes(*c.view, c.crowd);
    benchmark::DoNotOptimize(out.data());
    bytes += out.size();
  }
  state.counters["ids"] = static_cast<double>(ids);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ids));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// ---- server + index layer: NDJSON ingest ----------------------------------

// NDJSON lines for users just past the population (same seed: a smaller
// population is a prefix of a larger one, so these are new users with new
// IDs), {"id":..,"tags":[..]}, until kIngestPairs assignments; padded for
// simdjson. Built once.
struct IngestBody {
  std::string body;
  uint64_t pairs = 0;
  uint64_t lines = 0;
};

const IngestBody& ingest_body() {
  static const IngestBody b = [] {
    const auto& p = bench_population();
    const synth::Population more(synth::PopulationOptions{p.users + kIngestPairs / 10, p.seed});
    const auto& vocabulary = more.vocabulary();
    IngestBody out;
    server::JsonWriter w(out.body);
    UserId id = 0;
    std::vector<uint32_t> tags;
    for (uint64_t i = p.users; out.pairs < kIngestPairs && i < more.users(); ++i) {
      more.user(i, id, tags);
      w.raw("{\"id\":").user_id(id).raw(",\"tags\":[");
      for (std::size_t t = 0; t < tags.size(); ++t) {
        if (t) w.raw(",");
        w.string(vocabulary[tags[t]]);
      }
      w.raw("]}\n");
      out.pairs += tags.size();
      ++out.lines;
    }
    server::ensure_padding(out.body);
    return out;
  }();
  return b;
}

// A private copy of the population's index (same users, ordinals, tags and
// bitmaps), for writes that must not change the shared fixture. O(index
// size): ~the bitmap bytes copied plus a hash insert a user.
std::unique_ptr<Index> copy_population_index() {
  const auto view = bench_population().store->view();
  std::vector<UserId> ids(view->ordinal_count());
  for (Ordinal o = 0; o < ids.size(); ++o) ids[o] = view->external(o);
  auto users = std::make_shared<UserTable>();
  if (users->append_new(ids) != ids.size()) {
    std::fprintf(stderr, "bench-layers: copying the user table failed\n");
    std::exit(2);
  }
  std::vector<Bitmap> tags;
  tags.reserve(view->tag_count());
  for (TagId t = 0; t < view->tag_count(); ++t) tags.push_back(view->tag(t).bits.clone());
  auto index = std::make_unique<Index>();
  index->restore(std::move(users), view->parts().dictionary, std::move(tags), view->universe().bits.clone());
  return index;
}

// parse_ndjson into a WriteBatch (BatchSink): simdjson + interning.
void BM_IngestParse(benchmark::State& state) {
  const auto& b = ingest_body();
  for (auto _ : state) {
    WriteBatch batch;
    server::BatchSink sink(batch);
    server::IngestCounts counts;
    if (auto e = server::parse_ndjson(b.body, sink, counts, server::EventDayLimit::none())) fail(state, "parse_ndjson: " + e->message);
    benchmark::DoNotOptimize(batch.pair_count());
  }
  state.counters["lines"] = static_cast<double>(b.lines);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * b.pairs));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.body.size()));
}

// parse_ndjson into a WriteBatch, then Index::apply, items/s being
// assignments a second. Into an empty index (arg 0: every tag is new, nothing
// to clone) or into a copy of the population's (arg 1: new users on existing
// tags, so apply clones every tag the batch touches — copy on write — before
// adding to it). Making and dropping the index is paused.
void BM_IngestParseApply(benchmark::State& state) {
  const bool populated = state.range(0) == 1;
  const auto& b = ingest_body();
  for (auto _ : state) {
    state.PauseTiming();
    auto index = populated ? copy_population_index() : std::make_unique<Index>();
    state.ResumeTiming();
    WriteBatch batch;
    server::BatchSink sink(batch);
    server::IngestCounts counts;
    if (auto e = server::parse_ndjson(b.body, sink, counts, server::EventDayLimit::none())) fail(state, "parse_ndjson: " + e->message);
    WriteResult result;
    if (!index->apply(batch, result)) fail(state, "Index::apply: the user table is full");
    benchmark::DoNotOptimize(result.added);
    state.PauseTiming();
    index.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * b.pairs));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.body.size()));
}

// ---- index layer: snapshots -----------------------------------------------

// Store::snapshot() of the population (log rotation, write, fdatasync,
// rename); bytes/s is snapshot bytes a second.
void BM_SnapshotSave(benchmark::State& state) {
  auto& p = bench_population();
  uint64_t bytes = 0;
  SnapshotInfo info;
  for (auto _ : state) {
    std::string error;
    if (!p.store->snapshot(info, error)) fail(state, "snapshot: " + error);
    benchmark::DoNotOptimize(info.bytes);
    bytes += info.bytes;
  }
  state.counters["snapshot_MB"] = static_cast<double>(info.bytes) / 1e6;
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// Store::open on a copy of the population's snapshot (read, verify CRCs,
// rebuild dictionary, users and bitmaps, replay an empty log). The file is
// in the page cache: this is the CPU side of a load, not the disk's.
// Closing the store is paused.
void BM_SnapshotLoad(benchmark::State& state) {
  auto& p = bench_population();
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(p.data_dir) / "load";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  fs::copy_file(fs::path(p.data_dir) / kSnapshotFileName, dir / kSnapshotFileName);
  const uint64_t file_bytes = fs::file_size(dir / kSnapshotFileName);
  for (auto _ : state) {
    std::string error;
    auto store = Store::open(StoreOptions{dir.string(), FsyncPolicy::kOff}, error);
    if (!store) fail(state, "Store::open: " + error);
    benchmark::DoNotOptimize(store->view()->ordinal_count());
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
  fs::remove_all(dir, ec);
  state.counters["snapshot_MB"] = static_cast<double>(file_bytes) / 1e6;
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * file_bytes));
}

// Registered here, in pipeline order (text -> plan -> count/bitmap -> IDs
// out; ingest; snapshots). Per-query benchmarks look their text up when they
// run, so listing the benchmarks does not build the population.
const bool kRegistered = [] {
  benchmark::RegisterBenchmark("BM_Parse", BM_Parse)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_ResolveRewrite", BM_ResolveRewrite)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_Compile", BM_Compile)->Unit(benchmark::kMicrosecond);
  for (const auto& name : kMix) {
    benchmark::RegisterBenchmark(("BM_Count/" + name).c_str(), [name](benchmark::State& s) {
      count_bench(s, name);
    })->Unit(benchmark::kMicrosecond);
  }
  for (const auto& name : kMaterialize) {
    benchmark::RegisterBenchmark(("BM_Materialize/" + name).c_str(), [name](benchmark::State& s) {
      materialize_bench(s, name);
    })->Unit(benchmark::kMicrosecond);
  }
  for (const auto& name : kPaged) {
    benchmark::RegisterBenchmark(("BM_FirstPage_Api/" + name).c_str(), [name](benchmark::State& s) {
      first_page_api_bench(s, name);
    })->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_FirstPage_AfterMaterialize/" + name).c_str(), [name](benchmark::State& s) {
      first_page_steps_bench(s, name);
    })->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("BM_ExportCsv", BM_ExportCsv)->Unit(benchmark::kMillisecond)->UseRealTime();
  benchmark::RegisterBenchmark("BM_ExportRoaring", BM_ExportRoaring)->Unit(benchmark::kMillisecond)->UseRealTime();
  benchmark::RegisterBenchmark("BM_IngestParse", BM_IngestParse)->Unit(benchmark::kMillisecond)->UseRealTime();
  benchmark::RegisterBenchmark("BM_IngestParseApply", BM_IngestParseApply)
      ->ArgName("populated")
      ->Arg(0)
      ->Arg(1)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("BM_SnapshotSave", BM_SnapshotSave)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(3);
  benchmark::RegisterBenchmark("BM_SnapshotLoad", BM_SnapshotLoad)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(3);
  return true;
}();

}  // namespace
}  // namespace crowd::bench

BENCHMARK_MAIN();
