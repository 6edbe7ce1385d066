// Query routes: /v1/count and /v1/ids.
#include <variant>
#include <vector>

#include "query/query.h"
#include "server/api.h"
#include "server/export_history.h"
#include "server/id_export.h"
#include "server/json_fields.h"
#include "server/json_writer.h"
#include "server/access.h"
#include "server/page_cursor.h"
#include "server/query_support.h"
#include "server/query_params.h"
#include "server/request_json.h"

namespace crowd::server {
namespace {

// The fields of a JSON query request: {"q", "lenient"?, "limit"?, "cursor"?}.
struct QueryRequest {
  std::string q;
  bool lenient = false;
  uint64_t limit = 1000;
  std::string cursor;
};

std::variant<QueryRequest, ApiError> read_query_request(std::string_view body, bool paged) {
  QueryRequest out;
  const JsonField fields[] = {
      {"q", kRequired, string_into(out.q)},
      {"lenient", kOptional, bool_into(out.lenient)},
      {"limit", kOptional, uint_into(out.limit, 1, 1'000'000)},
      {"cursor", kOptional, nullable_string_into(out.cursor)},
  };
  // A count takes no page: its fields are the first two.
  if (auto e = read_body_fields(body, std::span(fields).first(paged ? 4 : 2))) return *e;
  return out;
}

// Privacy guard: no ID list of a crowd smaller than --min-export-size, in
// any format (a page of a small crowd is all of it).
std::optional<ApiError> export_guard(uint64_t crowd_size, uint64_t min_export_size) {
  if (crowd_size >= min_export_size) return std::nullopt;
  return crowd_too_small("this crowd has fewer than " + std::to_string(min_export_size) +
                         " users; ID exports need at least that many (--min-export-size)");
}

Reply count_reply(std::string_view q, const query::Options& options, std::chrono::steady_clock::time_point start,
                  Store& store) {
  const auto view = store.view();
  auto compiled = query::compile(q, *view, options);
  if (auto* e = std::get_if<query::Error>(&compiled)) return error_reply(query_error(*e));
  const uint64_t n = thread_evaluator().count(std::get<query::Plan>(compiled), *view);
  std::string body;
  body.reserve(96);
  JsonWriter w(body);
  w.raw("{").key("count").number(n).raw(",").key("total").number(view->universe().cardinality);
  w.raw(",").key("took_us").number(micros_since(start)).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace

Reply Api::count_get(const boost::urls::url_view& url, Clock::time_point start) {
  const auto q = url_param(url, "q");
  if (!q) return error_reply(bad_request("missing query parameter q"));
  const auto lenient = url_bool(url, "lenient", false);
  if (const auto* e = std::get_if<ApiError>(&lenient)) return error_reply(*e);
  return count_reply(*q, query_options(std::get<bool>(lenient)), start, store_);
}

Reply Api::count_post(const Request& req, Clock::time_point start) {
  const auto parsed = read_query_request(req.body(), false);
  if (const auto* e = std::get_if<ApiError>(&parsed)) return error_reply(*e);
  const auto& r = std::get<QueryRequest>(parsed);
  return count_reply(r.q, query_options(r.lenient), start, store_);
}

Reply Api::ids_get(const boost::urls::url_view& url, Call& call, Clock::time_point start) {
  const auto q = url_param(url, "q");
  if (!q) return error_reply(bad_request("missing query parameter q"));
  call.query = *q;
  const auto lenient = url_bool(url, "lenient", false);
  if (const auto* e = std::get_if<ApiError>(&lenient)) return error_reply(*e);
  const auto format = url_param(url, "format").value_or("json");
  if (format == "csv" || format == "roaring") return ids_export(*q, std::get<bool>(lenient), format, call);
  if (format != "json") return error_reply(bad_request("format must be json, csv or roaring"));
  const auto limit = url_uint(url, "limit", 1000, 1, 1'000'000);
  if (const auto* e = std::get_if<ApiError>(&limit)) return error_reply(*e);
  return ids_page(*q, std::get<bool>(lenient), std::get<uint64_t>(limit), url_param(url, "cursor").value_or(""),
                  call, start);
}

Reply Api::ids_post(const Request& req, Call& call, Clock::time_point start) {
  const auto parsed = read_query_request(req.body(), true);
  if (const auto* e = std::get_if<ApiError>(&parsed)) return error_reply(*e);
  const auto& r = std::get<QueryRequest>(parsed);
  call.query = r.q;
  return ids_page(r.q, r.lenient, r.limit, r.cursor, call, start);
}

Reply Api::ids_page(std::string_view q, bool lenient, uint64_t limit, std::string_view cursor_text, Call& call,
                    Clock::time_point start) {
  const CursorScope scope{q, lenient, call.principal != nullptr ? std::string_view(call.principal->name) : ""};
  Ordinal from = 0;
  if (!cursor_text.empty()) {
    const auto next = cursors_.open(cursor_text, scope);
    if (!next) {
      return error_reply({http::status::bad_request, "bad_cursor",
                          "cursor is not one this server issued for this query and caller (cursors do not "
                          "survive a restart: start again without one)",
                          {}, {}, {}});
    }
    from = *next;
  }
  const auto view = store_.view();
  auto compiled = query::compile(q, *view, query_options(lenient));
  if (auto* e = std::get_if<query::Error>(&compiled)) return error_reply(query_error(*e));
  const auto& plan = std::get<query::Plan>(compiled);
  // The size by a count pass and the page by a pass that stops where it
  // fills: neither materialises the crowd (a first page of a 1M-user crowd
  // at 10M users costs two chunks, not 150).
  auto& evaluator = thread_evaluator();
  const uint64_t count = evaluator.count(plan, *view);
  if (auto e = export_guard(count, options_.min_export_size)) return error_reply(*e);
  // The differencing guard looks at the whole crowd, once per paged export:
  // on its first page, or on a page whose first page it has not seen (a
  // cursor from elsewhere). Only then is the crowd materialised.
  if (exports_ != nullptr && (cursor_text.empty() || !exports_->knows(caller(call), q, lenient))) {
    const Bitmap crowd = evaluator.materialize(plan, *view);
    if (auto e = differencing_guard(call, q, lenient, crowd.get())) return error_reply(*e);
  }
  // One more than asked for, to learn whether another page follows.
  thread_local std::vector<Ordinal> ordinals;
  evaluator.collect(plan, *view, from, static_cast<std::size_t>(limit) + 1, ordinals);
  auto n = static_cast<uint32_t>(ordinals.size());
  const bool more = n > limit;
  if (more) n = static_cast<uint32_t>(limit);

  std::string body;
  body.reserve(64 + static_cast<std::size_t>(n) * 12);
  JsonWriter w(body);
  w.raw("{\"ids\":[");
  for (uint32_t i = 0; i < n; ++i) {
    if (i) w.raw(",");
    w.user_id(view->external(ordinals[i]));
  }
  w.raw("],").key("count").number(count).raw(",").key("cursor");
  if (more) {
    w.string(cursors_.issue(ordinals[n], scope));
  } else {
    w.null();
  }
  w.raw(",").key("took_us").number(micros_since(start)).raw("}");
  call.ids = n;
  return json_reply(http::status::ok, std::move(body));
}

Reply Api::ids_export(std::string_view q, bool lenient, std::string_view format, Call& call) {
  auto view = store_.view();
  auto compiled = query::compile(q, *view, query_options(lenient));
  if (auto* e = std::get_if<query::Error>(&compiled)) return error_reply(query_error(*e));
  Bitmap crowd = thread_evaluator().materialize(std::get<query::Plan>(compiled), *view);
  if (auto e = export_guard(crowd.cardinality(), options_.min_export_size)) return error_reply(*e);
  if (auto e = differencing_guard(call, q, lenient, crowd.get())) return error_reply(*e);
  call.ids = crowd.cardinality();
  Reply r;
  r.message.result(http::status::ok);
  r.message.set("X-Crowd-Count", std::to_string(crowd.cardinality()));
  if (format == "csv") {
    r.message.set(http::field::content_type, "text/csv");
    r.stream = csv_id_source(std::move(view), std::move(crowd));
  } else {
    r.message.set(http::field::content_type, "application/octet-stream");
    r.message.body() = roaring_id_bytes(*view, crowd);
  }
  return r;
}

}  // namespace crowd::server
