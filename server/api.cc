#include "server/api.h"

#include <boost/url/parse.hpp>

#include <iostream>
#include <optional>

#include "query/deadline.h"
#include "query/options.h"
#include "server/access.h"
#include "server/audit_log.h"
#include "server/query_params.h"

namespace crowd::server {
namespace {

constexpr std::string_view kUsers = "/v1/users/";
constexpr std::string_view kCrowds = "/v1/crowds";

Route route_of(std::string_view path) {
  if (path == "/v1/count") return Route::kCount;
  if (path == "/v1/ids") return Route::kIds;
  if (path == "/v1/tags") return Route::kTags;
  if (path == "/v1/fields") return Route::kFields;
  if (path == "/v1/ingest") return Route::kIngest;
  if (path == "/v1/assign") return Route::kAssign;
  if (path == "/v1/insight") return Route::kInsight;
  if (path == "/v1/overlap") return Route::kOverlap;
  if (path == "/v1/flow") return Route::kFlow;
  if (path == "/v1/funnel") return Route::kFunnel;
  if (path == "/v1/lookalike") return Route::kLookalike;
  if (path == "/v1/stats") return Route::kStats;
  if (path == kCrowds || path.starts_with("/v1/crowds/")) return Route::kCrowds;
  if (path.starts_with(kUsers)) return Route::kDeleteUser;
  if (path == "/healthz") return Route::kHealth;
  if (path == "/metrics") return Route::kMetrics;
  if (path == "/v1/admin/snapshot") return Route::kSnapshot;
  return Route::kOther;
}

}  // namespace

query::Options Api::query_options(bool lenient) const {
  return query::Options{lenient, unions_, options_.min_seed_size};
}

Reply Api::handle(Request& req, Call& call) {
  const auto start = Clock::now();
  const auto parsed = boost::urls::parse_origin_form(req.target());
  if (!parsed) return error_reply(bad_request("request target is not a valid URL path"));
  const auto& url = *parsed;
  const auto path = url.encoded_path();
  call.route = route_of(path);
  const Scope scope = required_scope(call.route, req.method());
  // Exports and writes are audited, refusals included.
  const bool audited = options_.audit != nullptr && (scope == kScopeExport || scope == kScopeWrite);

  Reply reply;
  if (auto refusal = authorize(req, call)) {
    // The audit line of a refused export still says what was asked for.
    if (const auto q = url_param(url, "q")) call.query = *q;
    reply = std::move(*refusal);
  } else {
    try {
      // Writes are bounded by --max-body, not by the budget: a large ingest
      // over a slow link must not be read whole and then dropped.
      const bool evaluates = scope != kScopeWrite || call.route == Route::kCrowds;
      std::optional<query::Deadline::Scope> budget;
      if (options_.time_budget.count() > 0 && evaluates) {
        budget.emplace(call.arrived + options_.time_budget);
        query::Deadline::check();  // already spent waiting in line
      }
      reply = dispatch(req, url, call, start);
    } catch (const query::TimedOut&) {
      reply = error_reply(timed_out("the request ran past its time budget of " +
                                    std::to_string(options_.time_budget.count()) + " ms (--time-budget-ms)"));
    }
  }
  if (audited || call.audit) audit(req, path, call, reply);
  return reply;
}

std::optional<Reply> Api::authorize(const Request& req, Call& call) const {
  if (options_.tokens == nullptr || call.route == Route::kHealth) return std::nullopt;
  const auto token = bearer_token(req[http::field::authorization]);
  call.principal = token ? options_.tokens->find(*token) : nullptr;
  if (call.principal == nullptr) {
    Reply r = error_reply(unauthorized(token ? "the bearer token is not valid"
                                             : "this server needs an `Authorization: Bearer <token>` header"));
    r.message.set(http::field::www_authenticate, R"(Bearer realm="crowd")");
    return r;
  }
  const Scope scope = required_scope(call.route, req.method());
  if (!call.principal->may(scope)) {
    return error_reply(forbidden("the token \"" + call.principal->name + "\" lacks the " +
                                 std::string(scope_name(scope)) + " scope"));
  }
  return std::nullopt;
}

void Api::audit(const Request& req, std::string_view path, const Call& call, Reply& reply) const {
  if (options_.audit == nullptr) return;
  AuditEntry e;
  e.token = call.principal != nullptr ? std::string_view(call.principal->name) : std::string_view("-");
  e.method = req.method_string();
  // A deleted user's ID stays out of the log (right to erasure).
  e.route = call.route == Route::kDeleteUser ? std::string_view("/v1/users/{id}") : path;
  e.status = reply.message.result_int();
  e.query = call.query;
  e.ids = call.ids;
  e.users = call.users;
  std::string error;
  if (options_.audit->append(e, error)) return;
  std::cerr << "crowdd: cannot write the audit log: " << error << "\n";
  // No unrecorded export: its IDs have not been sent yet.
  if (call.route == Route::kIds && e.status == 200) {
    reply = error_reply(unavailable("the audit log cannot be written: " + error));
  }
}

Reply Api::dispatch(Request& req, const boost::urls::url_view& url, Call& call, Clock::time_point start) {
  const auto path = url.encoded_path();
  const auto method = req.method();
  switch (call.route) {
    case Route::kCount:
      if (method == http::verb::get) return count_get(url, start);
      if (method == http::verb::post) return count_post(req, start);
      return method_not_allowed("GET, POST");
    case Route::kIds:
      if (method == http::verb::get) return ids_get(url, call, start);
      if (method == http::verb::post) return ids_post(req, call, start);
      return method_not_allowed("GET, POST");
    case Route::kTags:
      return method == http::verb::get ? tags(url) : method_not_allowed("GET");
    case Route::kFields:
      return method == http::verb::get ? fields() : method_not_allowed("GET");
    case Route::kIngest:
      return method == http::verb::post ? ingest(req, call) : method_not_allowed("POST");
    case Route::kAssign:
      return method == http::verb::post ? assign(req, call) : method_not_allowed("POST");
    case Route::kCrowds:
      return crowds(req, path.substr(kCrowds.size()), call, start);
    case Route::kDeleteUser:
      return method == http::verb::delete_ ? delete_user(path.substr(kUsers.size()), call)
                                           : method_not_allowed("DELETE");
    case Route::kHealth:
      return method == http::verb::get ? health() : method_not_allowed("GET");
    case Route::kMetrics:
      return method == http::verb::get ? metrics_text() : method_not_allowed("GET");
    case Route::kSnapshot:
      return method == http::verb::post ? snapshot() : method_not_allowed("POST");
    case Route::kOther:
    case Route::kRouteCount:
      break;
    default:
      // The analytics routes: POST only.
      if (method != http::verb::post) return method_not_allowed("POST");
      switch (call.route) {
        case Route::kInsight: return insight(req, start);
        case Route::kOverlap: return overlap(req, start);
        case Route::kFlow: return flow(req, start);
        case Route::kFunnel: return funnel(req, start);
        case Route::kLookalike: return lookalike(req, call, start);
        default: return stats(req, start);
      }
  }
  return error_reply(not_found("no route for " + std::string(path)));
}

}  // namespace crowd::server
