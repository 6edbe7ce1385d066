// estimate-quality: how close and how fast `"estimate": true` counts are
// (query/estimate.h), against exact counts of the same plans, over every
// query class of bench/'s mixes on the demo population.
//
// For each class, --queries random queries (seeded) built from the loaded
// tags: dense pairs (demographics and interests), sparse pairs (one dense,
// one brand, AIPL or category tag), 5-8-term mixes, wide unions (10-30 of the
// 60 largest cities AND a dense tag; no union cache), category prefixes AND a
// dense tag, and-not chains. Each query is counted exactly and estimated,
// --runs times each (medians). Reported per class: the interval's coverage
// (how often it holds the exact count, over 8 samples of each query shifted
// along the stride), the 95th percentile of the relative
// error for crowds of >= 5% of users and of 0.2-5%, the median half width,
// and median / p99 times of both.
//
// --union-cache: compile with a union cache (as crowdd does, 256 MiB), so a
// union met before is read as one set; each query is then timed after it
// was compiled once.
//
//   CROWD_BENCH_USERS=10000000 build/estimate-quality [--queries 100] [--runs 5] [--seed 7] [--union-cache]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "bench/bench_population.h"
#include "query/query.h"
#include "query/union_cache.h"

namespace crowd::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Pools {
  std::vector<std::string> dense;       // gender, age, tier, power, interests
  std::vector<std::string> sparse;      // members, AIPL stages, the 200 largest category tags
  std::vector<std::string> cities;      // the 60 largest
  std::vector<std::string> categories;  // "cat:<id>:" of the 100 largest category tags
};

Pools make_pools(const IndexView& view) {
  Pools p;
  auto names = [&](std::string_view prefix, std::size_t most, std::vector<std::string>& out) {
    const auto ids = largest_with_prefix(view, prefix);
    for (std::size_t i = 0; i < ids.size() && i < most; ++i) out.push_back(view.dictionary().name(ids[i]));
  };
  for (const char* f : {"gender:", "age:", "tier:", "power:", "兴趣:"}) names(f, 50, p.dense);
  names("member:", 50, p.sparse);
  names("aipl:", 50, p.sparse);
  names("cat:", 200, p.sparse);
  names("city:", 60, p.cities);
  std::vector<std::string> cats;
  names("cat:", 100, cats);
  for (const auto& c : cats) {
    std::string prefix = c.substr(0, c.rfind(':') + 1);
    if (std::find(p.categories.begin(), p.categories.end(), prefix) == p.categories.end()) {
      p.categories.push_back(prefix);
    }
  }
  if (p.dense.size() < 10 || p.sparse.size() < 10 || p.cities.size() < 30 || p.categories.empty()) {
    std::fprintf(stderr, "estimate-quality: the population lacks the demo's fields\n");
    std::exit(2);
  }
  return p;
}

const std::string& pick(const std::vector<std::string>& v, std::mt19937_64& rng) { return v[rng() % v.size()]; }

std::string make_query(std::size_t cls, const Pools& p, std::mt19937_64& rng) {
  switch (cls) {
    case 0:
      return pick(p.dense, rng) + " AND " + pick(p.dense, rng);
    case 1:
      return pick(p.dense, rng) + " AND " + pick(p.sparse, rng);
    case 2: {
      const std::size_t terms = 5 + rng() % 4;
      std::string q = pick(p.dense, rng);
      std::size_t used = 1;
      while (used < terms) {
        const auto r = rng() % 4;
        if (r == 0 && used + 2 <= terms) {
          q += " AND (" + pick(p.dense, rng) + " OR " + pick(p.dense, rng) + ")";
          used += 2;
        } else if (r == 1) {
          q += " AND NOT " + pick(p.sparse, rng);
          ++used;
        } else {
          q += " AND " + pick(p.dense, rng);
          ++used;
        }
      }
      return q;
    }
    case 3: {
      const std::size_t n = 10 + rng() % 21;
      std::vector<std::string> cities = p.cities;
      std::shuffle(cities.begin(), cities.end(), rng);
      std::string q = "(";
      for (std::size_t i = 0; i < n; ++i) q += (i ? " OR " : "") + cities[i];
      return q + ") AND " + pick(p.dense, rng);
    }
    case 4:
      return pick(p.categories, rng) + "* AND " + pick(p.dense, rng);
    default: {
      std::string q = pick(p.dense, rng);
      const std::size_t nots = 3 + rng() % 2;
      for (std::size_t i = 0; i < nots; ++i) q += " AND NOT " + pick(rng() % 2 ? p.sparse : p.dense, rng);
      return q;
    }
  }
}

// Samples per query for coverage, at phases 1/16, 3/16, ... 15/16 of the
// stride; errors and times are the fixed sample's (phase 1/2).
constexpr int kPhases = 8;

constexpr const char* kClasses[] = {"dense pair", "sparse pair",     "5-8-term mix",
                                    "wide union", "category prefix", "and-not chain"};

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())) - 1))];
}

template <typename F>
double median_us(int runs, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = Clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  return percentile(t, 0.5);
}

int run(int argc, char** argv) {
  std::size_t per_class = 100;
  int runs = 5;
  uint64_t seed = 7;
  bool cached = false;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--union-cache") == 0) {
      cached = true;
    } else if (has_value && std::strcmp(argv[i], "--queries") == 0) {
      per_class = std::strtoull(argv[++i], nullptr, 10);
    } else if (has_value && std::strcmp(argv[i], "--runs") == 0) {
      runs = std::atoi(argv[++i]);
    } else if (has_value && std::strcmp(argv[i], "--seed") == 0) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: estimate-quality [--queries N] [--runs R] [--seed S] [--union-cache]\n");
      return 2;
    }
  }
  query::UnionCache union_cache(std::size_t{256} << 20);
  query::Options options;
  if (cached) options.union_cache = &union_cache;
  BenchPopulation& population = bench_population();
  const auto view = population.store->view();
  const Pools pools = make_pools(*view);
  const auto users = static_cast<double>(view->universe().cardinality);
  query::Evaluator evaluator;
  std::mt19937_64 rng(seed);

  std::printf("estimate-quality: %llu users, %zu queries a class, %d runs each, seed %llu, %s\n\n",
              static_cast<unsigned long long>(view->universe().cardinality), per_class, runs,
              static_cast<unsigned long long>(seed), cached ? "union cache" : "no union cache");
  std::printf(
      "| class | queries (sampled) | interval holds (8 samples a query) | p95 error, >= 5%% | p95 error, 0.2-5%% | "
      "median half width | exact: median / p99 us | estimate: median / p99 us |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  std::size_t all_sampled = 0, all_held = 0;
  for (std::size_t cls = 0; cls < std::size(kClasses); ++cls) {
    std::size_t sampled = 0, held = 0;
    std::vector<double> big_errors, mid_errors, half_widths, exact_us, estimate_us;
    for (std::size_t i = 0; i < per_class; ++i) {
      const std::string q = make_query(cls, pools, rng);
      if (cached) (void)query::compile(q, *view, options);  // the first sight fills the cache
      auto compiled = query::compile(q, *view, options);
      if (const auto* e = std::get_if<query::Error>(&compiled)) {
        std::fprintf(stderr, "estimate-quality: %s: %s\n", q.c_str(), e->message.c_str());
        return 1;
      }
      const auto& plan = std::get<query::Plan>(compiled);
      uint64_t exact = 0;
      query::Estimate est;
      exact_us.push_back(median_us(runs, [&] { exact = evaluator.count(plan, *view); }));
      estimate_us.push_back(median_us(runs, [&] { est = evaluator.estimate(plan, *view); }));
      if (est.exact) continue;
      // Coverage over samples: kPhases samples shifted along the stride.
      for (int k = 0; k < kPhases; ++k) {
        const query::Estimate other = evaluator.estimate(plan, *view, (2.0 * k + 1) / (2.0 * kPhases));
        ++sampled;
        held += other.low <= exact && exact <= other.high;
      }
      if (exact == 0) continue;
      const double error =
          std::abs(static_cast<double>(est.count) - static_cast<double>(exact)) / static_cast<double>(exact);
      const double share = static_cast<double>(exact) / users;
      if (share >= 0.05)
        big_errors.push_back(error);
      else if (share >= 0.002)
        mid_errors.push_back(error);
      half_widths.push_back(static_cast<double>(est.high - est.low) / 2 / static_cast<double>(exact));
    }
    all_sampled += sampled;
    all_held += held;
    auto pct = [](double v) {
      char b[32];
      if (std::isnan(v)) return std::string("-");
      std::snprintf(b, sizeof b, "%.2f%%", v * 100);
      return std::string(b);
    };
    std::printf("| %s | %zu (%zu) | %zu of %zu | %s (%zu) | %s (%zu) | %s | %.0f / %.0f | %.0f / %.0f |\n",
                kClasses[cls], per_class, sampled, held, sampled, pct(percentile(big_errors, 0.95)).c_str(),
                big_errors.size(), pct(percentile(mid_errors, 0.95)).c_str(), mid_errors.size(),
                pct(percentile(half_widths, 0.5)).c_str(), percentile(exact_us, 0.5), percentile(exact_us, 0.99),
                percentile(estimate_us, 0.5), percentile(estimate_us, 0.99));
  }
  std::printf("\nall classes: the interval held the exact count in %zu of %zu sampled estimates (%.1f%%)\n", all_held,
              all_sampled, all_sampled ? 100.0 * static_cast<double>(all_held) / all_sampled : 0.0);
  return 0;
}

}  // namespace
}  // namespace crowd::bench

int main(int argc, char** argv) { return crowd::bench::run(argc, argv); }
