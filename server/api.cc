#include "server/api.h"

#include <boost/url/parse.hpp>

#include <optional>

namespace crowd::server {
namespace {

// The analytics route a path names, if any.
std::optional<Route> analytics_route(std::string_view path) {
  if (path == "/v1/insight") return Route::kInsight;
  if (path == "/v1/overlap") return Route::kOverlap;
  if (path == "/v1/flow") return Route::kFlow;
  if (path == "/v1/funnel") return Route::kFunnel;
  if (path == "/v1/lookalike") return Route::kLookalike;
  if (path == "/v1/stats") return Route::kStats;
  if (path == "/v1/crowds" || path.starts_with("/v1/crowds/")) return Route::kCrowds;
  return std::nullopt;
}

}  // namespace

Reply Api::handle(Request& req, Route& route) {
  const auto start = Clock::now();
  route = Route::kOther;
  const auto parsed = boost::urls::parse_origin_form(req.target());
  if (!parsed) return error_reply(bad_request("request target is not a valid URL path"));
  const auto& url = *parsed;
  const auto path = url.encoded_path();
  const auto method = req.method();

  if (path == "/v1/count") {
    route = Route::kCount;
    if (method == http::verb::get) return count_get(url, start);
    if (method == http::verb::post) return count_post(req, start);
    return method_not_allowed("GET, POST");
  }
  if (path == "/v1/ids") {
    route = Route::kIds;
    if (method == http::verb::get) return ids_get(url, start);
    if (method == http::verb::post) return ids_post(req, start);
    return method_not_allowed("GET, POST");
  }
  if (path == "/v1/tags") {
    route = Route::kTags;
    return method == http::verb::get ? tags(url) : method_not_allowed("GET");
  }
  if (path == "/v1/fields") {
    route = Route::kFields;
    return method == http::verb::get ? fields() : method_not_allowed("GET");
  }
  if (path == "/v1/ingest") {
    route = Route::kIngest;
    return method == http::verb::post ? ingest(req) : method_not_allowed("POST");
  }
  if (path == "/v1/assign") {
    route = Route::kAssign;
    return method == http::verb::post ? assign(req) : method_not_allowed("POST");
  }
  if (const auto r = analytics_route(path)) {
    route = *r;
    if (*r == Route::kCrowds) return crowds(req, path.substr(std::string_view("/v1/crowds").size()), start);
    if (method != http::verb::post) return method_not_allowed("POST");
    switch (*r) {
      case Route::kInsight: return insight(req, start);
      case Route::kOverlap: return overlap(req, start);
      case Route::kFlow: return flow(req, start);
      case Route::kFunnel: return funnel(req, start);
      case Route::kLookalike: return lookalike(req, start);
      default: return stats(req, start);
    }
  }
  static constexpr std::string_view kUsers = "/v1/users/";
  if (path.starts_with(kUsers)) {
    route = Route::kDeleteUser;
    const auto id = path.substr(kUsers.size());
    return method == http::verb::delete_ ? delete_user(id) : method_not_allowed("DELETE");
  }
  if (path == "/healthz") {
    route = Route::kHealth;
    return method == http::verb::get ? health() : method_not_allowed("GET");
  }
  if (path == "/metrics") {
    route = Route::kMetrics;
    return method == http::verb::get ? metrics_text() : method_not_allowed("GET");
  }
  if (path == "/v1/admin/snapshot") {
    route = Route::kSnapshot;
    return method == http::verb::post ? snapshot() : method_not_allowed("POST");
  }
  return error_reply(not_found("no route for " + std::string(path)));
}

}  // namespace crowd::server
