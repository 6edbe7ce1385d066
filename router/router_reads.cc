// The router's reads over one query: /healthz, /v1/count, /v1/ids pages.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "query/date.h"
#include "query/estimate.h"
#include "router/applied_positions.h"
#include "router/router_context.h"
#include "server/metrics.h"
#include "server/access.h"
#include "server/analytics_request.h"
#include "server/json_writer.h"
#include "server/query_params.h"
#include "server/query_request.h"
#include "server/query_support.h"

namespace crowd::router {
namespace {

namespace http = boost::beast::http;
using server::JsonWriter;
using server::Reply;

// A shard's count or page request: the client's, with the day relative
// windows end on always given (the router's today unless the client chose),
// so every shard counts back from the same day.
std::string query_body(const server::QueryRequest& r, int64_t as_of, bool lenient, bool paged, uint64_t limit = 0,
                       std::string_view cursor = {}) {
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("q").string(r.q).raw(",").key("lenient").boolean(lenient);
  w.raw(",").key("as_of").string(query::format_day(as_of));
  if (paged) {
    w.raw(",").key("limit").number(limit).raw(",").key("cursor");
    if (cursor.empty()) {
      w.null();
    } else {
      w.string(cursor);
    }
  } else if (r.estimate) {
    w.raw(",").key("estimate").boolean(true);
  }
  w.raw("}");
  return body;
}

std::variant<server::QueryRequest, server::ApiError> read_request(const server::Request& req,
                                                                  const boost::urls::url_view& url, bool paged) {
  return req.method() == http::verb::get ? server::read_query_url(url, paged)
                                         : server::read_query_request(req.body(), paged);
}

// A shard's "estimate", with its count (the answer's "count").
query::Estimate estimate_of(simdjson::dom::element root, simdjson::dom::element e) {
  query::Estimate out;
  out.count = member_uint(root, "count");
  if (e.at_key("exact").get(out.exact)) out.exact = false;
  out.low = member_uint(e, "low");
  out.high = member_uint(e, "high");
  out.sampled_users = member_uint(e, "sampled_users");
  out.sampled_chunks = member_uint(e, "sampled_chunks");
  if (e.at_key("variance").get(out.variance)) out.variance = 0;
  return out;
}

// A router cursor: "<map version>.<shard cursor or ->.<seal>", the seal a
// PageCursors cursor for the shard's number, bound to the query, lenient,
// the day, the caller, the map version and the shard's cursor -- so none of
// it can be changed.
struct RouterCursor {
  uint64_t version = 0;
  uint32_t shard = 0;
  std::string shard_cursor;  // empty: the shard's first page
};

std::string scoped_query(const server::QueryRequest& r, int64_t as_of, uint64_t version,
                         std::string_view shard_cursor) {
  std::string s = r.q;
  s.append("\x1f@").append(query::format_day(as_of)).append("\x1f#").append(std::to_string(version));
  s.append(".").append(shard_cursor);
  return s;
}

}  // namespace

Reply Router::metrics(Context& c) {
  server::Reply r;
  r.message.result(http::status::ok);
  r.message.set(http::field::content_type, "text/plain; version=0.0.4");
  std::string& b = r.message.body();
  b = options_.metrics != nullptr ? options_.metrics->render(nullptr, 0) : std::string();
  // What the router knows of the cluster without asking it: the map it
  // routes by, each shard's registered replicas and the furthest sequence
  // a replica announced (a write waits for it).
  b += "# HELP crowd_router_map_version The shard map's version this router routes by.\n"
       "# TYPE crowd_router_map_version gauge\n";
  b += "crowd_router_map_version " + std::to_string(c.layout->map.version()) + "\n";
  b += "# HELP crowd_router_shard_replicas Replicas registered for each shard.\n"
       "# TYPE crowd_router_shard_replicas gauge\n";
  for (uint32_t k = 0; k < c.shards(); ++k) {
    b += "crowd_router_shard_replicas{shard=\"" + std::to_string(k) + "\"} " +
         std::to_string(c.layout->replicas[k].size()) + "\n";
  }
  b += "# HELP crowd_router_hedges_total Shard requests sent again to another replica after --hedge-after-ms.\n"
       "# TYPE crowd_router_hedges_total counter\n";
  b += "crowd_router_hedges_total " + std::to_string(fanout_.hedges()) + "\n";
  b += "# HELP crowd_router_failovers_total Shard requests sent again to another replica after a failure.\n"
       "# TYPE crowd_router_failovers_total counter\n";
  b += "crowd_router_failovers_total " + std::to_string(fanout_.failovers()) + "\n";
  b += "# HELP crowd_router_shard_applied The furthest stream sequence a replica of each shard announced.\n"
       "# TYPE crowd_router_shard_applied gauge\n";
  for (uint32_t k = 0; k < c.shards(); ++k) {
    b += "crowd_router_shard_applied{shard=\"" + std::to_string(k) + "\"} " + std::to_string(applied_.applied(k)) +
         "\n";
  }
  return r;
}

Reply Router::health(Context& c) {
  const auto answers = fanout_.gather(
      *c.layout, shard_list(c.shards()), [](uint32_t) { return ShardRequest{"GET", "/healthz", {}}; }, c.deadline);
  ShardDocs docs;
  uint64_t users = 0;
  uint64_t tags = 0;
  bool ok = true;
  std::string shards;
  JsonWriter s(shards);
  for (uint32_t k = 0; k < answers.size(); ++k) {
    const auto root = answers[k].status == 200 ? docs.parse(answers[k].body) : std::nullopt;
    ok = ok && root.has_value();
    if (root) {
      users += member_uint(*root, "users");
      tags = std::max(tags, member_uint(*root, "tags"));
    }
    s.raw(k > 0 ? "," : "").raw("{").key("shard").number(k);
    s.raw(",").key("replicas").number(c.layout->replicas[k].size());
    s.raw(",").key("applied").number(applied_.applied(k)).raw(",").key("answered").boolean(root.has_value());
    s.raw("}");
  }
  std::string body;
  JsonWriter w(body);
  // users: the shards' sum; tags: the most any shard has (a tag is on
  // every shard that has one of its users).
  w.raw("{").key("status").string(ok ? "ok" : "degraded").raw(",").key("users").number(users);
  w.raw(",").key("tags").number(tags).raw(",").key("role").string("router");
  w.raw(",").key("map_version").number(c.layout->map.version()).raw(",").key("shards").raw("[").raw(shards);
  w.raw("]}");
  return server::json_reply(ok ? http::status::ok : http::status::service_unavailable, std::move(body));
}

Reply Router::count(const server::Request& req, Context& c) {
  const auto parsed = read_request(req, c.url, false);
  if (const auto* e = std::get_if<server::ApiError>(&parsed)) return server::error_reply(*e);
  const auto& r = std::get<server::QueryRequest>(parsed);
  const int64_t as_of = r.as_of.value_or(options_.clock.today());
  auto fanned = query_all(c, r.lenient, [&](uint32_t, bool lenient) {
    return ShardRequest{"POST", "/v1/count", query_body(r, as_of, lenient, false)};
  });
  if (auto* reply = std::get_if<Reply>(&fanned)) return std::move(*reply);
  const auto& answers = std::get<Fanned>(fanned).answers;
  ShardDocs docs;
  uint64_t count = 0;
  uint64_t total = 0;
  std::string_view day;
  std::vector<std::string> warnings;
  std::vector<query::Estimate> estimates;
  for (const auto& a : answers) {
    const auto root = docs.parse(a.body);
    if (!root) return server::error_reply(server::unavailable("a shard's answer is not JSON"));
    count += member_uint(*root, "count");
    total += member_uint(*root, "total");
    if (day.empty()) day = member_string(*root, "as_of");
    merge_warnings(*root, warnings);
    simdjson::dom::element e;
    if (!root->at_key("estimate").get(e)) estimates.push_back(estimate_of(*root, e));
  }
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("count").number(count).raw(",").key("total").number(total);
  // The shards' samples are independent: counts and variances add.
  if (!estimates.empty()) server::write_estimate(w, query::sum_estimates(estimates, total));
  if (!day.empty()) w.raw(",").key("as_of").string(day);
  server::write_warnings(w, warnings);
  w.raw(",").key("took_us").number(c.took_us()).raw("}");
  return server::json_reply(http::status::ok, std::move(body));
}

Reply Router::ids(const server::Request& req, Context& c) {
  c.call.query = req.method() == http::verb::get ? server::url_param(c.url, "q").value_or("") : "";
  const auto parsed = read_request(req, c.url, true);
  if (const auto* e = std::get_if<server::ApiError>(&parsed)) return server::error_reply(*e);
  const auto& r = std::get<server::QueryRequest>(parsed);
  c.call.query = r.q;
  if (r.format != "json") {
    return server::error_reply({http::status::not_implemented, "not_implemented",
                                "format=" + r.format + " is not served by a cluster router yet: walk the pages "
                                "(POST /v1/ids with a cursor)", {}, {}, {}});
  }
  if (!r.id_type.empty() && r.id_type != "uid") {
    return server::error_reply({http::status::not_implemented, "not_implemented",
                                "exports in ID types other than uid are not served by a cluster router yet",
                                {}, {}, {}});
  }
  const int64_t as_of = r.as_of.value_or(options_.clock.today());
  const uint64_t version = c.layout->map.version();
  const std::string_view caller = c.call.principal != nullptr ? std::string_view(c.call.principal->name) : "";
  RouterCursor at;
  if (!r.cursor.empty()) {
    // "<version>.<shard cursor or ->.<seal>"
    const auto first = r.cursor.find('.');
    const auto second = first == std::string::npos ? first : r.cursor.find('.', first + 1);
    std::optional<Ordinal> shard;
    if (second != std::string::npos) {
      const std::string v = r.cursor.substr(0, first);
      at.version = std::strtoull(v.c_str(), nullptr, 10);
      at.shard_cursor = r.cursor.substr(first + 1, second - first - 1);
      if (at.shard_cursor == "-") at.shard_cursor.clear();
      const std::string scope_q = scoped_query(r, as_of, at.version, at.shard_cursor);
      shard = cursors_.open(std::string_view(r.cursor).substr(second + 1), {scope_q, r.lenient, caller});
    }
    if (!shard || *shard >= c.shards()) {
      return server::error_reply({http::status::bad_request, "bad_cursor",
                                  "cursor is not one this cluster's routers issued for this query, caller and "
                                  "as_of day (start again without one)",
                                  {}, {}, {}});
    }
    if (at.version != version) {
      return server::error_reply({http::status::bad_request, "bad_cursor",
                                  "the cluster's shard map changed during this walk (partitions moved): start "
                                  "again without a cursor",
                                  {}, {}, {}});
    }
    at.shard = *shard;
  }
  // Every shard's count first: the crowd's size, the export guard, and
  // which shards a walk can skip.
  auto fanned = query_all(c, r.lenient, [&](uint32_t, bool lenient) {
    return ShardRequest{"POST", "/v1/count", query_body(r, as_of, lenient, false)};
  });
  if (auto* reply = std::get_if<Reply>(&fanned)) return std::move(*reply);
  const bool lenient = std::get<Fanned>(fanned).lenient;
  std::vector<uint64_t> counts;
  uint64_t count = 0;
  {
    ShardDocs docs;
    for (const auto& a : std::get<Fanned>(fanned).answers) {
      const auto root = docs.parse(a.body);
      counts.push_back(root ? member_uint(*root, "count") : 0);
      count += counts.back();
    }
  }
  if (count < options_.min_export_size) {
    return server::error_reply(server::crowd_too_small(
        "this crowd has fewer than " + std::to_string(options_.min_export_size) +
        " users to export; ID exports need at least that many (--min-export-size)"));
  }
  // Shard by shard, each in its own ordinal order, until the page is full.
  std::string ids;
  uint64_t got = 0;
  uint32_t k = at.shard;
  std::string shard_cursor = at.shard_cursor;
  while (got < r.limit && k < c.shards()) {
    if (counts[k] == 0) {
      ++k;
      shard_cursor.clear();
      continue;
    }
    const auto answers = fanout_.gather(
        *c.layout, {k},
        [&](uint32_t) {
          return ShardRequest{"POST", "/v1/ids", query_body(r, as_of, lenient, true, r.limit - got, shard_cursor)};
        },
        c.deadline);
    if (answers[0].status == 0) return no_replica_answered(k, answers[0]);
    if (answers[0].status != 200) return relay(answers[0]);
    ShardDocs docs;
    const auto root = docs.parse(answers[0].body);
    simdjson::dom::array page;
    if (!root || root->at_key("ids").get(page)) {
      return server::error_reply(server::unavailable("a shard's page is not JSON"));
    }
    for (const auto id : page) {
      ids.append(got > 0 ? "," : "").append(simdjson::minify(id));
      ++got;
    }
    const std::string_view next = member_string(*root, "cursor");
    if (!next.empty()) {
      shard_cursor = std::string(next);
      break;  // the page is full within this shard
    }
    ++k;
    shard_cursor.clear();
  }
  // The next page: within shard k, or the next shard with members.
  while (shard_cursor.empty() && k < c.shards() && counts[k] == 0) ++k;
  std::string body = "{\"ids\":[";
  body.append(ids).append("]");
  JsonWriter w(body);
  w.raw(",").key("count").number(count).raw(",").key("exported").number(count).raw(",").key("cursor");
  if (k < c.shards() && got == r.limit) {
    const std::string sealed =
        cursors_.issue(k, {scoped_query(r, as_of, version, shard_cursor), r.lenient, caller});
    w.string(std::to_string(version) + "." + (shard_cursor.empty() ? "-" : shard_cursor) + "." + sealed);
  } else {
    w.null();
  }
  w.raw(",").key("took_us").number(c.took_us()).raw("}");
  c.call.ids = got;
  return server::json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::router
