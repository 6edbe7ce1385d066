// Route: one row of the route table (routes.cc) — the method and path pattern
// it answers, the scope a caller needs, whether it is audited and timed, the
// largest body it reads, the URL parameters it accepts, and its handler.
// Everything about a route that is not its handler's own logic is derived
// from its row: dispatch, 404 and 405 (with Allow), authorization, the body
// limit the session applies before reading a body, the refusal of unknown URL
// parameters, the metrics label, and the OpenAPI check in the tests. A path
// that no row matches is not served.
//
// Patterns are literal segments and `{name}` segments ("/v1/crowds/{name}");
// a `{name}` segment matches one non-empty, percent-decoded path segment.
// An `{id}` segment is a user ID: the audit log shows such a route by its
// pattern, never its path (right to erasure).
// Matching is a linear scan of ~25 rows comparing a few segments each: well
// under a microsecond, cheaper than building a trie it would need to beat.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <boost/url/url_view.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/access.h"
#include "server/reply.h"

namespace crowd::server {

class Api;
struct Call;

// What a handler is given: the request (its body may be padded in place for
// simdjson), its parsed target, the call's context (in and out), and when
// the handler was entered (for took_us).
struct Exchange {
  Request& req;
  const boost::urls::url_view& url;
  Call& call;
  std::chrono::steady_clock::time_point start;

  // The decoded value of the pattern's `{name}` segment. The row's pattern
  // must have it (a handler asks only for its own pattern's names).
  [[nodiscard]] const std::string& path_param(std::string_view name) const;
};

using Handler = Reply (*)(Api&, Exchange&);

// Whether a route's requests (refusals included) go to the audit log.
enum class Audited : bool { kNo, kYes };
// Whether a route's work runs under --time-budget-ms. Bulk writes do not:
// they are bounded by their body limit, and a large ingest over a slow link
// must not be read whole and then dropped.
enum class Budgeted : bool { kNo, kYes };

// Body limits, in bytes. Each fits what its routes read: GET and DELETE
// none; a query request is
// one query of at most 64 KiB (query/limits.h) JSON-escaped (a \uXXXX for a
// 3-byte character doubles it) plus a few options; the analytics routes over
// several queries take up to 2 x 16 of them (flow); bulk writes take the
// server's --max-body.
inline constexpr std::size_t kNoBody = 0;
// A POST that reads no body may still be sent a small one (`{}`): ignored.
inline constexpr std::size_t kIgnoredBody = 1u << 10;
inline constexpr std::size_t kQueryBody = 256u << 10;
inline constexpr std::size_t kQueriesBody = 4u << 20;
// A field's metadata (PUT /v1/fields/{field}): labels of up to
// catalog::kMaxValues values.
inline constexpr std::size_t kFieldBody = 4u << 20;
inline constexpr std::size_t kServerMaxBody = SIZE_MAX;

struct Route {
  boost::beast::http::verb method;
  std::string_view pattern;
  Scope scope;
  Audited audited;
  Budgeted budgeted;
  std::size_t body_limit;
  // The URL query parameters the route reads; any other is a 400.
  std::span<const std::string_view> params;
  Handler handler;
  std::string_view summary;  // one line, for errors and listings
};

// The result of matching a request line against the table.
struct RouteMatch {
  const Route* route = nullptr;     // null: no row for this method and path
  std::vector<std::string> values;  // the `{name}` segments, in pattern order
  std::string allow;                // path known, method not: "GET, PUT"
};

// The row for `method` and the (encoded) path of `url`. O(rows x segments).
[[nodiscard]] RouteMatch match_route(std::span<const Route> table, boost::beast::http::verb method,
                                     const boost::urls::url_view& url);

// The first URL query parameter of `url` that `route` does not accept, or "".
[[nodiscard]] std::string unknown_param(const Route& route, const boost::urls::url_view& url);

// The body limit of `route` on a server whose --max-body is `max_body`.
[[nodiscard]] inline std::size_t body_limit(const Route& route, std::size_t max_body) {
  return route.body_limit < max_body ? route.body_limit : max_body;
}

// Metrics labels: one per distinct pattern of the table, in table order, and
// a last one ("other") for requests no row matched. The slot of a route is
// the index of its pattern's label.
[[nodiscard]] std::span<const std::string_view> route_labels();
[[nodiscard]] std::size_t route_slot(const Route* route);  // null: "other"

}  // namespace crowd::server
