// Router: crowdd --router (docs/cluster.md). It has no index: it answers the
// same HTTP API as a crowdd by splitting writes over the shards' streams and
// fanning reads out to one replica per shard.
//
// - Admission is a crowdd's: the same route table (server/routes.cc), the
//   same tokens and scopes, the same body limits, so a client cannot tell a
//   router from a crowdd by what it refuses.
// - Writes (ingest, assign, DELETE /v1/users/{id}) are parsed whole by
//   crowdd's parsers -- every 400 before anything is published -- split by
//   the users' home shards, published to each shard's JetStream subject
//   under the message id "<request id>/<shard>", and acknowledged only once
//   JetStream stored each part on a quorum and a replica of each shard has
//   applied it (router_writes.cc).
// - Reads go to one replica per shard at once (ReplicaFanOut: round robin,
//   failover, hedging) and their answers are merged (router_reads.cc,
//   router_analytics.cc).
// - A route the router cannot answer yet is 501 not_implemented, saying so.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "index/write_batch.h"
#include "router/applied_positions.h"
#include "server/api_error.h"
#include "server/call.h"
#include "server/event_days.h"
#include "server/page_cursor.h"
#include "server/request_handler.h"

namespace crowd::cluster {
class JetStream;
}  // namespace crowd::cluster

namespace crowd::server {
class AuditLog;
class Metrics;
class TokenTable;
}  // namespace crowd::server

namespace crowd::router {

class AppliedPositions;
class ReplicaFanOut;
class Topology;
struct Layout;
struct ShardAnswer;
struct ShardRequest;

struct RouterOptions {
  std::string cluster;                       // --cluster NAME
  const server::TokenTable* tokens = nullptr;
  server::AuditLog* audit = nullptr;
  server::Metrics* metrics = nullptr;        // the queued-reply budget large replies hold
  uint64_t min_export_size = 0;              // --min-export-size: floors applied to merged numbers
  std::chrono::milliseconds time_budget{0};  // --time-budget-ms: a read's deadline (0: kReadTimeout)
  std::chrono::milliseconds write_timeout{10'000};  // --write-timeout-ms
  std::size_t max_body = 256u << 20;         // --max-body
  server::DayClock clock;                    // today for relative windows; the days events may carry
  // The page cursor key shared by the cluster's routers (--cursor-key-file);
  // nullopt: a random one (a walk then stays on one router).
  std::optional<std::array<unsigned char, 32>> cursor_key;
};

class Router final : public server::RequestHandler {
 public:
  // Every reference must outlive the Router.
  Router(Topology& topology, cluster::JetStream& js, AppliedPositions& applied, ReplicaFanOut& fanout,
         RouterOptions options);
  ~Router() override;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  [[nodiscard]] std::optional<server::Reply> admit(const server::RequestHeader& header, server::Call& call) override;
  [[nodiscard]] std::size_t body_limit(const server::Call& call) const override;
  [[nodiscard]] server::ApiError body_too_large(const server::Call& call) const override;
  [[nodiscard]] server::Reply serve(server::Request& req, server::Call& call) override;

 private:
  using Clock = std::chrono::steady_clock;
  struct Context;  // one request: its layout, deadline, call

  // Writes (router_writes.cc).
  server::Reply ingest(server::Request& req, Context& c);
  server::Reply assign(const server::Request& req, Context& c);
  server::Reply delete_user(const server::Request& req, std::string_view id_text, Context& c);

  // Reads (router_reads.cc).
  server::Reply health(Context& c);
  // GET /metrics: the router's HTTP metrics and what it knows of the shards.
  server::Reply metrics(Context& c);
  server::Reply count(const server::Request& req, Context& c);
  server::Reply ids(const server::Request& req, Context& c);
  // router_tags.cc: the dictionary, merged by name; router_fields.cc: fields.
  server::Reply tags(Context& c);
  server::Reply fields(Context& c);
  // router_field_library.cc: one field; its metadata, written to every shard.
  server::Reply field_get(Context& c, const std::string& field);
  server::Reply field_put(const server::Request& req, Context& c, const std::string& field);
  server::Reply field_delete(const server::Request& req, Context& c, const std::string& field);
  struct MergedTag {
    uint64_t count = 0;  // holders on every shard
    bool dated = false;  // dated on some shard
    std::string label;
  };
  struct TagTable {
    std::map<std::string, MergedTag> tags;  // by name, byte order
    uint64_t universe = 0;                  // users on every shard
  };
  // Users on every shard (their /healthz summed), or the reply to give
  // instead when a shard has no replica that answers.
  std::variant<uint64_t, server::Reply> universe(Context& c);
  // Every shard's tags matching `prefix` and `search`, merged.
  std::variant<TagTable, server::Reply> all_tags(Context& c, std::string_view prefix, std::string_view search);

  // Analytics over several crowds (router_analytics.cc).
  server::Reply overlap(const server::Request& req, Context& c);
  server::Reply flow(const server::Request& req, Context& c);
  server::Reply funnel(const server::Request& req, Context& c);
  server::Reply insight(const server::Request& req, Context& c);
  // router_stats.cc: percentiles found by counts.
  server::Reply stats(const server::Request& req, Context& c);

  // Sends request_of(k, lenient) to every shard and returns the answers, all
  // 200; or the reply to give instead: a shard's own error (the same on
  // every shard: a parse error, a bad member), 503 when a shard has no
  // replica that answers. A tag unknown to some shards but known to others
  // is no error: the request is sent again with lenient on (the tag is
  // then empty where it is unknown). `unknown_tag` is answered only when
  // every shard reports the same unknown name.
  struct Fanned {
    std::vector<ShardAnswer> answers;
    bool lenient = false;  // what the answers were made with
  };
  std::variant<Fanned, server::Reply> query_all(Context& c, bool lenient,
                                                const std::function<ShardRequest(uint32_t, bool)>& request_of);

  // A write request's Idempotency-Key (the client's, or a random one) and
  // the message id it is bound to (router_writes.cc); or the 400 to give.
  struct WriteRequest {
    std::string key;
    std::string id;
  };
  std::variant<WriteRequest, server::Reply> write_request(const server::Request& req, const Context& c) const;
  // Publishes parts[k] to shard k's stream (message ids: the request's id,
  // `step`, the shard and the message's place) and waits until a replica of
  // each shard applied each message: their outcomes, refusals included; or
  // 503 write_not_confirmed naming the key.
  struct ShardApplied {
    uint32_t shard;
    uint64_t sequence;
    Applied applied;
  };
  std::variant<std::vector<ShardApplied>, server::Reply> publish_messages(
      const WriteRequest& request, std::string_view step, const std::vector<std::vector<WriteBatch>>& parts);
  // publish_messages, then waits until every live replica of each shard
  // applied its part (bounded by --write-timeout-ms), so that a read that
  // follows sees it wherever it goes (metadata: router_field_library.cc).
  std::variant<std::vector<ShardApplied>, server::Reply> publish_and_settle(
      Context& c, const WriteRequest& request, std::string_view step,
      const std::vector<std::vector<WriteBatch>>& parts);
  // Publishes each shard's part of a write and waits for it to be applied.
  struct Published;
  std::variant<Published, server::Reply> publish_parts(Context& c, const server::Request& req,
                                                       const WriteBatch& batch);

  Topology& topology_;
  cluster::JetStream& js_;
  AppliedPositions& applied_;
  ReplicaFanOut& fanout_;
  RouterOptions options_;
  server::PageCursors cursors_;
};

}  // namespace crowd::router
