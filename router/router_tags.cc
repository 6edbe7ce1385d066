// The router's GET /v1/tags: every shard's tags matching the prefix and the
// search, merged by name with their counts summed, then filtered, sorted
// and cut as a crowdd does (server/api_info.cc), and written by the same
// writer (server/tag_listing.h).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "router/router_context.h"
#include "server/json_writer.h"
#include "server/query_params.h"
#include "server/tag_listing.h"

namespace crowd::router {
namespace {

namespace http = boost::beast::http;
using server::Reply;

// The most tags a shard lists in one answer (GET /v1/tags's largest limit).
constexpr uint64_t kShardLimit = 100'000;

}  // namespace

std::variant<uint64_t, Reply> Router::universe(Context& c) {
  const auto health = fanout_.gather(
      *c.layout, shard_list(c.shards()), [](uint32_t) { return ShardRequest{"GET", "/healthz", {}}; }, c.deadline);
  ShardDocs docs;
  uint64_t users = 0;
  for (uint32_t k = 0; k < health.size(); ++k) {
    if (health[k].status != 200) return no_replica_answered(k, health[k]);
    const auto root = docs.parse(health[k].body);
    if (!root) return server::error_reply(server::unavailable("a shard's health is not JSON"));
    users += member_uint(*root, "users");
  }
  return users;
}

std::variant<Router::TagTable, Reply> Router::all_tags(Context& c, std::string_view prefix, std::string_view search) {
  const auto encode = [](std::string_view v) { return boost::urls::encode(v, boost::urls::unreserved_chars); };
  std::string target = "/v1/tags?limit=" + std::to_string(kShardLimit);
  target.append("&prefix=").append(encode(prefix));
  if (!search.empty()) target.append("&search=").append(encode(search));
  const auto shards = shard_list(c.shards());
  const auto answers = fanout_.gather(
      *c.layout, shards, [&](uint32_t) { return ShardRequest{"GET", target, {}}; }, c.deadline);
  TagTable table;
  ShardDocs docs;
  for (uint32_t k = 0; k < shards.size(); ++k) {
    auto listed = answer_array(docs, k, answers[k], "tags");
    if (auto* reply = std::get_if<Reply>(&listed)) return std::move(*reply);
    for (const auto t : std::get<simdjson::dom::array>(listed)) {
      MergedTag& m = table.tags[std::string(member_string(t, "tag"))];
      m.count += member_uint(t, "count");
      m.dated = m.dated || member_string(t, "kind") == "dated";
      if (m.label.empty()) m.label = std::string(member_string(t, "label"));
    }
  }
  auto users = universe(c);
  if (auto* reply = std::get_if<Reply>(&users)) return std::move(*reply);
  table.universe = std::get<uint64_t>(users);
  return table;
}

Reply Router::tags(Context& c) {
  // The client's parameters, refused as a crowdd refuses them.
  const auto prefix = server::url_param(c.url, "prefix").value_or("");
  const auto limit = server::url_uint(c.url, "limit", 1000, 1, kShardLimit);
  if (const auto* e = std::get_if<server::ApiError>(&limit)) return server::error_reply(*e);
  const auto offset = server::url_uint(c.url, "offset", 0, 0, UINT64_MAX);
  if (const auto* e = std::get_if<server::ApiError>(&offset)) return server::error_reply(*e);
  const auto empty = server::url_bool(c.url, "empty", false);
  if (const auto* e = std::get_if<server::ApiError>(&empty)) return server::error_reply(*e);
  const auto search = server::url_param(c.url, "search").value_or("");
  const auto sort = server::url_param(c.url, "sort").value_or("name");
  if (sort != "name" && sort != "coverage") {
    return server::error_reply(server::bad_request("sort must be name or coverage"));
  }
  // Every shard's whole list in name order: a tag empty on one shard may be
  // held on another, and coverage sorts by the sums.
  auto table = all_tags(c, prefix, search);
  if (auto* reply = std::get_if<Reply>(&table)) return std::move(*reply);
  auto& [merged, universe] = std::get<TagTable>(table);
  std::vector<server::TagRow> matching;
  for (auto& [name, m] : merged) {
    if (std::get<bool>(empty) && m.count != 0) continue;
    matching.push_back({name, m.count, m.dated, std::move(m.label)});
  }
  if (sort == "coverage") {
    std::stable_sort(matching.begin(), matching.end(),
                     [](const server::TagRow& a, const server::TagRow& b) { return a.count > b.count; });
  }
  const auto first = std::min<uint64_t>(std::get<uint64_t>(offset), matching.size());
  const auto last = std::min<uint64_t>(first + std::get<uint64_t>(limit), matching.size());
  const std::span<const server::TagRow> page(matching.data() + first, last - first);
  return server::json_reply(http::status::ok, server::tags_body(page, universe, matching.size()));
}

}  // namespace crowd::router
