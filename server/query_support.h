// What every route that evaluates queries shares: the mapping from query
// errors to API errors and the calling thread's evaluator.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "index/index_view.h"
#include "query/error.h"
#include "query/evaluator.h"
#include "query/plan.h"
#include "query/estimate.h"
#include "server/api_error.h"
#include "server/json_writer.h"

namespace crowd::query {
struct Options;
}  // namespace crowd::query

namespace crowd::server {

// parse_error / unknown_tag (400, with position and suggestions),
// crowd_too_small (403, a lookalike seed below the minimum) or
// too_large (413).
[[nodiscard]] ApiError query_error(const query::Error& e);

// Privacy guard (--min-seed-size): a lookalike seed needs at least
// `min_seed` users, or this is its crowd_too_small error.
[[nodiscard]] std::optional<ApiError> seed_guard(uint64_t seed_size, uint64_t min_seed);

// The calling thread's evaluator (its scratch bitmaps are reused).
[[nodiscard]] query::Evaluator& thread_evaluator();

// Compiles `q` against `view` (which must outlive the plan); a query that
// does not compile becomes its API error.
[[nodiscard]] std::variant<query::Plan, ApiError> compile_query(std::string_view q, const IndexView& view,
                                                                const query::Options& options);

// `,"estimate":{"exact", "low", "high", "relative_error"?, "sampled_users",
// "sampled_chunks", "variance"}` of a count answered by an estimate (a
// crowdd's, or a router's sum of its shards').
void write_estimate(JsonWriter& w, const query::Estimate& e);

// `,"warnings":[...]` when there are any (a query that compiled but likely
// does not mean what it says: query::Plan::warnings), else nothing.
void write_warnings(JsonWriter& w, const std::vector<std::string>& warnings);

}  // namespace crowd::server
