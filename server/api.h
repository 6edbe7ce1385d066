// Api: the request handler. A function from request to reply: it never sees a
// socket (the session owns the stream) and never throws for bad input (every
// error becomes an ApiError reply, CONTRACT §4).
//
// Routes live in files by concern: query routes (count, ids), write routes
// (ingest, assign, delete), analytics routes, and info routes (tags, fields,
// health, metrics, snapshot). Around every route, handle() authorizes the
// caller (access.h), gives the request its time budget (query/deadline.h)
// and records exports and writes in the audit log (audit_log.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/url/url_view.hpp>

#include "index/store.h"
#include "query/options.h"
#include "server/api_error.h"
#include "server/call.h"
#include "server/metrics.h"
#include "server/reply.h"

namespace crowd::query {
class UnionCache;
}  // namespace crowd::query

namespace crowd::server {

class AuditLog;
class Retention;
class TokenTable;

// What an Api is configured with besides the store; every member optional.
struct ApiOptions {
  // Where unions of many tags are kept between queries (query/union_cache.h).
  query::UnionCache* unions = nullptr;
  // Applied after writes (retention.h).
  Retention* retention = nullptr;
  // Access control (access.h); null: every request is allowed, which main()
  // permits only on a loopback address.
  const TokenTable* tokens = nullptr;
  // Every export and write is recorded here (audit_log.h).
  AuditLog* audit = nullptr;
  // Privacy guards (docs/security.md): exports of crowds smaller than this
  // are refused and analytics cells below it are written as "<K"; lookalike
  // seeds need min_seed_size users. 0: off.
  uint64_t min_export_size = 0;
  uint64_t min_seed_size = 0;
  // Per-request time budget from the request's arrival (Call::arrived): an
  // evaluation past it stops and answers 503 timeout. 0: none.
  std::chrono::milliseconds time_budget{0};
};

class Api {
 public:
  // Every pointer in `options` must outlive the Api.
  Api(Store& store, Metrics& metrics, ApiOptions options = {})
      : store_(store), metrics_(metrics), options_(options), unions_(options.unions) {}

  // Answers one request; `call` brings its arrival time and takes back the
  // route, the caller and the audit facts.
  // `req` may be modified (the ingest body is padded for simdjson in place).
  [[nodiscard]] Reply handle(Request& req, Call& call);

 private:
  using Clock = std::chrono::steady_clock;

  // Routing after authorization (api.cc).
  Reply dispatch(Request& req, const boost::urls::url_view& url, Call& call, Clock::time_point start);
  // 401 or 403, or nothing when `call` may go on.
  std::optional<Reply> authorize(const Request& req, Call& call) const;
  // The audit line of an export or write; an export that cannot be recorded
  // becomes a 503.
  void audit(const Request& req, std::string_view path, const Call& call, Reply& reply) const;
  // Compilation options of one request.
  [[nodiscard]] query::Options query_options(bool lenient) const;

  // Query routes (api_query.cc).
  Reply count_get(const boost::urls::url_view& url, Clock::time_point start);
  Reply count_post(const Request& req, Clock::time_point start);
  Reply ids_get(const boost::urls::url_view& url, Call& call, Clock::time_point start);
  Reply ids_post(const Request& req, Call& call, Clock::time_point start);
  Reply ids_page(std::string_view q, bool lenient, uint64_t limit, std::string_view cursor, Call& call,
                 Clock::time_point start);
  Reply ids_export(std::string_view q, bool lenient, std::string_view format, Call& call);

  // Write routes (api_write.cc).
  Reply ingest(Request& req, Call& call);
  Reply assign(const Request& req, Call& call);
  Reply delete_user(std::string_view id_text, Call& call);
  // After a write that may have brought a newer or an old day (retention.h).
  void apply_retention(const WriteBatch& written);

  // Analytics routes, one file each (api_<route>.cc); saved crowds in
  // api_crowds.cc (`name_path`: what follows /v1/crowds, "" or "/<name>...").
  Reply insight(const Request& req, Clock::time_point start);
  Reply overlap(const Request& req, Clock::time_point start);
  Reply flow(const Request& req, Clock::time_point start);
  Reply funnel(const Request& req, Clock::time_point start);
  Reply lookalike(const Request& req, Call& call, Clock::time_point start);
  Reply stats(const Request& req, Clock::time_point start);
  Reply crowds(const Request& req, std::string_view name_path, Call& call, Clock::time_point start);

  // Info routes (api_info.cc).
  Reply tags(const boost::urls::url_view& url);
  Reply fields();
  Reply health();
  Reply metrics_text();
  Reply snapshot();

  Store& store_;
  Metrics& metrics_;
  ApiOptions options_;
  query::UnionCache* unions_;
};

// Microseconds since `start`.
[[nodiscard]] inline uint64_t micros_since(std::chrono::steady_clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace crowd::server
