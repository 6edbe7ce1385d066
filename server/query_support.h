// What every route that evaluates queries shares: the mapping from query
// errors to API errors and the calling thread's evaluator.
#pragma once

#include <string_view>
#include <variant>

#include "index/index_view.h"
#include "query/error.h"
#include "query/evaluator.h"
#include "query/plan.h"
#include "server/api_error.h"

namespace crowd::query {
class UnionCache;
}  // namespace crowd::query

namespace crowd::server {

// parse_error / unknown_tag (400, with position and suggestions) or
// too_large (413).
[[nodiscard]] ApiError query_error(const query::Error& e);

// The calling thread's evaluator (its scratch bitmaps are reused).
[[nodiscard]] query::Evaluator& thread_evaluator();

// Compiles `q` against `view` (which must outlive the plan); a query that
// does not compile becomes its API error.
[[nodiscard]] std::variant<query::Plan, ApiError> compile_query(std::string_view q, const IndexView& view,
                                                               bool lenient, query::UnionCache* unions);

}  // namespace crowd::server
