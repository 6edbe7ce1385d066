// The router's analytics over several crowds: overlap, flow, funnel and
// insight. Users are split over the shards, so every count these answer
// with is the sum of the shards' counts; the answer is then written by the
// crowdd's own writer (server/analytics_replies.h), floors included.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "query/date.h"
#include "router/router_context.h"
#include "server/analytics_replies.h"
#include "server/insight_request.h"
#include "server/json_writer.h"

namespace crowd::router {
namespace {

namespace http = boost::beast::http;
using server::Reply;

// Adds a shard answer's counts of `key` in each element of array `list`
// (or of the array itself when key is empty) to `sums`.
void add_counts(simdjson::dom::element root, std::string_view list, std::string_view key,
                std::vector<uint64_t>& sums) {
  simdjson::dom::array items;
  if (root.at_key(list).get(items)) return;
  std::size_t i = 0;
  for (const auto item : items) {
    if (sums.size() <= i) sums.resize(i + 1, 0);
    uint64_t v = 0;
    if (key.empty() ? !item.get(v) : !item.at_key(key).get(v)) sums[i] += v;
    ++i;
  }
}

std::vector<std::string> names_of(simdjson::dom::element root, std::string_view list) {
  std::vector<std::string> names;
  simdjson::dom::array items;
  if (root.at_key(list).get(items)) return names;
  for (const auto item : items) names.emplace_back(member_string(item, "name"));
  return names;
}

}  // namespace

Reply Router::overlap(const server::Request& req, Context& c) {
  const int64_t today = options_.clock.today();
  auto fanned = query_all(c, false, [&](uint32_t, bool lenient) {
    return shard_request("/v1/overlap", req.body(), lenient, today);
  });
  if (auto* reply = std::get_if<Reply>(&fanned)) return std::move(*reply);
  const auto& answers = std::get<Fanned>(fanned).answers;
  ShardDocs docs;
  query::OverlapReport sum;
  std::vector<std::string> names;
  std::vector<std::string> warnings;
  uint64_t total = 0;
  bool regions = false;
  for (const auto& a : answers) {
    const auto root = docs.parse(a.body);
    if (!root) return server::error_reply(server::unavailable("a shard's answer is not JSON"));
    if (names.empty()) names = names_of(*root, "crowds");
    add_counts(*root, "crowds", "count", sum.sizes);
    add_counts(*root, "pairs", "intersection", sum.intersections);
    add_counts(*root, "regions", "count", sum.regions);
    simdjson::dom::array r;
    regions = regions || !root->at_key("regions").get(r);
    sum.union_size += member_uint(*root, "union");
    total += member_uint(*root, "total");
    merge_warnings(*root, warnings);
  }
  if (!regions) sum.regions.clear();
  const server::AnalyticsTail tail{total, &warnings, c.took_us(), options_.min_export_size};
  return server::json_reply(http::status::ok, server::overlap_body(names, sum, tail));
}

Reply Router::flow(const server::Request& req, Context& c) {
  const int64_t today = options_.clock.today();
  auto fanned = query_all(c, false, [&](uint32_t, bool lenient) {
    return shard_request("/v1/flow", req.body(), lenient, today);
  });
  if (auto* reply = std::get_if<Reply>(&fanned)) return std::move(*reply);
  const auto& answers = std::get<Fanned>(fanned).answers;
  ShardDocs docs;
  query::FlowReport sum;
  std::vector<std::string> from;
  std::vector<std::string> to;
  std::vector<std::string> warnings;
  uint64_t total = 0;
  for (const auto& a : answers) {
    const auto root = docs.parse(a.body);
    if (!root) return server::error_reply(server::unavailable("a shard's answer is not JSON"));
    if (from.empty()) {
      from = names_of(*root, "from");
      to = names_of(*root, "to");
      sum.cells.assign(from.size() * to.size(), 0);
    }
    add_counts(*root, "from", "count", sum.from_sizes);
    add_counts(*root, "from", "left", sum.left);
    add_counts(*root, "to", "count", sum.to_sizes);
    add_counts(*root, "to", "new", sum.entered);
    simdjson::dom::array rows;
    if (!root->at_key("matrix").get(rows)) {
      std::size_t i = 0;
      for (const auto row : rows) {
        std::size_t j = 0;
        simdjson::dom::array cells;
        if (!row.get(cells)) {
          for (const auto cell : cells) {
            uint64_t v = 0;
            if (!cell.get(v) && i < from.size() && j < to.size()) sum.cells[i * to.size() + j] += v;
            ++j;
          }
        }
        ++i;
      }
    }
    sum.from_any += member_uint(*root, "from_any");
    sum.to_any += member_uint(*root, "to_any");
    sum.stayed += member_uint(*root, "stayed");
    total += member_uint(*root, "total");
    merge_warnings(*root, warnings);
  }
  const server::AnalyticsTail tail{total, &warnings, c.took_us(), options_.min_export_size};
  return server::json_reply(http::status::ok, server::flow_body(from, to, sum, tail));
}

Reply Router::funnel(const server::Request& req, Context& c) {
  const int64_t today = options_.clock.today();
  auto fanned = query_all(c, false, [&](uint32_t, bool lenient) {
    return shard_request("/v1/funnel", req.body(), lenient, today);
  });
  if (auto* reply = std::get_if<Reply>(&fanned)) return std::move(*reply);
  ShardDocs docs;
  std::vector<uint64_t> counts;
  std::vector<std::string> warnings;
  uint64_t total = 0;
  for (const auto& a : std::get<Fanned>(fanned).answers) {
    const auto root = docs.parse(a.body);
    if (!root) return server::error_reply(server::unavailable("a shard's answer is not JSON"));
    add_counts(*root, "steps", "count", counts);
    total += member_uint(*root, "total");
    merge_warnings(*root, warnings);
  }
  const server::AnalyticsTail tail{total, &warnings, c.took_us(), options_.min_export_size};
  return server::json_reply(http::status::ok, server::funnel_body(counts, tail));
}

Reply Router::insight(const server::Request& req, Context& c) {
  // Read here too: top, min_count and sort are applied to the sums, so the
  // shards are asked for every row (a row cut on one shard may be kept on
  // the sum), and a bad one must still be refused as a crowdd refuses it.
  const auto parsed = server::read_insight_request(req.body());
  if (const auto* e = std::get_if<server::ApiError>(&parsed)) return server::error_reply(*e);
  query::InsightOptions options = std::get<server::InsightRequest>(parsed).options;
  options.min_count = std::max(options.min_count, options_.min_export_size);
  const int64_t today = options_.clock.today();
  auto fanned = query_all(c, false, [&](uint32_t, bool lenient) {
    return shard_request("/v1/insight", req.body(), lenient, today,
                         {{"min_count", "0"}, {"top", "9007199254740992"}});
  });
  if (auto* reply = std::get_if<Reply>(&fanned)) return std::move(*reply);
  ShardDocs docs;
  query::InsightReport report;
  // Per field, in the shards' order (each shard lists its fields in the
  // same order; a field only some shards have goes after the one before it).
  std::vector<std::string> fields;
  std::map<std::string, std::map<std::string, query::InsightRow>> rows;  // field -> tag name -> sums
  std::vector<std::string> warnings;
  for (const auto& a : std::get<Fanned>(fanned).answers) {
    const auto root = docs.parse(a.body);
    if (!root) return server::error_reply(server::unavailable("a shard's answer is not JSON"));
    report.crowd += member_uint(*root, "crowd");
    report.total += member_uint(*root, "total");
    merge_warnings(*root, warnings);
    simdjson::dom::array list;
    if (root->at_key("fields").get(list)) continue;
    std::size_t after = 0;  // where this shard's next new field goes
    for (const auto f : list) {
      const std::string field(member_string(f, "field"));
      const auto at = std::find(fields.begin(), fields.end(), field);
      if (at == fields.end()) {
        fields.insert(fields.begin() + static_cast<std::ptrdiff_t>(after), field);
        ++after;
      } else {
        after = static_cast<std::size_t>(at - fields.begin()) + 1;
      }
      auto& tags = rows[field];
      simdjson::dom::array list_of_tags;
      if (f.at_key("tags").get(list_of_tags)) continue;
      for (const auto t : list_of_tags) {
        query::InsightRow& row = tags[std::string(member_string(t, "tag"))];
        row.count += member_uint(t, "count");
        row.population += member_uint(t, "population");
      }
    }
  }
  // Rows in byte order of their names (std::map's), numbered in that order.
  std::vector<std::string> names;
  for (const auto& field : fields) {
    query::InsightField out{field, rows[field].size(), {}};
    for (auto& [name, row] : rows[field]) {
      row.tag = static_cast<TagId>(names.size());
      names.push_back(name);
      if (row.count >= options.min_count) out.rows.push_back(row);
    }
    query::rank_insight_rows(out.rows, options);
    report.fields.push_back(std::move(out));
  }
  const server::AnalyticsTail tail{report.total, &warnings, c.took_us(), options_.min_export_size};
  return server::json_reply(http::status::ok,
                            server::insight_body(report, [&](TagId t) -> std::string_view { return names[t]; }, tail));
}

}  // namespace crowd::router
