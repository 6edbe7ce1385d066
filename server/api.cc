#include "server/api.h"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <iostream>
#include <optional>
#include <random>

#include "activation/activation.h"
#include "query/deadline.h"
#include "query/options.h"
#include "server/access.h"
#include "server/audit_call.h"
#include "server/audit_log.h"
#include "server/authorize.h"
#include "server/export_history.h"
#include "server/query_params.h"
#include "server/reply_budget.h"

namespace crowd::server {
namespace {

// A target that is not a valid origin-form URL has no route: "other".
std::optional<boost::urls::url_view> parse_target(std::string_view target) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return std::nullopt;
  return *parsed;
}

// Exports and writes are audited, refusals included (a request no row
// matched is not: it reached no data); a handler may ask for a line too (a
// lookalike that saves its result).
bool audited(const Call& call, bool has_log) { return has_log && server::audited(call); }

}  // namespace

Api::Api(Store& store, Metrics& metrics, ApiOptions options)
    : store_(store),
      metrics_(metrics),
      options_(options),
      unions_(options.unions),
      cursors_(options.cursor_key ? PageCursors(*options.cursor_key) : PageCursors()) {
  if (options_.min_export_size > 0) {
    std::random_device random;
    const uint64_t key = (uint64_t{random()} << 32) | random();
    exports_ = std::make_unique<ExportHistory>(options_.min_export_size, key);
  }
  activation::ActivationOptions a;
  a.min_export_size = options_.min_export_size;
  a.now = options_.activation_clock;
  a.tick = options_.activation_tick;
  a.draw = [this](std::string_view name) { return draw_saved(name); };
  a.delivered = [this](std::string_view crowd, const activation::PushRecord& p) {
    audit_push(crowd, p.adds + p.removes, p.destination);
  };
  activation_ = std::make_unique<activation::Activation>(store_, std::move(a));
}

Api::~Api() { stop_activation(); }

void Api::start_activation() { activation_->start(); }
void Api::stop_activation() { activation_->stop(); }

std::optional<ApiError> Api::differencing_guard(const Call& call, std::string_view q, bool lenient,
                                                const roaring_bitmap_t* crowd) {
  if (exports_ == nullptr) return std::nullopt;
  if (exports_->admit(caller(call), q, lenient, crowd)) return std::nullopt;
  // Neither the other export nor the size of the difference is named: both
  // would help the next attempt.
  ApiError e = crowd_too_small("this export differs from one of your recent exports by fewer than " +
                               std::to_string(options_.min_export_size) +
                               " users (--min-export-size): the difference could single people out");
  e.code = "difference_too_small";
  return e;
}

std::string_view Api::caller(const Call& call) {
  return call.principal != nullptr ? std::string_view(call.principal->name) : std::string_view("-");
}

query::Options Api::query_options(bool lenient, std::optional<int64_t> as_of) const {
  query::Options o{lenient, unions_, options_.min_seed_size};
  o.as_of = as_of ? *as_of : options_.clock.today();
  return o;
}

std::optional<Reply> Api::admit(const RequestHeader& header, Call& call) {
  const auto url = parse_target(header.target());
  if (!url) return error_reply(bad_request("request target is not a valid URL path"));
  auto match = match_route(routes(), header.method(), *url);
  call.route = match.route;
  call.path_values = std::move(match.values);

  std::optional<Reply> refusal = authorize(options_.tokens, header, call);
  if (!refusal && call.route == nullptr) {
    refusal = match.allow.empty() ? error_reply(not_found("no route for " + std::string(url->encoded_path())))
                                  : method_not_allowed(match.allow);
  }
  if (refusal && audited(call, options_.audit != nullptr)) {
    if (refusal->message.result() == http::status::unauthorized) {
      // Nobody known: a line each would let anyone fill the audit volume
      // (issue 14). Counted in /metrics instead.
      unauthenticated_refusals_.fetch_add(1, std::memory_order_relaxed);
    } else {
      // The audit line of a refused export still says what was asked for.
      if (const auto q = url_param(*url, "q")) call.query = *q;
      audit(header, call, *refusal);
    }
  }
  return refusal;
}

std::size_t Api::body_limit(const Call& call) const {
  return call.route == nullptr ? 0 : server::body_limit(*call.route, options_.max_body);
}

ApiError Api::body_too_large(const Call& call) const {
  if (call.route == nullptr) return too_large("request body too large");
  const Route& route = *call.route;
  const std::size_t limit = body_limit(call);
  const std::string name = std::string(http::to_string(route.method)) + " " + std::string(route.pattern);
  if (limit == 0) return too_large(name + " takes no request body");
  return too_large("request body larger than " + std::to_string(limit) + " bytes, the limit of " + name +
                   (limit == options_.max_body ? " (--max-body)" : ""));
}

namespace {

// Whether a route can change the index: any non-GET route that needs the
// write or admin scope but a snapshot (local maintenance), a push (it
// records versions) and a match (save_as saves a crowd). A replica refuses
// them all.
bool changes_the_index(const Route& route) {
  if (route.method == boost::beast::http::verb::get) return false;
  const std::string_view pattern = route.pattern;
  if (pattern == "/v1/admin/snapshot") return false;
  if (pattern == "/v1/crowds/{name}/push" || pattern == "/v1/match") return true;
  return (route.scope & (kScopeWrite | kScopeAdmin)) != 0;
}

}  // namespace

Reply Api::serve(Request& req, Call& call) {
  const auto start = Clock::now();
  const Route& route = *call.route;
  const auto url = *parse_target(req.target());  // admit() parsed it already
  Reply reply;
  if (const auto limit = body_limit(call); req.body().size() > limit) {
    // The session refuses this before reading the body; a request handed
    // over whole is held to the same limit.
    reply = error_reply(body_too_large(call));
  } else if (const auto unknown = unknown_param(route, url); !unknown.empty()) {
    reply = error_reply(bad_request("unknown URL parameter \"" + unknown + "\" for " +
                                    std::string(boost::beast::http::to_string(route.method)) + " " +
                                    std::string(route.pattern)));
  } else if (!options_.replica_of.empty() && changes_the_index(route)) {
    reply = error_reply(read_only_replica("this crowdd is a " + options_.replica_of +
                                          ": it changes only by its shard's stream; send writes to a router"));
  } else if (route.audited == Audited::kYes && route.scope == kScopeWrite && options_.audit != nullptr &&
             options_.audit->failing()) {
    // A write cannot be taken back once its line fails, so while the audit
    // log cannot be written writes are refused before they change anything.
    // This refusal's own line is the probe: once it is written the alarm
    // clears and the next write goes through.
    reply = error_reply(unavailable("the audit log cannot be written (crowd_audit_log_failing in /metrics); "
                                    "writes are refused until it can"));
  } else {
    const auto due = options_.time_budget.count() > 0 ? call.arrived + options_.time_budget : Clock::time_point::max();
    try {
      std::optional<query::Deadline::Scope> budget;
      if (route.budgeted == Budgeted::kYes && std::min(due, call.yield_at) != Clock::time_point::max()) {
        budget.emplace(std::min(due, call.yield_at));
        query::Deadline::check();  // already spent waiting in line
      }
      Exchange exchange{req, url, call, start};
      reply = route.handler(*this, exchange);
    } catch (const query::TimedOut&) {
      if (Clock::now() < due) {
        // Stopped at yield_at, within budget: the session runs it again.
        call.yielded = true;
        return Reply{};
      }
      reply = error_reply(timed_out("the request ran past its time budget of " +
                                    std::to_string(options_.time_budget.count()) + " ms (--time-budget-ms)"));
    }
  }
  // A large reply takes its share of the queued-reply budget now, so that a
  // refusal (503) is what the audit line records (reply_budget.h).
  if (!hold_reply(reply, metrics_.queued_replies())) call.ids = 0;
  if (audited(call, options_.audit != nullptr)) audit(req, call, reply);
  return reply;
}

Reply Api::handle(Request& req, Call& call) {
  if (auto refusal = admit(req, call)) return std::move(*refusal);
  return serve(req, call);
}

void Api::audit(const RequestHeader& header, const Call& call, Reply& reply) const {
  if (options_.audit != nullptr) audit_call(*options_.audit, header, call, reply);
}

}  // namespace crowd::server
