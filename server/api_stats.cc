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
#include "server/analytics_request.h"
#include "server/api.h"
#include "server/json_fields.h"
#include "server/json_writer.h"
#include "server/query_support.h"
#include "server/request_json.h"

namespace crowd::server {
namespace {

struct StatsRequest {
  std::string q;
  std::string attr;
  bool lenient = false;
  std::optional<int64_t> as_of;  // relative windows' day (nullopt: today)
};

std::variant<StatsRequest, ApiError> read_stats_request(std::string_view body) {
  StatsRequest out;
  const JsonField fields[] = {
      {"q", kRequired, string_into(out.q)},
      {"attr", kRequired, string_into(out.attr)},
      {"lenient", kOptional, bool_into(out.lenient)},
      {"as_of", kOptional, day_into(out.as_of)},
  };
  if (auto e = read_body_fields(body, fields)) return *e;
  return out;
}

ApiError unknown_attribute(const std::string& attr) {
  return {http::status::bad_request, "unknown_tag", "unknown attribute " + attr, {}, {}, {}};
}

// The exact sum: a number within int64, decimal digits in a string beyond.
void write_sum(JsonWriter& w, query::Int128 sum) {
  if (sum >= INT64_MIN && sum <= INT64_MAX) {
    w.signed_number(static_cast<int64_t>(sum));
    return;
  }
  __extension__ using Uint128 = unsigned __int128;
  Uint128 magnitude = sum < 0 ? Uint128(0) - static_cast<Uint128>(sum) : static_cast<Uint128>(sum);
  char digits[48];
  char* p = digits + sizeof digits;
  for (; magnitude != 0; magnitude /= 10) *--p = static_cast<char>('0' + static_cast<int>(magnitude % 10));
  if (sum < 0) *--p = '-';
  w.raw("\"").raw(std::string_view(p, static_cast<std::size_t>(digits + sizeof digits - p))).raw("\"");
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

  std::string body;
  body.reserve(256 + r.attr.size());
  JsonWriter w(body);
  w.raw("{").key("attr").string(r.attr);
  // Privacy guard: with fewer than --min-export-size values, the count is
  // "<K" and every statistic null (a min or max of a few is someone's value).
  const uint64_t k = options_.min_export_size;
  const bool any = stats->count != 0 && !hidden(stats->count, k);
  w.raw(",").key("count");
  write_cell(w, stats->count, k);
  w.raw(",").key("sum");
  // A sum of 0 would tell that a hidden count is 0: only a shown count has one.
  if (!hidden(stats->count, k)) {
    write_sum(w, stats->sum);
  } else {
    w.null();
  }
  const auto value = [&](std::string_view key, int64_t v) {
    w.raw(",").key(key);
    if (any) {
      w.signed_number(v);
    } else {
      w.null();
    }
  };
  value("min", stats->min);
  value("max", stats->max);
  w.raw(",").key("mean");
  if (any) {
    w.real(stats->mean);
  } else {
    w.null();
  }
  value("p50", stats->p50);
  value("p90", stats->p90);
  value("p99", stats->p99);
  w.raw(",").key("crowd");
  write_cell(w, crowd.cardinality(), k);
  w.raw(",").key("took_us").number(micros_since(start)).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
