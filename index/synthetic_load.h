// Loading the synthetic population into the index (`crowdd --demo`).
#pragma once

#include <cstdint>
#include <optional>

#include "index/bulk_loader.h"
#include "index/synthetic_population.h"

namespace crowd::synth {

// Feeds every user of the population into `loader`, in user order, from the
// calling thread (the loader is single-writer); with threads > 1, threads - 1
// workers generate ahead (see generate_in_order). Vocabulary tags are
// interned on first use, so tags no user has never reach the index. Does not
// call loader.finish(). Returns the (user, tag) assignments handed in, or
// nullopt when the user table filled up (users before that were added).
// Cost: generation is ~0.7 us a user, the loader's add() (user table insert,
// ~40 per-tag buffer appends) 2-3 us; with 2 threads they overlap.
[[nodiscard]] std::optional<uint64_t> load_population(const Population& population, BulkLoader& loader,
                                                      unsigned threads = 2);

}  // namespace crowd::synth
