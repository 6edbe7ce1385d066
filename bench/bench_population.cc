#include "bench/bench_population.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <variant>

#include "data/synthetic_load.h"
#include "index/bulk_loader.h"
#include "query/query.h"

namespace crowd::bench {
namespace {

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "bench-layers: %s\n", message.c_str());
  std::exit(2);
}

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v, &end, 10);
  if (end == v || *end != '\0' || n == 0) die(std::string(name) + " must be a positive integer, not \"" + v + "\"");
  return n;
}

std::string make_temp_dir() {
  const char* base = std::getenv("CROWD_BENCH_DIR");
  std::string pattern =
      (base != nullptr && *base != '\0' ? std::filesystem::path(base) : std::filesystem::temp_directory_path()) /
      "crowd-bench-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) die("cannot create a temporary directory from " + pattern);
  return pattern;
}

std::vector<NamedQuery> build_queries(const IndexView& view) {
  std::vector<NamedQuery> q;
  q.push_back({"2term_dense", "gender:female AND age:25-29"});
  q.push_back({"2term_sparse", "member:brand_x AND aipl:brand_x:L"});
  // Six terms: an AND of five operands, one of them an OR, one negated.
  q.push_back({"6term_mixed",
               "gender:female AND (age:25-29 OR age:30-34) AND tier:1 AND power:high "
               "AND NOT member:brand_x"});

  const auto cities = largest_with_prefix(view, "city:");
  if (cities.size() < 30) die("the population has fewer than 30 city: tags");
  std::string or30;
  for (std::size_t i = 0; i < 30; ++i) {
    if (i) or30 += " OR ";
    or30 += view.dictionary().name(cities[i]);
  }
  q.push_back({"30city_or", or30});

  // The category whose most popular behaviour tag is the largest: cat:<id>:*.
  const auto cats = largest_with_prefix(view, "cat:");
  if (cats.empty()) die("the population has no cat: tags");
  const std::string& top = view.dictionary().name(cats.front());  // cat:<id>:pv
  q.push_back({"category_prefix", top.substr(0, top.rfind(':') + 1) + "*"});

  q.push_back({"and_not_chain",
               "兴趣:美妆 AND NOT member:brand_x AND NOT aipl:brand_x:A AND NOT aipl:brand_x:I "
               "AND NOT power:low"});

  for (const auto& nq : q) {
    const auto compiled = query::compile(nq.text, view);
    if (const auto* e = std::get_if<query::Error>(&compiled)) {
      die("query " + nq.name + " does not compile: " + e->message + " in: " + nq.text);
    }
  }
  return q;
}

}  // namespace

std::vector<TagId> largest_with_prefix(const IndexView& view, std::string_view prefix) {
  const auto span = view.dictionary().with_prefix(prefix);
  std::vector<TagId> ids(span.begin(), span.end());
  std::stable_sort(ids.begin(), ids.end(),
                   [&](TagId a, TagId b) { return view.tag(a).cardinality > view.tag(b).cardinality; });
  return ids;
}

uint64_t bench_users() { return env_u64("CROWD_BENCH_USERS", 1'000'000); }

BenchPopulation::BenchPopulation() {
  users = bench_users();
  seed = env_u64("CROWD_BENCH_SEED", 42);
  const auto t0 = std::chrono::steady_clock::now();
  population = std::make_unique<synth::Population>(synth::PopulationOptions{users, seed});
  data_dir = make_temp_dir();

  std::string error;
  store = Store::open(StoreOptions{data_dir, FsyncPolicy::kOff}, error);
  if (!store) die("cannot open a store in " + data_dir + ": " + error);
  bool full = false;
  // The demo's own path (server/startup_load.cc): a bulk load, then the
  // snapshot bulk_load() writes to make it durable.
  const bool stored = store->bulk_load(
      [&](Index& index) {
        BulkLoader loader(index);
        if (!synth::load_population(*population, loader)) {
          full = true;
          return;
        }
        assignments = loader.finish();
      },
      error);
  if (full) die("the user table is full");
  if (!stored) die("bulk load: " + error);
  build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  queries = build_queries(*store->view());
  std::fprintf(stderr,
               "bench-layers: population of %llu users (seed %llu): %llu assignments, %zu tags, built in %.1f s\n",
               static_cast<unsigned long long>(users), static_cast<unsigned long long>(seed),
               static_cast<unsigned long long>(assignments), store->view()->tag_count(), build_seconds);
}

BenchPopulation::~BenchPopulation() {
  store.reset();  // releases LOCK and closes the log before the directory goes
  std::error_code ec;
  std::filesystem::remove_all(data_dir, ec);
}

const NamedQuery& BenchPopulation::query(const std::string& name) const {
  for (const auto& q : queries) {
    if (q.name == name) return q;
  }
  die("no query named " + name);
}

BenchPopulation& bench_population() {
  static BenchPopulation p;
  return p;
}

}  // namespace crowd::bench
