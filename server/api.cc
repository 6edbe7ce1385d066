#include "server/api.h"

#include <boost/url/parse.hpp>

namespace crowd::server {
namespace {

Reply method_not_allowed(std::string_view allow) {
  auto r = error_reply({http::status::method_not_allowed, "method_not_allowed",
                        "method not allowed here; allowed: " + std::string(allow), {}, {}, {}});
  r.message.set(http::field::allow, allow);
  return r;
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
