// Loading the synthetic population into the index (`crowdd --demo`).
#pragma once

#include <cstdint>
#include <optional>

#include "data/synthetic_population.h"
#include "index/bulk_loader.h"

namespace crowd::synth {

// Feeds every user of the population into `loader`, in user order, from the
// calling thread (the loader is single-writer); with threads > 1, threads - 1
// workers generate ahead (see generate_in_order). With each user's tags go
// its facts, as the write path would store them (BulkLoader::value_tags, day), so the
// index equals one built by ingesting crowd-gen's NDJSON:
//  - values as bit slices: the attribute's "has a value" tag and the slices
//    of its offset-binary value that are 1 (a user has at most one value an
//    attribute, so a value is a plain set of tags, no last-write-wins);
//  - events as their plain aipl_daily tag (once, when both days name the
//    same tag) and the tag's day tag;
//  - with `behaviour_as_of` (days since 1970-01-01), the dated behaviour's
//    day tags on as_of - days_ago (its plain cat tags are user() tags
//    already). Without it no dated behaviour is loaded (the benchmarks'
//    populations, comparable across versions).
// Tags, users' and system, are interned on first use, so tags no user has
// never reach the index (as on the write path: a slice no value sets a bit in
// is never created). Does not call loader.finish(). Returns the (user, tag)
// assignments of users' tags handed in (user() tags and the distinct plain
// aipl_daily tags; ingest's "assignments" counts the same, without system
// tags), or nullopt when the user table filled up (users before that were
// added). Cost: generation is ~0.9 us a user with facts, the loader's add()
// (user table insert, ~60 per-tag buffer appends) 2-3 us; with 2 threads
// they overlap.
[[nodiscard]] std::optional<uint64_t> load_population(const Population& population, BulkLoader& loader,
                                                      unsigned threads = 2,
                                                      std::optional<int64_t> behaviour_as_of = std::nullopt);

}  // namespace crowd::synth
