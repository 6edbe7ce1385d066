#include "router/router.h"

#include <boost/url/parse.hpp>

#include "cluster/jetstream.h"
#include "router/applied_positions.h"
#include "router/replica_fanout.h"
#include "router/router_context.h"
#include "router/topology.h"
#include "server/api.h"
#include "server/audit_call.h"
#include "server/authorize.h"
#include "server/metrics.h"
#include "server/reply_budget.h"

namespace crowd::router {
namespace {

namespace http = boost::beast::http;
using server::Reply;

// A read's deadline without --time-budget-ms.
constexpr std::chrono::milliseconds kReadTimeout{30'000};

server::PageCursors make_cursors(const RouterOptions& o) {
  return o.cursor_key ? server::PageCursors(*o.cursor_key) : server::PageCursors();
}

}  // namespace

Router::Router(Topology& topology, cluster::JetStream& js, AppliedPositions& applied, ReplicaFanOut& fanout,
               RouterOptions options)
    : topology_(topology),
      js_(js),
      applied_(applied),
      fanout_(fanout),
      options_(std::move(options)),
      cursors_(make_cursors(options_)) {}

Router::~Router() = default;

std::optional<Reply> Router::admit(const server::RequestHeader& header, server::Call& call) {
  auto parsed = boost::urls::parse_origin_form(header.target());
  if (!parsed) return server::error_reply(server::bad_request("request target is not a valid URL path"));
  auto match = server::match_route(server::Api::routes(), header.method(), *parsed);
  call.route = match.route;
  call.path_values = std::move(match.values);
  std::optional<Reply> refusal = server::authorize(options_.tokens, header, call);
  if (!refusal && call.route == nullptr) {
    refusal = match.allow.empty()
                  ? server::error_reply(server::not_found("no route for " + std::string(parsed->encoded_path())))
                  : server::method_not_allowed(match.allow);
  }
  // Refusals of audited routes are audited as a crowdd does, but for
  // callers nobody knows (401): a line each would let anyone fill the log.
  if (refusal && options_.audit != nullptr && server::audited(call) &&
      refusal->message.result() != http::status::unauthorized) {
    server::audit_call(*options_.audit, header, call, *refusal);
  }
  return refusal;
}

std::size_t Router::body_limit(const server::Call& call) const {
  return call.route == nullptr ? 0 : server::body_limit(*call.route, options_.max_body);
}

server::ApiError Router::body_too_large(const server::Call& call) const {
  if (call.route == nullptr) return server::too_large("request body too large");
  const std::size_t limit = body_limit(call);
  const std::string name =
      std::string(http::to_string(call.route->method)).append(" ").append(call.route->pattern);
  if (limit == 0) return server::too_large(name + " takes no request body");
  return server::too_large("request body larger than " + std::to_string(limit) + " bytes, the limit of " + name);
}

Reply Router::serve(server::Request& req, server::Call& call) {
  const server::Route& route = *call.route;
  const auto url = *boost::urls::parse_origin_form(req.target());  // admit() parsed it already
  Context c{topology_.layout(), call, url, Clock::now(), {}};
  c.deadline = call.arrived + (options_.time_budget.count() > 0 ? options_.time_budget : kReadTimeout);
  const std::string_view pattern = route.pattern;
  const auto method = route.method;
  Reply reply;
  if (req.body().size() > body_limit(call)) {
    reply = server::error_reply(body_too_large(call));
  } else if (const auto unknown = server::unknown_param(route, url); !unknown.empty()) {
    reply = server::error_reply(server::bad_request("unknown URL parameter \"" + unknown + "\" for " +
                                                    std::string(http::to_string(method)) + " " +
                                                    std::string(pattern)));
  } else if (pattern == "/healthz") {
    reply = health(c);
  } else if (pattern == "/metrics") {
    reply = metrics(c);
  } else if (pattern == "/v1/count") {
    reply = count(req, c);
  } else if (pattern == "/v1/ids") {
    reply = ids(req, c);
  } else if (pattern == "/v1/tags" && method == http::verb::get) {
    reply = tags(c);
  } else if (pattern == "/v1/fields" && method == http::verb::get) {
    reply = fields(c);
  } else if (pattern == "/v1/fields/{field}" && method == http::verb::get) {
    reply = field_get(c, call.path_values.at(0));
  } else if (pattern == "/v1/fields/{field}" && method == http::verb::put) {
    reply = field_put(req, c, call.path_values.at(0));
  } else if (pattern == "/v1/fields/{field}" && method == http::verb::delete_) {
    reply = field_delete(req, c, call.path_values.at(0));
  } else if (pattern == "/v1/overlap") {
    reply = overlap(req, c);
  } else if (pattern == "/v1/flow") {
    reply = flow(req, c);
  } else if (pattern == "/v1/funnel") {
    reply = funnel(req, c);
  } else if (pattern == "/v1/insight") {
    reply = insight(req, c);
  } else if (pattern == "/v1/stats") {
    reply = stats(req, c);
  } else if (pattern == "/v1/ingest") {
    reply = ingest(req, c);
  } else if (pattern == "/v1/assign") {
    reply = assign(req, c);
  } else if (pattern == "/v1/users/{id}" && method == http::verb::delete_) {
    reply = delete_user(req, call.path_values.at(0), c);
  } else {
    reply = server::error_reply(
        {http::status::not_implemented, "not_implemented",
         std::string(http::to_string(method)) + " " + std::string(pattern) +
             " is not served by a cluster router yet (docs/cluster.md, Status); ask a crowdd",
         {}, {}, {}});
  }
  if (options_.metrics != nullptr && !server::hold_reply(reply, options_.metrics->queued_replies())) call.ids = 0;
  if (options_.audit != nullptr && server::audited(call)) server::audit_call(*options_.audit, req, call, reply);
  return reply;
}

}  // namespace crowd::router
