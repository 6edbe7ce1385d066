// POST /v1/stats: summary statistics of one numeric attribute over a crowd.
//
//   {"q": Q, "attr": name, "lenient"?: bool}
//   -> {"attr", "count", "sum", "min", "max", "mean", "p50", "p90", "p99", "crowd", "took_us"}
//
// count is the crowd's users that have a value (users without one are left
// out of every figure); min, max, mean and the percentiles are null when it
// is 0; every figure, the sum too, is null when the count is hidden ("<K"). Percentiles are nearest-rank (query/attribute.h). The sum is exact:
// a JSON integer while it fits in int64 (like the values themselves), else
// its decimal digits as a string, since a sum of 2^32 values needs 96 bits.
// An unknown attribute is 400 unknown_tag, also with "lenient" (it names a
// column, not a set that could be empty).
//
// Cost: compiling q, materialising the crowd once (operator at a time), then
// attribute_stats: word operations and popcounts per chunk over the
// attribute's varying slices, no per-user loop (~10 ms of CPU at 10M users,
// query/attribute.h).
#include <simdjson.h>

#include <string>
#include <variant>

#include "index/system_view.h"
#include "query/attribute.h"
#include "server/analytics_replies.h"
#include "server/analytics_request.h"
#include "server/api.h"
#include "server/stats_request.h"
#include "server/json_fields.h"
#include "server/json_writer.h"
#include "server/query_support.h"
#include "server/request_json.h"

namespace crowd::server {
namespace {

ApiError unknown_attribute(const std::string& attr) {
  return {http::status::bad_request, "unknown_tag", "unknown attribute " + attr, {}, {}, {}};
}

}  // namespace

Reply Api::stats(const Request& req, Clock::time_point start) {
  const auto parsed = read_stats_request(req.body());
  if (const auto* e = std::get_if<ApiError>(&parsed)) return error_reply(*e);
  const auto& r = std::get<StatsRequest>(parsed);

  const auto view = store_.view();
  auto compiled = compile_query(r.q, *view, query_options(r.lenient, r.as_of));
  if (const auto* e = std::get_if<ApiError>(&compiled)) return error_reply(*e);
  // Checked before the crowd is built: a typo costs a lookup, not a query.
  if (!view->system().attribute(r.attr)) {
    return error_reply(unknown_attribute(r.attr));
  }
  const Bitmap crowd = thread_evaluator().materialize(std::get<query::Plan>(compiled), *view);
  const auto stats = query::attribute_stats(*view, r.attr, crowd.get());
  if (!stats) return error_reply(unknown_attribute(r.attr));  // not reached: same view as the check

  const AnalyticsTail tail{0, nullptr, micros_since(start), options_.min_export_size};
  std::string body = stats_body(r.attr, *stats, crowd.cardinality(), tail);
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
