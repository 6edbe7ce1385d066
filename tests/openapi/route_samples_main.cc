// crowd-route-samples: prints the route table and the real answers of the
// route samples (tests/server_support/route_samples.h), sent in process to a
// fresh Api with access control (each with its token), as JSON lines for tests/openapi/
// check_openapi.py, which holds them to docs/openapi.json:
//   {"kind": "route", "method", "pattern", "scope", "params", "body_limit"}
//   {"kind": "sample", "method", "pattern", "target", "status", "content_type",
//    "body", "request_body", "request_content_type"}
// Binary bodies (the Roaring export) are printed as "" with their type.
#include <nlohmann/json.hpp>

#include <boost/url/parse.hpp>

#include <iostream>

#include "server/route.h"
#include "tests/server_support/api_harness.h"
#include "tests/server_support/route_samples.h"

int main() {
  using namespace crowd;
  using json = nlohmann::json;
  namespace http = boost::beast::http;
  for (const auto& r : server::Api::routes()) {
    json params = json::array();
    for (const auto p : r.params) params.push_back(std::string(p));
    json line{{"kind", "route"},
              {"method", std::string(http::to_string(r.method))},
              {"pattern", std::string(r.pattern)},
              {"scope", std::string(server::scope_name(r.scope))},
              {"params", params},
              {"body_limit", r.body_limit == server::kServerMaxBody ? json(nullptr) : json(r.body_limit)}};
    std::cout << line.dump() << "\n";
  }
  test::ApiHarness harness({.tokens = test::sample_tokens()});
  for (const auto& s : test::route_samples()) {
    const auto res =
        harness.call(s.method, s.target, s.body, s.content_type, s.token.empty() ? "" : test::token_of(s.token));
    const auto url = boost::urls::parse_origin_form(s.target);
    const auto m = url ? server::match_route(server::Api::routes(), s.method, *url) : server::RouteMatch{};
    const bool binary = res.content_type == "application/octet-stream";
    json line{{"kind", "sample"},
              {"method", std::string(http::to_string(s.method))},
              {"pattern", m.route != nullptr ? json(std::string(m.route->pattern)) : json(nullptr)},
              {"target", s.target},
              {"status", res.status},
              {"content_type", res.content_type},
              {"body", binary ? std::string() : res.body},
              {"request_body", s.body},
              {"request_content_type", s.body.empty() ? "" : s.content_type}};
    std::cout << line.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    if (res.status != s.status) {
      std::cerr << "crowd-route-samples: " << s.target << " answered " << res.status << ", expected " << s.status
                << ": " << res.body << "\n";
      return 1;
    }
  }
  return 0;
}
