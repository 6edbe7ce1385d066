// Query routes: /v1/count and /v1/ids.
#include <variant>
#include <vector>

#include "identity/id_codec.h"
#include "identity/id_types.h"
#include "query/date.h"
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
#include "server/query_request.h"
#include "server/request_json.h"

namespace crowd::server {
namespace {

// Privacy guard: no ID list of a crowd smaller than --min-export-size, in
// any format (a page of a small crowd is all of it). `exported` counts the
// users whose IDs would be written (a crowd exported as OAIDs loses those
// without one).
std::optional<ApiError> export_guard(uint64_t exported, uint64_t min_export_size) {
  if (exported >= min_export_size) return std::nullopt;
  return crowd_too_small("this crowd has fewer than " + std::to_string(min_export_size) +
                         " users to export; ID exports need at least that many (--min-export-size)");
}

// The ID type an export asks for: null for uid (the default), or the 400.
std::variant<const identity::DefinedIdType*, ApiError> export_type(const identity::IdTypes& types,
                                                                  std::string_view name) {
  if (name.empty() || name == identity::kBuiltInUid) return static_cast<const identity::DefinedIdType*>(nullptr);
  const auto* type = types.find(name);
  if (type == nullptr || type->space == nullptr) {
    return bad_request("unknown id_type '" + std::string(name) + "' (GET /v1/id-types lists them)");
  }
  return type;
}

Reply count_reply(std::string_view q, const query::Options& options, bool estimate,
                  std::chrono::steady_clock::time_point start, Store& store) {
  const auto view = store.view();
  auto compiled = query::compile(q, *view, options);
  if (auto* e = std::get_if<query::Error>(&compiled)) return error_reply(query_error(*e));
  const auto& plan = std::get<query::Plan>(compiled);
  std::optional<query::Estimate> estimated;
  if (estimate) estimated = thread_evaluator().estimate(plan, *view);
  const uint64_t n = estimated ? estimated->count : thread_evaluator().count(plan, *view);
  std::string body;
  body.reserve(96);
  JsonWriter w(body);
  w.raw("{").key("count").number(n).raw(",").key("total").number(view->universe().cardinality);
  if (estimated) write_estimate(w, *estimated);
  // The day relative windows counted back from, when the query had one.
  if (plan.as_of()) w.raw(",").key("as_of").string(query::format_day(*plan.as_of()));
  write_warnings(w, plan.warnings());
  w.raw(",").key("took_us").number(micros_since(start)).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace

Reply Api::count_get(const boost::urls::url_view& url, Clock::time_point start) {
  const auto parsed = read_query_url(url, false);
  if (const auto* e = std::get_if<ApiError>(&parsed)) return error_reply(*e);
  const auto& r = std::get<QueryRequest>(parsed);
  return count_reply(r.q, query_options(r.lenient, r.as_of), r.estimate, start, store_);
}

Reply Api::count_post(const Request& req, Clock::time_point start) {
  const auto parsed = read_query_request(req.body(), false);
  if (const auto* e = std::get_if<ApiError>(&parsed)) return error_reply(*e);
  const auto& r = std::get<QueryRequest>(parsed);
  return count_reply(r.q, query_options(r.lenient, r.as_of), r.estimate, start, store_);
}

Reply Api::ids_get(const boost::urls::url_view& url, Call& call, Clock::time_point start) {
  // The audit line says what was asked for, also when the rest is refused.
  call.query = url_param(url, "q").value_or("");
  const auto parsed = read_query_url(url, true);
  if (const auto* e = std::get_if<ApiError>(&parsed)) return error_reply(*e);
  const auto& r = std::get<QueryRequest>(parsed);
  if (r.format != "json") return ids_export(r.q, r.lenient, r.as_of, r.format, r.id_type, call);
  return ids_page(r.q, r.lenient, r.as_of, r.limit, r.cursor, r.id_type, call, start);
}

Reply Api::ids_post(const Request& req, Call& call, Clock::time_point start) {
  const auto parsed = read_query_request(req.body(), true);
  if (const auto* e = std::get_if<ApiError>(&parsed)) return error_reply(*e);
  const auto& r = std::get<QueryRequest>(parsed);
  call.query = r.q;
  return ids_page(r.q, r.lenient, r.as_of, r.limit, r.cursor, r.id_type, call, start);
}

Reply Api::ids_page(std::string_view q, bool lenient, std::optional<int64_t> as_of, uint64_t limit,
                    std::string_view cursor_text, std::string_view id_type, Call& call, Clock::time_point start) {
  const auto view = store_.view();
  const identity::IdTypes types(*view);
  const auto typed = export_type(types, id_type);
  if (const auto* e = std::get_if<ApiError>(&typed)) return error_reply(*e);
  const identity::DefinedIdType* type = std::get<const identity::DefinedIdType*>(typed);
  auto compiled = query::compile(q, *view, query_options(lenient, as_of));
  if (auto* e = std::get_if<query::Error>(&compiled)) return error_reply(query_error(*e));
  const auto& plan = std::get<query::Plan>(compiled);
  // The cursor is sealed to the query, the caller, the ID type and the day
  // relative windows counted back from: a walk that crosses midnight without
  // an "as_of" is refused rather than shifted by a day.
  std::string scoped_q(q);
  if (type != nullptr) scoped_q.append("\x1f").append(type->type.name);
  if (plan.as_of()) scoped_q.append("\x1f@").append(query::format_day(*plan.as_of()));
  const CursorScope scope{scoped_q, lenient,
                          call.principal != nullptr ? std::string_view(call.principal->name) : ""};
  Ordinal from = 0;
  if (!cursor_text.empty()) {
    const auto next = cursors_.open(cursor_text, scope);
    if (!next) {
      return error_reply({http::status::bad_request, "bad_cursor",
                          "cursor is not one this server issued for this query, caller and as_of day (cursors "
                          "do not survive a restart: start again without one; a walk over relative windows "
                          "passes the same \"as_of\" on every page)",
                          {}, {}, {}});
    }
    from = *next;
  }
  auto& evaluator = thread_evaluator();
  if (type != nullptr || !view->uidless().bits.empty()) {
    return typed_ids_page(*view, plan, q, lenient, limit, from, scope, type, call, start);
  }
  // The size by a count pass and the page by a pass that stops where it
  // fills: neither materialises the crowd (a first page of a 1M-user crowd
  // at 10M users costs two chunks, not 150).
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
  w.raw("]");
  return page_reply(std::move(body), count, count, more ? std::optional<Ordinal>(ordinals[n]) : std::nullopt, scope,
                    n, call, start);
}

Reply Api::page_reply(std::string body, uint64_t count, uint64_t exported, std::optional<Ordinal> next,
                      const CursorScope& scope, uint64_t ids, Call& call, Clock::time_point start) {
  JsonWriter w(body);
  w.raw(",").key("count").number(count).raw(",").key("exported").number(exported).raw(",").key("cursor");
  if (next) {
    w.string(cursors_.issue(*next, scope));
  } else {
    w.null();
  }
  w.raw(",").key("took_us").number(micros_since(start)).raw("}");
  call.ids = ids;
  return json_reply(http::status::ok, std::move(body));
}

// A page of a crowd's IDs of `type` (null: uid) when some users may have
// none: the crowd is materialised to learn how many can be exported, and
// the page is read from those users.
Reply Api::typed_ids_page(const IndexView& view, const query::Plan& plan, std::string_view q, bool lenient,
                          uint64_t limit, Ordinal from, const CursorScope& scope, const identity::DefinedIdType* type,
                          Call& call, Clock::time_point start) {
  const Bitmap crowd = thread_evaluator().materialize(plan, view);
  const Bitmap users = exportable(view, crowd, type);
  const uint64_t exported = users.cardinality();
  if (auto e = export_guard(exported, options_.min_export_size)) return error_reply(*e);
  if (exports_ != nullptr && (from == 0 || !exports_->knows(caller(call), q, lenient))) {
    if (auto e = differencing_guard(call, q, lenient, users.get())) return error_reply(*e);
  }
  thread_local std::vector<Ordinal> ordinals;
  ordinals.resize(static_cast<std::size_t>(limit) + 1);
  roaring_uint32_iterator_t it;
  roaring_init_iterator(users.get(), &it);
  roaring_move_uint32_iterator_equalorlarger(&it, from);
  auto n = roaring_read_uint32_iterator(&it, ordinals.data(), static_cast<uint32_t>(limit) + 1);
  const bool more = n > limit;
  if (more) n = static_cast<uint32_t>(limit);

  std::string body;
  JsonWriter w(body);
  w.raw("{\"ids\":[");
  std::string text;
  bool first = true;
  for (uint32_t i = 0; i < n; ++i) {
    if (type == nullptr) {
      w.raw(first ? "" : ",").user_id(view.external(ordinals[i]));
      first = false;
      continue;
    }
    type->space->for_each_key(ordinals[i], [&](std::string_view key) {
      text.clear();
      identity::append_id_text(type->type, key, text);
      w.raw(first ? "" : ",").string(text);
      first = false;
    });
  }
  w.raw("]");
  return page_reply(std::move(body), crowd.cardinality(), exported,
                    more ? std::optional<Ordinal>(ordinals[n]) : std::nullopt, scope, n, call, start);
}

Reply Api::ids_export(std::string_view q, bool lenient, std::optional<int64_t> as_of, std::string_view format,
                      std::string_view id_type, Call& call) {
  auto view = store_.view();
  const identity::IdTypes types(*view);
  const auto typed = export_type(types, id_type);
  if (const auto* e = std::get_if<ApiError>(&typed)) return error_reply(*e);
  const identity::DefinedIdType* type = std::get<const identity::DefinedIdType*>(typed);
  if (format == "roaring" && type != nullptr && type->type.kind != identity::IdKind::kU64) {
    return error_reply(bad_request("format=roaring holds u64 IDs only; export " + type->type.name + " as csv"));
  }
  auto compiled = query::compile(q, *view, query_options(lenient, as_of));
  if (auto* e = std::get_if<query::Error>(&compiled)) return error_reply(query_error(*e));
  const Bitmap crowd = thread_evaluator().materialize(std::get<query::Plan>(compiled), *view);
  Bitmap users = exportable(*view, crowd, type);
  if (auto e = export_guard(users.cardinality(), options_.min_export_size)) return error_reply(*e);
  if (auto e = differencing_guard(call, q, lenient, users.get())) return error_reply(*e);
  call.ids = users.cardinality();
  Reply r;
  r.message.result(http::status::ok);
  // The crowd's size, and how many of its users are written (those with an
  // ID of the type); a user with two IDs of a type has two lines.
  r.message.set("X-Crowd-Count", std::to_string(crowd.cardinality()));
  r.message.set("X-Crowd-Exported", std::to_string(users.cardinality()));
  if (format == "csv") {
    r.message.set(http::field::content_type, "text/csv");
    r.stream = type != nullptr ? csv_typed_id_source(view, *type, std::move(users))
                               : csv_id_source(std::move(view), std::move(users));
  } else {
    r.message.set(http::field::content_type, "application/octet-stream");
    r.message.body() = type != nullptr ? roaring_typed_id_bytes(*type, users) : roaring_id_bytes(*view, users);
  }
  return r;
}

}  // namespace crowd::server
