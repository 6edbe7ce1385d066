// The router's GET /v1/fields. A field's users are the union of its tags'
// holders, and users are split over the shards, so they add up; its tags
// and dated tags are counted on the merged tag names (a tag may be on some
// shards only); what the tag library says of it (kind, label, description,
// parent) is the same on every shard and is passed on as the first shard
// that lists the field wrote it. Fields come in the shards' order.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "router/router_context.h"
#include "server/json_writer.h"

namespace crowd::router {
namespace {

namespace http = boost::beast::http;
using server::Reply;

struct Field {
  uint64_t users = 0;
  bool numeric = false;
  std::string meta;  // ,"kind":...,"label":... as the first shard wrote them
};

// A tag's field: its name up to the first ':' (a tag without one is its own).
std::string_view field_of(std::string_view tag) { return tag.substr(0, tag.find(':')); }

}  // namespace

Reply Router::fields(Context& c) {
  const auto answers = fanout_.gather(
      *c.layout, shard_list(c.shards()), [](uint32_t) { return ShardRequest{"GET", "/v1/fields", {}}; },
      c.deadline);
  auto table = all_tags(c, "", "");
  if (auto* reply = std::get_if<Reply>(&table)) return std::move(*reply);
  const TagTable& tags = std::get<TagTable>(table);
  std::vector<std::string> order;
  std::map<std::string, Field> merged;
  ShardDocs docs;
  for (uint32_t k = 0; k < answers.size(); ++k) {
    auto listed = answer_array(docs, k, answers[k], "fields");
    if (auto* reply = std::get_if<Reply>(&listed)) return std::move(*reply);
    const auto list = std::get<simdjson::dom::array>(listed);
    std::size_t after = 0;  // where this shard's next new field goes
    for (const auto f : list) {
      const std::string name(member_string(f, "field"));
      const auto at = std::find(order.begin(), order.end(), name);
      const bool fresh = at == order.end();
      if (fresh) {
        order.insert(order.begin() + static_cast<std::ptrdiff_t>(after), name);
        ++after;
      } else {
        after = static_cast<std::size_t>(at - order.begin()) + 1;
      }
      Field& field = merged[name];
      field.users += member_uint(f, "users");
      if (!fresh) continue;
      field.numeric = member_string(f, "kind") == "numeric";
      for (const std::string_view key : kFieldMetaMembers) {
        simdjson::dom::element v;
        if (f.at_key(key).get(v)) continue;
        server::JsonWriter(field.meta).raw(",").key(key).raw(simdjson::minify(v));
      }
    }
  }
  // Tags and dated tags per field, on the merged names.
  std::map<std::string_view, std::pair<uint64_t, uint64_t>> counts;  // field -> (tags, dated)
  for (const auto& [name, t] : tags.tags) {
    auto& [n, dated] = counts[field_of(name)];
    ++n;
    dated += t.dated ? 1 : 0;
  }
  std::string body;
  server::JsonWriter w(body);
  w.raw("{\"fields\":[");
  for (std::size_t i = 0; i < order.size(); ++i) {
    const Field& f = merged[order[i]];
    const auto found = counts.find(order[i]);
    const uint64_t n = f.numeric || found == counts.end() ? 0 : found->second.first;
    const uint64_t dated = f.numeric || found == counts.end() ? 0 : found->second.second;
    w.raw(i > 0 ? "," : "").raw("{").key("field").string(order[i]).raw(",").key("tags").number(n);
    w.raw(",").key("users").number(f.users).raw(",").key("coverage");
    w.real(tags.universe == 0 ? 0.0 : static_cast<double>(f.users) / static_cast<double>(tags.universe));
    w.raw(f.meta);
    if (dated > 0) w.raw(",").key("dated_tags").number(dated);
    w.raw("}");
  }
  w.raw("]}");
  return server::json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::router
