// The shared fixture of bench-layers: the synthetic demo population
// (`crowdd --demo`), built once per process into a persistent Store in a
// temporary data directory, and the fixed query mix the benchmarks run.
//
// Seeded: the population is a pure function of (users, seed), so every run
// and every benchmark sees the same bitmaps. Size from the environment:
//   CROWD_BENCH_USERS  users in the population (default 1,000,000)
//   CROWD_BENCH_SEED   the population's seed (default 42, the demo's)
//   CROWD_BENCH_DIR    where the temporary data directory goes (default the
//                      system temp directory; it holds ~1.3 snapshots)
// The data directory is removed when the process exits normally.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "data/synthetic_population.h"
#include "index/store.h"

namespace crowd::bench {

// One query of the fixed mix: a stable benchmark name and its text.
struct NamedQuery {
  std::string name;
  std::string text;
};

struct BenchPopulation {
  BenchPopulation();
  ~BenchPopulation();
  BenchPopulation(const BenchPopulation&) = delete;
  BenchPopulation& operator=(const BenchPopulation&) = delete;

  uint64_t users = 0;
  uint64_t seed = 0;
  uint64_t assignments = 0;  // (user, tag) pairs loaded
  double build_seconds = 0;  // generation + bulk load + the first snapshot
  std::unique_ptr<synth::Population> population;
  std::string data_dir;          // the store's directory (snapshot.crowd lives here)
  std::unique_ptr<Store> store;  // persistent, fsync off; nothing writes to it but snapshots

  // The count mix, in a fixed order: 2term_dense, 2term_sparse, 6term_mixed,
  // 30city_or, category_prefix, and_not_chain. The city list and the
  // category are chosen from the loaded index (the 30 largest city: tags;
  // the category with the largest tag), so they follow the population.
  std::vector<NamedQuery> queries;
  [[nodiscard]] const NamedQuery& query(const std::string& name) const;
};

// Builds on first call (seconds at 1M users; ~10x that at 10M), then returns
// the same object. Aborts with a message if the population cannot be built
// or a query of the mix does not compile.
[[nodiscard]] BenchPopulation& bench_population();

// The tags of `prefix` by descending cardinality (ties by name, so the order
// is fixed).
[[nodiscard]] std::vector<TagId> largest_with_prefix(const IndexView& view, std::string_view prefix);

// Users in the population per CROWD_BENCH_USERS (without building it).
[[nodiscard]] uint64_t bench_users();

}  // namespace crowd::bench
