// Router::query_all: one request to every shard, with the rule for tags
// some shards do not know.
#include <string>
#include <string_view>

#include "router/router_context.h"

namespace crowd::router {
namespace {

// What identifies an unknown_tag error across shards: the query it is in,
// the name and its position -- the message without the shard's own
// suggestions.
std::string unknown_tag_key(simdjson::dom::element root) {
  simdjson::dom::element error;
  if (root.at_key("error").get(error)) return {};
  std::string_view message = member_string(error, "message");
  message = message.substr(0, message.find(" (did you mean"));
  return std::to_string(member_uint(error, "position")) + ":" + std::string(message);
}

}  // namespace

std::variant<Router::Fanned, server::Reply> Router::query_all(
    Context& c, bool lenient, const std::function<ShardRequest(uint32_t, bool)>& request_of) {
  const auto shards = shard_list(c.shards());
  for (;;) {
    auto answers = fanout_.gather(
        *c.layout, shards, [&](uint32_t k) { return request_of(k, lenient); }, c.deadline);
    for (uint32_t k = 0; k < answers.size(); ++k) {
      if (answers[k].status == 0) return no_replica_answered(k, answers[k]);
    }
    ShardDocs docs;
    std::optional<uint32_t> first_error;
    std::optional<uint32_t> first_other;  // an error that is not an unknown tag
    std::vector<std::string> unknown;     // the keys of the unknown_tag errors
    for (uint32_t k = 0; k < answers.size(); ++k) {
      if (answers[k].status == 200) continue;
      if (!first_error) first_error = k;
      const auto root = docs.parse(answers[k].body);
      simdjson::dom::element error;
      if (root && !root->at_key("error").get(error) && member_string(error, "code") == "unknown_tag") {
        unknown.push_back(unknown_tag_key(*root));
      } else if (!first_other) {
        first_other = k;
      }
    }
    if (!first_error) return Fanned{std::move(answers), lenient};
    // Errors every shard makes alike (a parse error, a bad member) are the answer.
    if (first_other) return relay(answers[*first_other]);
    // A name no shard knows is the crowdd's unknown_tag; one that some
    // shard knows is an empty set where it is unknown. An unknown_tag that
    // lenient does not change (stats' attribute) is passed on too.
    bool everywhere = unknown.size() == answers.size();
    for (const auto& key : unknown) everywhere = everywhere && key == unknown.front();
    if (everywhere || lenient) return relay(answers[*first_error]);
    lenient = true;
  }
}

}  // namespace crowd::router
