// Options: per-request switches of query compilation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "query/limits.h"

namespace crowd::query {

class UnionCache;

struct Options {
  // When true, every name the index does not know — a tag, a prefix matching
  // no tag, a saved crowd, an attribute — is the empty set instead of an
  // unknown_tag error (CONTRACT.md §2 "lenient"). Syntax errors are errors
  // either way.
  bool lenient = false;
  // Where unions of many tags are materialised and reused across queries
  // (union_cache.h); nullptr computes every union per query.
  UnionCache* union_cache = nullptr;
  // The fewest users a lookalike() seed may have (privacy guard,
  // --min-seed-size); a smaller seed is a kCrowdTooSmall error. 0: any seed.
  uint64_t min_seed = 0;
  // The most tags the query may touch after prefix expansion (limits.h,
  // kMaxQueryTags); more is a kTooManyTags error.
  std::size_t max_tags = kMaxQueryTags;
  // The day relative windows count back from (days since 1970-01-01):
  // within(tag, 7d) is that day and the six before it, whatever days the
  // index holds -- an event dated later never moves a window. nullopt: today
  // by the system clock, UTC (date.h). The server passes its clock's day
  // (--as-of, or the wall clock) or the request's "as_of".
  std::optional<int64_t> as_of;
  // Count an OR of values of one exclusive field as a sum (PlanNode::
  // disjoint). Off: evaluate it as any union (benchmarks compare the two).
  bool disjoint_sums = true;
};

}  // namespace crowd::query
