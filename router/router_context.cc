#include "router/router_context.h"

#include <algorithm>

#include "query/date.h"
#include "server/api_error.h"
#include "server/json_writer.h"

namespace crowd::router {

uint64_t Router::Context::took_us() const {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
}

std::vector<uint32_t> shard_list(uint32_t n) {
  std::vector<uint32_t> v(n);
  for (uint32_t k = 0; k < n; ++k) v[k] = k;
  return v;
}

server::Reply relay(const ShardAnswer& answer) {
  return server::json_reply(static_cast<boost::beast::http::status>(answer.status), answer.body);
}

server::Reply no_replica_answered(uint32_t k, const ShardAnswer& answer) {
  server::Reply r = server::error_reply(
      server::unavailable("shard " + std::to_string(k) + " did not answer: " + answer.error));
  r.message.set(boost::beast::http::field::retry_after, "1");
  return r;
}

std::string edit_object(std::string_view body, const std::vector<Member>& set, const std::vector<Member>& defaults) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(body.data(), body.size()).get(obj)) return std::string(body);
  std::string out = "{";
  const auto add = [&out](std::string_view key, std::string_view value) {
    if (out.size() > 1) out.push_back(',');
    server::JsonWriter(out).key(key).raw(value);
  };
  const auto named = [](const std::vector<Member>& list, std::string_view key) {
    return std::find_if(list.begin(), list.end(), [&](const Member& m) { return m.key == key; }) != list.end();
  };
  for (const auto field : obj) {
    if (named(set, field.key)) continue;
    add(field.key, simdjson::minify(field.value));
  }
  for (const auto& m : set) add(m.key, m.value);
  for (const auto& m : defaults) {
    if (!named(set, m.key) && obj.at_key(m.key).error()) add(m.key, m.value);
  }
  out.push_back('}');
  return out;
}

namespace {

// Parsers for ShardDocs, per thread; a request takes the next ones and
// gives them back when done.
std::vector<std::unique_ptr<simdjson::dom::parser>>& parser_pool() {
  thread_local std::vector<std::unique_ptr<simdjson::dom::parser>> pool;
  return pool;
}
thread_local std::size_t pool_in_use = 0;

}  // namespace

ShardDocs::ShardDocs() : base_(pool_in_use) {}
ShardDocs::~ShardDocs() { pool_in_use = base_; }

std::optional<simdjson::dom::element> ShardDocs::parse(const std::string& body) {
  auto& pool = parser_pool();
  const std::size_t slot = base_ + used_++;
  pool_in_use = slot + 1;
  if (pool.size() <= slot) pool.resize(slot + 1);
  if (!pool[slot]) pool[slot] = std::make_unique<simdjson::dom::parser>();
  simdjson::dom::element root;
  if (pool[slot]->parse(body).get(root)) return std::nullopt;
  return root;
}

std::string day_json(int64_t day) {
  std::string s;
  server::JsonWriter(s).string(query::format_day(day));
  return s;
}

ShardRequest shard_request(std::string_view target, std::string_view body, bool lenient, int64_t today,
                           std::vector<Member> set) {
  if (lenient) set.push_back({"lenient", "true"});
  return ShardRequest{"POST", std::string(target), edit_object(body, set, {{"as_of", day_json(today)}})};
}

std::variant<simdjson::dom::array, server::Reply> answer_array(ShardDocs& docs, uint32_t k, const ShardAnswer& answer,
                                                               std::string_view member) {
  if (answer.status == 0) return no_replica_answered(k, answer);
  if (answer.status != 200) return relay(answer);
  const auto root = docs.parse(answer.body);
  simdjson::dom::array list;
  if (!root || root->at_key(member).get(list)) {
    return server::error_reply(server::unavailable("shard " + std::to_string(k) + "'s answer has no \"" +
                                                   std::string(member) + "\" list"));
  }
  return list;
}

void merge_warnings(simdjson::dom::element root, std::vector<std::string>& out) {
  simdjson::dom::array list;
  if (root.at_key("warnings").get(list)) return;
  for (const auto item : list) {
    std::string_view text;
    if (!item.get(text) && std::find(out.begin(), out.end(), text) == out.end()) out.emplace_back(text);
  }
}

uint64_t member_uint(simdjson::dom::element e, std::string_view key) {
  uint64_t v = 0;
  if (e.at_key(key).get(v)) return 0;
  return v;
}

std::string_view member_string(simdjson::dom::element e, std::string_view key) {
  std::string_view v;
  if (e.at_key(key).get(v)) return {};
  return v;
}

}  // namespace crowd::router
