// The router's tag library routes for one field (issue 17's
// GET|PUT|DELETE /v1/fields/{field}), answered as a crowdd answers them.
//
// GET merges every shard's answer: a value's holders are split over the
// shards, so counts add up and coverage is taken on the summed universe;
// values are ordered as a crowdd orders them (most users first, equal
// counts by name); what the library says -- the field's kind, label,
// description, parent, `described`, a value's label and parent -- is the
// same on every shard, since metadata is written to every shard, and is
// passed on as the first answering shard wrote it; a value is dated if it is
// dated on some shard.
//
// PUT and DELETE publish the same metadata write to every shard's stream
// (docs/cluster.md#metadata-writes). Turning a field exclusive is refused by
// each shard's index while its users hold two of the field's values
// (index/exclusive_fields.h), so it goes first, alone: if some shard
// refuses, the shards that took it are switched back and the answer is
// crowdd's 409 with the users summed; only when every shard took it is the
// metadata written. Either way the router answers after every live replica
// applied the write, so the GET it answers with sees it.
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "catalog/field_meta.h"
#include "index/exclusive_fields.h"
#include "router/router_context.h"
#include "server/json_writer.h"
#include "server/request_json.h"

namespace crowd::router {
namespace {

namespace http = boost::beast::http;
using server::Reply;

struct Value {
  uint64_t count = 0;
  bool dated = false;
  std::string label;   // as JSON text, or empty
  std::string parent;  // likewise
};

std::string field_target(std::string_view field) {
  return "/v1/fields/" + boost::urls::encode(field, boost::urls::unreserved_chars);
}

// `member` of `e` as JSON text, or empty when it has none.
std::string json_member(simdjson::dom::element e, std::string_view member) {
  simdjson::dom::element v;
  if (e.at_key(member).get(v)) return {};
  return simdjson::minify(v);
}

// The same batch for every shard.
std::vector<std::vector<WriteBatch>> to_every_shard(uint32_t shards, const WriteBatch& batch) {
  return std::vector<std::vector<WriteBatch>>(shards, std::vector<WriteBatch>{batch});
}

}  // namespace

Reply Router::field_get(Context& c, const std::string& field) {
  if (auto p = server::field_name_problem(field)) return server::error_reply(server::bad_request(*p));
  const auto shards = shard_list(c.shards());
  const std::string target = field_target(field);
  const auto answers = fanout_.gather(
      *c.layout, shards,
      [&](uint32_t) {
        return ShardRequest{"GET", target, {}};
      },
      c.deadline);
  auto users = universe(c);
  if (auto* reply = std::get_if<Reply>(&users)) return std::move(*reply);
  const uint64_t total = std::get<uint64_t>(users);
  ShardDocs docs;
  bool found = false, described = false;
  std::string meta;  // ,"kind":...,"label":... as the first shard that has the field wrote them
  std::map<std::string, Value> values;
  for (uint32_t k = 0; k < shards.size(); ++k) {
    if (answers[k].status == 404) continue;  // neither tags nor an entry there
    auto listed = answer_array(docs, k, answers[k], "values");
    if (auto* reply = std::get_if<Reply>(&listed)) return std::move(*reply);
    const auto root = *docs.parse(answers[k].body);
    if (!found) {
      for (const std::string_view key : kFieldMetaMembers) {
        if (auto v = json_member(root, key); !v.empty()) server::JsonWriter(meta).raw(",").key(key).raw(v);
      }
    }
    found = true;
    bool shard_described = false;
    described = described || (!root.at_key("described").get(shard_described) && shard_described);
    for (const auto v : std::get<simdjson::dom::array>(listed)) {
      Value& value = values[std::string(member_string(v, "tag"))];
      value.count += member_uint(v, "count");
      value.dated = value.dated || member_string(v, "kind") == "dated";
      if (value.label.empty()) value.label = json_member(v, "label");
      if (value.parent.empty()) value.parent = json_member(v, "parent");
    }
  }
  if (!found) return server::error_reply(server::not_found("no field " + field));
  std::vector<const std::pair<const std::string, Value>*> order;
  for (const auto& entry : values) order.push_back(&entry);
  // Names are already in byte order: a stable sort by count keeps it for ties.
  std::stable_sort(order.begin(), order.end(),
                   [](const auto* a, const auto* b) { return a->second.count > b->second.count; });
  std::string body;
  server::JsonWriter w(body);
  w.raw("{").key("field").string(field).raw(meta).raw(",").key("described").boolean(described);
  w.raw(",").key("values").raw("[");
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& [tag, v] = *order[i];
    w.raw(i ? "," : "").raw("{").key("tag").string(tag).raw(",").key("count").number(v.count);
    w.raw(",").key("coverage").real(total == 0 ? 0.0 : static_cast<double>(v.count) / static_cast<double>(total));
    if (!v.label.empty()) w.raw(",").key("label").raw(v.label);
    if (!v.parent.empty()) w.raw(",").key("parent").raw(v.parent);
    w.raw(",").key("kind").string(v.dated ? "dated" : "tag").raw("}");
  }
  w.raw("]}");
  return server::json_reply(http::status::ok, std::move(body));
}

std::variant<std::vector<Router::ShardApplied>, Reply> Router::publish_and_settle(
    Context& c, const WriteRequest& request, std::string_view step, const std::vector<std::vector<WriteBatch>>& parts) {
  auto sent = publish_messages(request, step, parts);
  if (auto* reply = std::get_if<Reply>(&sent)) return std::move(*reply);
  // Every live replica has it before the answer is read from one of them.
  const auto deadline = Clock::now() + options_.write_timeout;
  for (const auto& s : std::get<std::vector<ShardApplied>>(sent)) {
    std::vector<std::string> urls;
    for (const auto& r : c.layout->replicas[s.shard]) urls.push_back(r.url);
    (void)applied_.wait_all(s.shard, s.sequence, urls, deadline);  // a dead replica delays, no more
  }
  return sent;
}

Reply Router::field_put(const server::Request& req, Context& c, const std::string& field) {
  if (auto p = server::field_name_problem(field)) return server::error_reply(server::bad_request(*p));
  auto parsed = catalog::parse_field_meta(req.body());
  if (const auto* problem = std::get_if<std::string>(&parsed)) {
    return server::error_reply(server::bad_request(*problem));
  }
  const auto& meta = std::get<catalog::FieldMeta>(parsed);
  const bool exclusive = meta.kind == catalog::FieldKind::kExclusive;
  auto request = write_request(req, c);
  if (auto* reply = std::get_if<Reply>(&request)) return std::move(*reply);
  const WriteRequest& r = std::get<WriteRequest>(request);
  if (exclusive) {
    WriteBatch on;
    on.set_exclusive_field(field, true);
    auto sent = publish_and_settle(c, r, ".exclusive", to_every_shard(c.shards(), on));
    if (auto* reply = std::get_if<Reply>(&sent)) return std::move(*reply);
    uint64_t doubled = 0;
    std::vector<std::vector<WriteBatch>> undo(c.shards());
    bool refused = false;
    for (const auto& s : std::get<std::vector<ShardApplied>>(sent)) {
      if (s.applied.outcome == AppliedOutcome::kRefused) {
        refused = true;
        doubled += doubled_users_in(s.applied.refusal).value_or(0);
      } else {
        undo[s.shard].emplace_back().set_exclusive_field(field, false);
      }
    }
    if (refused) {
      auto undone = publish_and_settle(c, r, ".undo", undo);  // read back by the GET that may follow
      if (auto* reply = std::get_if<Reply>(&undone)) return std::move(*reply);
      return server::error_reply(
          {http::status::conflict, "field_not_exclusive", not_exclusive_words(doubled, field), {}, {}, {}});
    }
  }
  WriteBatch batch;
  batch.set_field_meta(field, catalog::to_json(meta));
  batch.set_exclusive_field(field, exclusive);
  auto sent = publish_and_settle(c, r, "", to_every_shard(c.shards(), batch));
  if (auto* reply = std::get_if<Reply>(&sent)) return std::move(*reply);
  for (const auto& s : std::get<std::vector<ShardApplied>>(sent)) {
    if (s.applied.outcome == AppliedOutcome::kRefused) {  // exclusive on every shard just before: not expected
      return server::error_reply({http::status::conflict,
                                  "field_not_exclusive",
                                  "shard " + std::to_string(s.shard) + ": " + s.applied.refusal,
                                  {},
                                  {},
                                  {}});
    }
  }
  return field_get(c, field);
}

Reply Router::field_delete(const server::Request& req, Context& c, const std::string& field) {
  if (auto p = server::field_name_problem(field)) return server::error_reply(server::bad_request(*p));
  // 404 as a crowdd: when no shard's library describes the field and it is
  // not exclusive (the same on every shard).
  const std::string target = field_target(field);
  const auto answers = fanout_.gather(
      *c.layout, shard_list(c.shards()),
      [&](uint32_t) {
        return ShardRequest{"GET", target, {}};
      },
      c.deadline);
  ShardDocs docs;
  bool known = false;
  for (uint32_t k = 0; k < answers.size(); ++k) {
    if (answers[k].status == 404) continue;
    if (answers[k].status != 200)
      return answers[k].status == 0 ? no_replica_answered(k, answers[k]) : relay(answers[k]);
    const auto root = docs.parse(answers[k].body);
    if (!root) return server::error_reply(server::unavailable("shard " + std::to_string(k) + "'s answer is not JSON"));
    bool described = false;
    known = known || (!root->at_key("described").get(described) && described) ||
            member_string(*root, "kind") == "exclusive";
  }
  if (!known) return server::error_reply(server::not_found("field " + field + " has no metadata"));
  auto request = write_request(req, c);
  if (auto* reply = std::get_if<Reply>(&request)) return std::move(*reply);
  WriteBatch batch;
  batch.erase_field_meta(field);
  batch.set_exclusive_field(field, false);
  auto sent = publish_and_settle(c, std::get<WriteRequest>(request), "", to_every_shard(c.shards(), batch));
  if (auto* reply = std::get_if<Reply>(&sent)) return std::move(*reply);
  std::string body;
  server::JsonWriter w(body);
  w.raw("{").key("field").string(field).raw(",").key("deleted").boolean(true).raw("}");
  return server::json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::router
