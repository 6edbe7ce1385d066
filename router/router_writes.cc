// The router's writes: /v1/ingest, /v1/assign, DELETE /v1/users/{id}.
// Each is parsed whole by crowdd's own parsers (every 400 before anything
// is published), split by home shard, published, and answered only once
// every part is applied (docs/cluster.md#write-path-jetstream).
#include <openssl/rand.h>

#include <algorithm>
#include <span>
#include <string>

#include "cluster/jetstream.h"
#include "identity/digest.h"
#include "cluster/names.h"
#include "router/applied_positions.h"
#include "router/router_context.h"
#include "server/access.h"
#include "router/write_split.h"
#include "server/assign_request.h"
#include "server/authorize.h"
#include "server/ingest_parser.h"
#include "server/json_writer.h"
#include "server/request_json.h"

namespace crowd::router {
namespace {

namespace http = boost::beast::http;
using server::Reply;

// Why a router refuses records that name IDs of other types, for now.
constexpr std::string_view kNoIdsYet =
    "a cluster router takes users named by \"id\" only, until the directory of linked IDs is built "
    "(docs/cluster.md)";

// The longest Idempotency-Key accepted; JetStream message ids are this plus
// ".<16 hex of the request's digest>/<shard>.<message>".
constexpr std::size_t kMaxIdempotencyKey = 128;
// A stream message's largest encoding: the server's max_payload (1 MiB by
// default; scripts/local-cluster.sh sets 8 MiB, NATS's advice for the most)
// less room for the headers (the message id), and at most 8 MiB. Fewer,
// larger messages cost a replica less: each is applied as one batch.
std::size_t max_message_bytes(const cluster::JetStream& js) {
  constexpr std::size_t kHeaders = 64u << 10;
  constexpr std::size_t kMost = 8u << 20;
  const std::size_t payload = js.max_payload();
  return payload <= 2 * kHeaders ? payload / 2 : std::min(kMost, payload - kHeaders);
}

// The request's Idempotency-Key: the client's (1..128 of [A-Za-z0-9._:-];
// nullopt otherwise) or a fresh random one, which a 503 names so that the
// client can retry with it.
std::optional<std::string> idempotency_key(const server::Request& req) {
  const auto key = req["Idempotency-Key"];  // not among Beast's known fields: by name
  if (!key.empty()) {
    if (key.size() > kMaxIdempotencyKey) return std::nullopt;
    for (const char ch : key) {
      const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                      ch == '.' || ch == '_' || ch == ':' || ch == '-';
      if (!ok) return std::nullopt;
    }
    return std::string(key);
  }
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return std::nullopt;
  std::string random;
  identity::append_hex(std::span<const uint8_t>(bytes, sizeof bytes), random);
  return random;
}

// The stream messages' id: the key bound to what it was sent with -- the
// caller, the route and the body, by their SHA-256 -- so that a retry is
// recognised (JetStream stores a message id once within its window) while
// the same key on another request (another client's, a changed body) is
// never taken for a retry and silently dropped.
std::string request_id(const std::string& key, const server::Request& req, const server::Call& call) {
  std::string bound = call.principal != nullptr ? call.principal->name : std::string("-");
  bound.push_back('\0');
  bound.append(req.method_string()).push_back('\0');
  bound.append(req.target()).push_back('\0');
  bound.append(req.body());
  std::string id = key;
  id.push_back('.');
  id.append(identity::sha256_hex(bound).substr(0, 16));
  return id;
}

Reply not_confirmed(const std::string& key, const std::string& why) {
  Reply r = server::error_reply(
      {http::status::service_unavailable, "write_not_confirmed",
       "request " + key + ": " + why +
           "; the write may still be applied: sending it again with the header Idempotency-Key: " + key +
           " applies it exactly once",
       {}, {}, {}});
  r.message.set(http::field::retry_after, "1");
  return r;
}

}  // namespace

struct Router::Published {
  uint64_t users = 0;
  uint64_t added = 0;
  uint64_t removed = 0;
  uint64_t erased = 0;
};

std::variant<Router::WriteRequest, Reply> Router::write_request(const server::Request& req, const Context& c) const {
  const auto key = idempotency_key(req);
  if (!key) {
    return server::error_reply(server::bad_request(
        "Idempotency-Key must be 1 to 128 characters of letters, digits, '.', '_', ':' and '-'"));
  }
  return WriteRequest{*key, request_id(*key, req, c.call)};
}

std::variant<std::vector<Router::ShardApplied>, Reply> Router::publish_messages(
    const WriteRequest& request, std::string_view step, const std::vector<std::vector<WriteBatch>>& parts) {
  const auto deadline = Clock::now() + options_.write_timeout;
  std::vector<ShardApplied> sent;
  std::string data;
  std::string error;
  for (uint32_t k = 0; k < parts.size(); ++k) {
    const auto& messages = parts[k];
    for (std::size_t m = 0; m < messages.size(); ++m) {
      data.clear();
      messages[m].encode(data);
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      // "<request id><step>/<shard>.<message>": a retry of the request
      // publishes the same ids, which JetStream stores once.
      const std::string message_id =
          request.id + std::string(step) + "/" + std::to_string(k) + "." + std::to_string(m);
      const auto published = js_.publish(cluster::shard_subject(options_.cluster, k), data, message_id,
                                         std::max(left, std::chrono::milliseconds(1)), error);
      if (!published) {
        return not_confirmed(request.key,
                             "shard " + std::to_string(k) + "'s stream did not acknowledge (" + error + ")");
      }
      sent.push_back({k, published->sequence, {}});
    }
  }
  for (auto& s : sent) {
    s.applied = applied_.wait(s.shard, s.sequence, deadline);
    if (s.applied.outcome == AppliedOutcome::kTimedOut) {
      return not_confirmed(request.key, "no replica of shard " + std::to_string(s.shard) + " applied it within " +
                                            std::to_string(options_.write_timeout.count()) +
                                            " ms (--write-timeout-ms)");
    }
  }
  return sent;
}

std::variant<Router::Published, Reply> Router::publish_parts(Context& c, const server::Request& req,
                                                             const WriteBatch& batch) {
  if (batch.empty()) return Published{};  // nothing to publish (a body of blank lines)
  auto request = write_request(req, c);
  if (auto* reply = std::get_if<Reply>(&request)) return std::move(*reply);
  std::string error;
  const auto parts = split_by_shard(batch, c.layout->map, max_message_bytes(js_), error);
  if (!parts) return server::error_reply(server::bad_request(error));
  auto sent = publish_messages(std::get<WriteRequest>(request), "", *parts);
  if (auto* reply = std::get_if<Reply>(&sent)) return std::move(*reply);
  Published out;
  for (const auto& [k, sequence, applied] : std::get<std::vector<ShardApplied>>(sent)) {
    if (applied.outcome == AppliedOutcome::kRefused) {
      return server::error_reply(server::id_conflict("shard " + std::to_string(k) + " refused its part: " +
                                                     applied.refusal + "; its part changed nothing"));
    }
    out.users += applied.users;
    out.added += applied.added;
    out.removed += applied.removed;
    out.erased += applied.erased;
  }
  return out;
}

Reply Router::ingest(server::Request& req, Context& c) {
  const auto type = server::media_type(req[http::field::content_type]);
  WriteBatch batch;
  server::BatchSink sink(batch, kNoIdsYet);
  server::IngestCounts counts;
  std::optional<server::ApiError> error;
  if (type.empty() || type == "application/x-ndjson") {
    server::ensure_padding(req.body());
    error = server::parse_ndjson(req.body(), sink, counts, options_.clock.event_limit());
  } else if (type == "text/csv") {
    error = server::parse_csv(req.body(), sink, counts);
  } else {
    return server::error_reply({http::status::unsupported_media_type, "unsupported_media_type",
                                "ingest takes application/x-ndjson or text/csv, not " + type, {}, {}, {}});
  }
  if (error) return server::error_reply(*error);
  auto published = publish_parts(c, req, batch);
  if (auto* reply = std::get_if<Reply>(&published)) return std::move(*reply);
  const Published& done = std::get<Published>(published);
  c.call.users = counts.records;
  std::string body;
  server::JsonWriter w(body);
  w.raw("{").key("users").number(counts.records);
  if (server::sees_sizes(c.call)) w.raw(",").key("assignments").number(done.added);
  w.raw("}");
  return server::json_reply(http::status::ok, std::move(body));
}

Reply Router::assign(const server::Request& req, Context& c) {
  WriteBatch batch;
  server::PersonSink persons(batch, nullptr, kNoIdsYet);
  if (auto e = server::read_assign_body(req.body(), batch, options_.clock.event_limit(), persons)) {
    return server::error_reply(*e);
  }
  auto published = publish_parts(c, req, batch);
  if (auto* reply = std::get_if<Reply>(&published)) return std::move(*reply);
  const Published& done = std::get<Published>(published);
  c.call.users = done.users;
  std::string body;
  server::JsonWriter w(body);
  w.raw("{");
  if (server::sees_sizes(c.call)) w.key("added").number(done.added).raw(",").key("removed").number(done.removed);
  w.raw("}");
  return server::json_reply(http::status::ok, std::move(body));
}

Reply Router::delete_user(const server::Request& req, std::string_view id_text, Context& c) {
  const auto id = server::parse_decimal_id(id_text);
  if (!id) return server::error_reply(server::bad_request("user id must be an unsigned 64-bit decimal integer"));
  WriteBatch batch;
  batch.erase(*id);
  // Published even when the user may not exist: only its shard knows.
  auto published = publish_parts(c, req, batch);
  if (auto* reply = std::get_if<Reply>(&published)) return std::move(*reply);
  if (std::get<Published>(published).erased == 0) {
    return server::error_reply(server::not_found("no user " + std::string(id_text)));
  }
  c.call.users = 1;
  std::string body;
  server::JsonWriter w(body);
  w.raw("{").key("id").user_id(*id).raw(",").key("deleted").boolean(true).raw("}");
  return server::json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::router
