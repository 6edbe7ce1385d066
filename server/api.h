// Api: the request handler. A function from request to reply: it never sees a
// socket (the session owns the stream) and never throws for bad input (every
// error becomes an ApiError reply, CONTRACT §4).
//
// Every route is one row of the route table (routes.cc: method, pattern,
// scope, audit, time budget, body limit, URL parameters, handler); handlers
// live in files by concern: query routes (count, ids), write routes (ingest,
// assign, delete), analytics routes, saved crowds, and info routes (tags,
// fields, health, metrics, snapshot, the OpenAPI document). A request goes
// through two steps, so that nobody unknown costs a body read:
//   admit()  from the header alone: match the row (404, 405), authorize the
//            caller (401, 403; access.h); the session then reads at most the
//            row's body limit (413);
//   serve()  with the body: refuse unknown URL parameters, give the request
//            its time budget (query/deadline.h), run the handler, and record
//            exports and writes in the audit log (audit_log.h).
// handle() does both for a request read whole (tests, benchmarks).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include <boost/url/url_view.hpp>

#include "index/store.h"
#include "query/options.h"
#include "server/api_error.h"
#include "server/call.h"
#include "server/event_days.h"
#include "server/metrics.h"
#include "server/page_cursor.h"
#include "server/reply.h"
#include "server/request_handler.h"
#include "server/route.h"

namespace crowd::query {
class UnionCache;
class Plan;
}  // namespace crowd::query

namespace crowd::identity {
struct DefinedIdType;
}  // namespace crowd::identity

namespace crowd::activation {
class Activation;
struct Refusal;
struct CrowdSettings;
struct DrawnCrowd;
}  // namespace crowd::activation

namespace crowd::server {

class AuditLog;
class ExportHistory;
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
  // The server's day clock (event_days.h): today for relative windows, and
  // the days an event may carry.
  DayClock clock;
  // --max-body: the body limit of bulk writes, and a cap on every other's.
  std::size_t max_body = 256u << 20;
  // How often activation's worker looks for due refreshes and pushes
  // (docs/activation.md); the worker runs only once start_activation() is called.
  std::chrono::milliseconds activation_tick{1000};
  // Unix seconds now, for activation's schedules (tests); null: the clock.
  std::function<int64_t()> activation_clock;
  // Not empty: this crowdd is a cluster replica (server/shard_role.h), these
  // words say of what, and requests that would change the index are refused
  // (409 read_only_replica): a replica changes only by its shard's stream.
  std::string replica_of;
  // The key sealing /v1/ids cursors (--cursor-key-file), so that the
  // replicas of a cluster's shard open each other's; nullopt: a random one.
  std::optional<std::array<unsigned char, 32>> cursor_key;
};

class Api final : public RequestHandler {
 public:
  // Every pointer in `options` must outlive the Api.
  Api(Store& store, Metrics& metrics, ApiOptions options = {});
  ~Api() override;
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Step 1, from the request's header: the route (into `call`) and whether
  // the caller may use it. A reply here is the answer (404, 405, 401, 403)
  // and the body need not be read.
  [[nodiscard]] std::optional<Reply> admit(const RequestHeader& header, Call& call) override;
  // The most body bytes the admitted route reads, and the 413 that says so.
  [[nodiscard]] std::size_t body_limit(const Call& call) const override;
  [[nodiscard]] ApiError body_too_large(const Call& call) const override;
  // Step 2, after admit() let it through: answers the request. `req` may be
  // modified (the ingest body is padded for simdjson in place). A budgeted
  // route still running at call.yield_at, within its budget, stops and sets
  // call.yielded (the Reply is then empty): serve it again with yield_at
  // max() to finish it.
  [[nodiscard]] Reply serve(Request& req, Call& call) override;
  // Both steps, for a request read whole; `call` brings its arrival time and
  // takes back the route, the caller and the audit facts.
  [[nodiscard]] Reply handle(Request& req, Call& call);

  // The route table (routes.cc): every route this server answers.
  [[nodiscard]] static std::span<const Route> routes();

  // Saved crowds' versions, destinations and pushes (docs/activation.md).
  // Its worker (scheduled refreshes, deliveries) runs between
  // start_activation() and stop_activation() (crowdd's main); without it,
  // pushes are recorded and wait.
  [[nodiscard]] activation::Activation& activation() { return *activation_; }
  void start_activation();
  void stop_activation();

 private:
  using Clock = std::chrono::steady_clock;

  // The audit line of an export or write; an export that cannot be recorded
  // becomes a 503.
  void audit(const RequestHeader& header, const Call& call, Reply& reply) const;
  // The caller's token name; "-" without --tokens.
  [[nodiscard]] static std::string_view caller(const Call& call);
  // Compilation options of one request.
  // `as_of`: the request's day for relative windows; nullopt: today by the
  // server's clock (event_days.h).
  [[nodiscard]] query::Options query_options(bool lenient, std::optional<int64_t> as_of = std::nullopt) const;

  // POST /v1/admin/tags/prune (api_info.cc).
  Reply prune_tags(Clock::time_point start);

  // Query routes (api_query.cc).
  Reply count_get(const boost::urls::url_view& url, Clock::time_point start);
  Reply count_post(const Request& req, Clock::time_point start);
  Reply ids_get(const boost::urls::url_view& url, Call& call, Clock::time_point start);
  Reply ids_post(const Request& req, Call& call, Clock::time_point start);
  // `id_type`: the ID type to export ("" or "uid": uids).
  // `as_of`: the request's day for relative windows (nullopt: today).
  Reply ids_page(std::string_view q, bool lenient, std::optional<int64_t> as_of, uint64_t limit,
                 std::string_view cursor, std::string_view id_type, Call& call, Clock::time_point start);
  Reply typed_ids_page(const IndexView& view, const query::Plan& plan, std::string_view q, bool lenient,
                       uint64_t limit, Ordinal from, const CursorScope& scope, const identity::DefinedIdType* type,
                       Call& call, Clock::time_point start);
  Reply ids_export(std::string_view q, bool lenient, std::optional<int64_t> as_of, std::string_view format,
                   std::string_view id_type, Call& call);
  // Ends a page whose body so far is {"ids": [...]: the counts, the cursor
  // of the page starting at `next` (none: the last page), the time.
  Reply page_reply(std::string body, uint64_t count, uint64_t exported, std::optional<Ordinal> next,
                   const CursorScope& scope, uint64_t ids, Call& call, Clock::time_point start);

  // Write routes (api_write.cc).
  Reply ingest(Request& req, Call& call);
  Reply assign(const Request& req, Call& call);
  Reply delete_user(std::string_view id_text, Call& call);
  // After a write that may have brought a newer or an old day (retention.h).
  void apply_retention(const WriteBatch& written);

  // Identity routes (api_identity.cc).
  Reply id_types_list();
  Reply id_type_put(const Request& req, const std::string& name, Call& call);
  Reply user_get(std::string_view type_name, std::string_view id_text, Call& call);
  Reply user_delete(std::string_view type_name, std::string_view id_text, Call& call);
  Reply membership(const Request& req, Call& call, Clock::time_point start);
  Reply users_merge(const Request& req, Call& call);
  Reply match(Request& req, const boost::urls::url_view& url, Call& call, Clock::time_point start);

  // Analytics routes, one file each (api_<route>.cc).
  Reply insight(const Request& req, Clock::time_point start);
  Reply overlap(const Request& req, Clock::time_point start);
  Reply flow(const Request& req, Clock::time_point start);
  Reply funnel(const Request& req, Clock::time_point start);
  Reply lookalike(const Request& req, Call& call, Clock::time_point start);
  Reply stats(const Request& req, Clock::time_point start);

  // Activation (api_activation.cc): destinations, pushes, versions,
  // settings; the scheduled draw of a saved crowd; a refusal as an error.
  Reply destination_list();
  Reply destination_get(const std::string& name);
  Reply destination_put(const Request& req, const std::string& name, Call& call);
  Reply destination_delete(const std::string& name, Call& call);
  Reply crowd_push(const Request& req, const std::string& name, Call& call);
  Reply crowd_pushes(const std::string& name);
  Reply crowd_versions(const std::string& name);
  Reply crowd_patch(const Request& req, const std::string& name, Call& call, Clock::time_point start);
  // Results flowing back (api_feedback.cc).
  Reply feedback(const Request& req, Call& call);
  Reply crowd_report(const std::string& name, const boost::urls::url_view& url);

  // Draws the saved crowd again for a scheduled refresh (the worker's
  // thread), within the time budget.
  std::variant<activation::DrawnCrowd, std::string> draw_saved(std::string_view name);
  // Audits a delivered push (the worker's thread).
  void audit_push(std::string_view crowd, uint64_t ids, std::string_view destination);

  // Saved crowds (api_crowds.cc); `name` is the decoded path segment.
  Reply crowd_list(Clock::time_point start);
  Reply crowd_get(const std::string& name, Call& call, Clock::time_point start);
  Reply crowd_put(const Request& req, const std::string& name, Call& call, Clock::time_point start);
  Reply crowd_refresh(const std::string& name, Call& call, Clock::time_point start);
  Reply crowd_delete(const std::string& name, Call& call);

  // Info routes (api_info.cc).
  Reply tags(const boost::urls::url_view& url);
  Reply tag_delete(const std::string& tag);
  Reply fields();
  Reply field_get(const std::string& field);
  Reply field_put(const Request& req, const std::string& field);
  Reply field_delete(const std::string& field);
  Reply health();
  Reply metrics_text();
  void append_activation_metrics(const IndexView& view, std::string& out) const;
  Reply snapshot();
  Reply openapi();

  Store& store_;
  Metrics& metrics_;
  ApiOptions options_;
  query::UnionCache* unions_;
  // The differencing guard of exports (export_history.h); null without
  // --min-export-size.
  std::unique_ptr<ExportHistory> exports_;
  // Nothing when `crowd`, exported by `call`'s caller for (q, lenient), may
  // go; else the 403 that refuses it.
  [[nodiscard]] std::optional<ApiError> differencing_guard(const Call& call, std::string_view q, bool lenient,
                                                           const roaring_bitmap_t* crowd);
  // Requests to audited routes refused 401: not logged, counted (/metrics).
  std::atomic<uint64_t> unauthenticated_refusals_{0};
  // Seals /v1/ids page cursors with this process's random key.
  PageCursors cursors_;
  std::unique_ptr<activation::Activation> activation_;
  // Feedback writes read counters and write totals: one at a time.
  std::mutex feedback_mu_;
};

// Microseconds since `start`.
[[nodiscard]] inline uint64_t micros_since(std::chrono::steady_clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace crowd::server
