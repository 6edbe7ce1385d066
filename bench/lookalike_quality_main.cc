// lookalike-quality: how good and how fast lookalike expansion
// (query/lookalike.h) is, on the synthetic DMP population whose hidden
// personas are the ground truth.
//
// Quality (default): for each persona p, and for p AND one of its signature
// tags (a segment partly defined by a tag, so the seed's defining tag is in
// play), seed = a random share (10%) of the segment, size = the rest of it,
// candidates = everyone outside the seed. Reported per row: precision
// (|result ∩ rest| / |result|), recall (|result ∩ rest| / |rest|; equal to
// precision since size = |rest|), and lift over random (precision / the
// rest's share of the candidates), for lookalike and for a plain baseline
// that ranks users by how many over-represented seed tags they hold
// (seed share ≥ 1% and raw lift ≥ 2; ties to the lowest ordinal).
//
// Speed (--speed): at 10M users by default, expansions to 1M from a few seeds,
// each run several times; medians of the total and of each phase
// (LookalikeTimings).
//
// The index is built like `crowdd --demo` (BulkLoader over the population in
// user order), so ordinal i is population user i: checked for every user
// against Population::id(i) before anything is measured.
//
//   build/lookalike-quality [--users N] [--seed S] [--share F] [--sweep]
//   build/lookalike-quality --speed [--users N] [--size N] [--runs R]
// Tuning overrides (both modes): --prior M --clip W --features K --min-info I.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "data/synthetic_load.h"
#include "data/synthetic_population.h"
#include "index/bulk_loader.h"
#include "index/index.h"
#include "query/evaluator.h"
#include "query/lookalike.h"
#include "query/query.h"

namespace crowd {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "lookalike-quality: %s\n", message.c_str());
  std::exit(2);
}

struct Args {
  uint64_t users = 0;  // 0: 1M for quality, 10M for speed
  uint64_t seed = 42;
  double share = 0.10;
  bool speed = false;
  bool sweep = false;
  uint64_t size = 1'000'000;
  int runs = 7;
  query::LookalikeTuning tuning;
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) die("missing value after " + k);
      return argv[++i];
    };
    if (k == "--users") {
      a.users = std::strtoull(next(), nullptr, 10);
    } else if (k == "--seed") {
      a.seed = std::strtoull(next(), nullptr, 10);
    } else if (k == "--share") {
      a.share = std::strtod(next(), nullptr);
    } else if (k == "--speed") {
      a.speed = true;
    } else if (k == "--sweep") {
      a.sweep = true;
    } else if (k == "--size") {
      a.size = std::strtoull(next(), nullptr, 10);
    } else if (k == "--runs") {
      a.runs = std::atoi(next());
    } else if (k == "--prior") {
      a.tuning.prior_strength = std::strtod(next(), nullptr);
    } else if (k == "--clip") {
      a.tuning.max_weight = std::strtod(next(), nullptr);
    } else if (k == "--features") {
      a.tuning.max_features = std::strtoull(next(), nullptr, 10);
    } else if (k == "--min-info") {
      a.tuning.min_information = std::strtod(next(), nullptr);
    } else {
      die("unknown argument " + k);
    }
  }
  if (a.users == 0) a.users = a.speed ? 10'000'000 : 1'000'000;
  if (a.share <= 0 || a.share >= 1) die("--share must be in (0, 1)");
  if (a.runs < 1) die("--runs must be at least 1");
  return a;
}

// The population loaded as `crowdd --demo` loads it.
std::unique_ptr<Index> build_index(const synth::Population& population) {
  const auto t0 = Clock::now();
  auto index = std::make_unique<Index>();
  BulkLoader loader(*index);
  if (!synth::load_population(population, loader)) die("the user table is full");
  const uint64_t assignments = loader.finish();
  const auto view = index->view();
  // Ordinal i must be population user i, or the ground truth is misread.
  if (view->ordinal_count() != population.users()) die("ordinal count differs from the population's users");
  for (uint64_t i = 0; i < population.users(); ++i) {
    if (view->external(static_cast<Ordinal>(i)) != population.id(i)) {
      die("ordinal " + std::to_string(i) + " is not population user " + std::to_string(i));
    }
  }
  std::fprintf(stderr, "lookalike-quality: %llu users, %llu assignments, %zu tags, built in %.1f s\n",
               static_cast<unsigned long long>(population.users()), static_cast<unsigned long long>(assignments),
               view->tag_count(), std::chrono::duration<double>(Clock::now() - t0).count());
  return index;
}

// A deterministic random `share` of `segment`.
Bitmap sample(const roaring_bitmap_t* segment, double share, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<uint32_t> picked;
  roaring_uint32_iterator_t* it = roaring_create_iterator(segment);
  for (; it->has_value; roaring_advance_uint32_iterator(it)) {
    if (u(rng) < share) picked.push_back(it->current_value);
  }
  roaring_free_uint32_iterator(it);
  Bitmap out;
  out.add_many(picked);
  return out;
}

// The baseline: users ranked by how many over-represented seed tags they
// hold (seed share ≥ 1%, raw lift ≥ 2), ties to the lowest ordinal. Plain
// loops: it is the yardstick, not the product.
Bitmap baseline(const IndexView& view, const roaring_bitmap_t* seed, uint64_t size, std::size_t* tags_used) {
  const roaring_bitmap_t* universe = view.universe().bits.get();
  const double S = static_cast<double>(roaring_bitmap_get_cardinality(seed));
  const double C = static_cast<double>(view.universe().cardinality) - S;
  std::vector<uint16_t> count(view.ordinal_count(), 0);
  std::size_t used = 0;
  for (const TagId t : view.dictionary().sorted()) {
    const TagBits& bits = view.tag(t);
    const double a = static_cast<double>(roaring_bitmap_and_cardinality(bits.bits.get(), seed));
    const double b = static_cast<double>(bits.cardinality) - a;
    if (a / S < 0.01 || (b > 0 && (a / S) / (b / C) < 2)) continue;
    ++used;
    roaring_iterate(
        bits.bits.get(),
        [](uint32_t v, void* p) {
          ++static_cast<uint16_t*>(p)[v];
          return true;
        },
        count.data());
  }
  *tags_used = used;
  std::vector<std::pair<int, uint32_t>> ranked;  // (−count, ordinal): ascending = best first
  roaring_uint32_iterator_t* it = roaring_create_iterator(universe);
  for (; it->has_value; roaring_advance_uint32_iterator(it)) {
    if (!roaring_bitmap_contains(seed, it->current_value)) {
      ranked.emplace_back(-static_cast<int>(count[it->current_value]), it->current_value);
    }
  }
  roaring_free_uint32_iterator(it);
  const std::size_t n = std::min<std::size_t>(size, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n), ranked.end());
  std::vector<uint32_t> chosen;
  chosen.reserve(n);
  for (std::size_t i = 0; i < n; ++i) chosen.push_back(ranked[i].second);
  std::sort(chosen.begin(), chosen.end());
  Bitmap out;
  out.add_many(chosen);
  return out;
}

struct Row {
  std::string name;
  uint64_t segment = 0, seed = 0, rest = 0, candidates = 0;
};

struct Score {
  double precision = 0, recall = 0, lift = 0;
};

Score score(const roaring_bitmap_t* result, const roaring_bitmap_t* rest, uint64_t candidates) {
  const double hit = static_cast<double>(roaring_bitmap_and_cardinality(result, rest));
  const double n = static_cast<double>(roaring_bitmap_get_cardinality(result));
  const double r = static_cast<double>(roaring_bitmap_get_cardinality(rest));
  Score s;
  s.precision = n > 0 ? hit / n : 0;
  s.recall = r > 0 ? hit / r : 0;
  s.lift = s.precision / (r / static_cast<double>(candidates));
  return s;
}

struct Segment {
  std::string name;
  Bitmap members;
};

// Persona p, and persona p AND its first signature tag.
std::vector<Segment> segments(const synth::Population& population, const IndexView& view) {
  const uint32_t personas = synth::Population::persona_count();
  std::vector<std::vector<uint32_t>> by_persona(personas);
  for (uint64_t i = 0; i < population.users(); ++i) by_persona[population.persona(i)].push_back(static_cast<uint32_t>(i));
  std::vector<Segment> out;
  for (uint32_t p = 0; p < personas; ++p) {
    Bitmap all;
    all.add_many(by_persona[p]);
    Bitmap both(nullptr);
    std::string both_name;
    const auto sig = population.signature(p);
    if (!sig.empty()) {
      const std::string& tag = population.vocabulary()[sig[0]];
      if (const auto id = view.dictionary().find(tag)) {
        both = Bitmap(roaring_bitmap_and(all.get(), view.tag(*id).bits.get()));
        both_name = std::string(synth::Population::persona_name(p)) + " & " + tag;
      }
    }
    out.push_back({synth::Population::persona_name(p), std::move(all)});
    if (!both_name.empty()) out.push_back({both_name, std::move(both)});
  }
  return out;
}

struct QualityTotals {
  double lookalike = 0, baseline = 0;
  int rows = 0;
};

QualityTotals run_quality(const IndexView& view, const std::vector<Segment>& segs, const Args& args,
                          const query::LookalikeTuning& tuning, bool print) {
  QualityTotals totals;
  if (print) {
    std::printf("| segment | segment users | seed | rest (target) | lookalike precision = recall | lift | "
                "baseline precision = recall | lift | features | ms |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  }
  for (std::size_t k = 0; k < segs.size(); ++k) {
    const auto& seg = segs[k];
    Bitmap seed = sample(seg.members.get(), args.share, args.seed * 1000 + k);
    Bitmap rest(roaring_bitmap_andnot(seg.members.get(), seed.get()));
    const uint64_t rest_n = rest.cardinality();
    if (seed.empty() || rest_n == 0) continue;
    query::LookalikeOptions options;
    options.size = rest_n;
    options.tuning = tuning;
    const auto t0 = Clock::now();
    const auto result = query::lookalike(view, seed.get(), options);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    const Score ls = score(result.users.get(), rest.get(), result.candidate_count);
    if (roaring_bitmap_intersect(result.users.get(), seed.get())) die("the expansion includes the seed");
    std::size_t base_tags = 0;
    Score bs;
    if (print) {
      const Bitmap b = baseline(view, seed.get(), rest_n, &base_tags);
      bs = score(b.get(), rest.get(), result.candidate_count);
      std::printf("| %s | %llu | %llu | %llu | %.3f | %.1f | %.3f | %.1f | %zu | %.0f |\n", seg.name.c_str(),
                  static_cast<unsigned long long>(seg.members.cardinality()),
                  static_cast<unsigned long long>(seed.cardinality()), static_cast<unsigned long long>(rest_n),
                  ls.precision, ls.lift, bs.precision, bs.lift, result.features.size(), ms);
      std::fflush(stdout);
    }
    totals.lookalike += ls.precision;
    totals.baseline += bs.precision;
    ++totals.rows;
  }
  if (print && totals.rows > 0) {
    std::printf("| **mean** | | | | %.3f | | %.3f | | | |\n", totals.lookalike / totals.rows,
                totals.baseline / totals.rows);
  }
  return totals;
}

// The features of one expansion, for the reader of the table.
void print_features(const IndexView& view, const query::LookalikeResult& r, std::size_t n) {
  for (std::size_t i = 0; i < std::min(n, r.features.size()); ++i) {
    const auto& f = r.features[i];
    std::printf("    %-28s weight %+.2f lift %6.2f seed %.3f cand %.3f\n", view.dictionary().name(f.tag).c_str(),
                f.weight, f.lift, f.seed_share, f.candidate_share);
  }
}

// This thread's CPU time, ms: on a shared machine wall time also counts
// the time other processes held the core.
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void run_speed(const IndexView& view, const synth::Population& population, const Args& args) {
  struct Case {
    std::string name;
    Bitmap seed;
    Bitmap candidates{nullptr};
  };
  std::vector<Case> cases;
  {
    std::vector<uint32_t> p0;
    for (uint64_t i = 0; i < population.users(); ++i) {
      if (population.persona(i) == 0) p0.push_back(static_cast<uint32_t>(i));
    }
    Bitmap all;
    all.add_many(p0);
    cases.push_back({std::string("10% of persona ") + synth::Population::persona_name(0),
                     sample(all.get(), 0.10, args.seed)});
  }
  query::Evaluator evaluator;
  auto materialize = [&](const std::string& q) {
    auto compiled = query::compile(q, view);
    if (const auto* e = std::get_if<query::Error>(&compiled)) die("query does not compile: " + q + ": " + e->message);
    return evaluator.materialize(std::get<query::Plan>(compiled), view);
  };
  cases.push_back({"member:brand_x AND aipl:brand_x:L", materialize("member:brand_x AND aipl:brand_x:L")});
  cases.push_back({"兴趣:美妆 (a large seed)", materialize("兴趣:美妆")});
  cases.push_back({"10% of persona 0, candidates tier:1 OR tier:2", cases[0].seed.clone(),
                   materialize("tier:1 OR tier:2")});

  std::printf("| seed | seed users | candidates | features | stride | total ms | CPU ms | weights (screening) | scoring | threshold | result |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (auto& c : cases) {
    query::LookalikeOptions options;
    options.size = args.size;
    options.tuning = args.tuning;
    options.candidates = c.candidates.get();
    std::vector<double> total, cpu, weights, screen, scoring, threshold, result;
    query::LookalikeResult last;
    for (int r = 0; r < args.runs; ++r) {
      const auto t0 = Clock::now();
      const double c0 = cpu_ms();
      last = query::lookalike(view, c.seed.get(), options);
      cpu.push_back(cpu_ms() - c0);
      total.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      weights.push_back(static_cast<double>(last.timings.weights_us) / 1000);
      screen.push_back(static_cast<double>(last.timings.screen_us) / 1000);
      scoring.push_back(static_cast<double>(last.timings.scoring_us) / 1000);
      threshold.push_back(static_cast<double>(last.timings.threshold_us) / 1000);
      result.push_back(static_cast<double>(last.timings.result_us) / 1000);
      if (last.users.cardinality() != std::min<uint64_t>(args.size, last.candidate_count)) die("wrong result size");
    }
    std::printf("| %s | %llu | %llu | %zu | %zu | %.1f | %.1f | %.1f (%.1f) | %.1f | %.2f | %.1f |\n", c.name.c_str(),
                static_cast<unsigned long long>(c.seed.cardinality()),
                static_cast<unsigned long long>(last.candidate_count), last.features.size(), last.count_stride,
                median(total), median(cpu), median(weights), median(screen), median(scoring), median(threshold), median(result));
    std::fflush(stdout);
  }
  std::printf("\n(%d runs each, medians; %llu users, size %llu)\n", args.runs,
              static_cast<unsigned long long>(population.users()), static_cast<unsigned long long>(args.size));
}

}  // namespace
}  // namespace crowd

int main(int argc, char** argv) {
  using namespace crowd;
  const Args args = parse_args(argc, argv);
  const synth::Population population(synth::PopulationOptions{args.users, args.seed});
  const auto index = build_index(population);
  const auto view = index->view();

  if (args.speed) {
    run_speed(*view, population, args);
    return 0;
  }
  const auto segs = segments(population, *view);
  std::printf("Lookalike quality: %llu users (population seed %llu), seed = %.0f%% of the segment, size = the "
              "rest; tuning prior %.0f, clip %.1f, features %zu, min information %g\n\n",
              static_cast<unsigned long long>(args.users), static_cast<unsigned long long>(args.seed),
              args.share * 100, args.tuning.prior_strength, args.tuning.max_weight, args.tuning.max_features,
              args.tuning.min_information);
  if (args.sweep) {
    std::printf("| prior | clip | features | mean precision |\n|---:|---:|---:|---:|\n");
    for (const double prior : {5.0, 20.0, 100.0}) {
      for (const double clip : {2.0, 3.0, 5.0, 50.0}) {
        for (const std::size_t k : {std::size_t{50}, std::size_t{200}, std::size_t{1000}}) {
          query::LookalikeTuning t = args.tuning;
          t.prior_strength = prior;
          t.max_weight = clip;
          t.max_features = k;
          const auto totals = run_quality(*view, segs, args, t, false);
          std::printf("| %.0f | %.0f | %zu | %.4f |\n", prior, clip, k, totals.lookalike / totals.rows);
          std::fflush(stdout);
        }
      }
    }
    return 0;
  }
  run_quality(*view, segs, args, args.tuning, true);
  // Why: the top features of the first segment's expansion.
  if (!segs.empty()) {
    Bitmap seed = sample(segs[0].members.get(), args.share, args.seed * 1000);
    query::LookalikeOptions options;
    options.size = 1000;
    options.tuning = args.tuning;
    const auto r = query::lookalike(*view, seed.get(), options);
    std::printf("\nTop features for a 10%% seed of %s:\n", segs[0].name.c_str());
    print_features(*view, r, 12);
  }
  return 0;
}
