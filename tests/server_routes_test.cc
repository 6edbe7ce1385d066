// The route table, row by row, in process (tests/server_support/): every row
// is complete and described by docs/openapi.json; every row answers its
// samples; every row refuses a caller without its scope, a body over its
// limit, an unknown URL parameter and a method it does not take; the audited
// rows, and only they, write audit lines (not for a 401). No socket: the whole file runs in
// well under a second.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/url/parse.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "server/openapi_document.h"
#include "server/route.h"
#include "tests/server_support/api_harness.h"
#include "tests/server_support/route_samples.h"

namespace crowd::test {
namespace {

namespace http = boost::beast::http;
using json = nlohmann::json;
using server::Api;
using server::Route;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string key_of(http::verb method, std::string_view pattern) {
  return std::string(http::to_string(method)) + " " + std::string(pattern);
}

// The target of a sample request for `route`: its pattern with values put in.
std::string concrete(const Route& route) {
  std::string out(route.pattern);
  for (const auto& [name, value] :
       {std::pair{"{id_type}", "uid"}, std::pair{"{id}", "7"}, std::pair{"{name}", "some_crowd"},
        std::pair{"{tag}", "some:tag"}, std::pair{"{field}", "some_field"}}) {
    if (const auto at = out.find(name); at != std::string::npos) out.replace(at, std::string(name).size(), value);
  }
  return out;
}

TEST(RouteTable, EveryRowIsComplete) {
  std::set<std::string> keys;
  for (const Route& r : Api::routes()) {
    SCOPED_TRACE(key_of(r.method, r.pattern));
    EXPECT_TRUE(r.pattern.starts_with("/"));
    EXPECT_TRUE(keys.insert(key_of(r.method, r.pattern)).second) << "listed twice";
    EXPECT_NE(r.handler, nullptr);
    EXPECT_FALSE(r.summary.empty());
    // Only liveness and the API's description are public.
    if (r.scope == server::kScopeNone) {
      EXPECT_TRUE(r.pattern == "/healthz" || r.pattern == "/v1/openapi.json");
    } else {
      EXPECT_TRUE(r.scope == server::kScopeRead || r.scope == server::kScopeExport ||
                  r.scope == server::kScopeWrite || r.scope == server::kScopeAdmin);
    }
    // Exports and writes are audited.
    if (r.scope == server::kScopeExport || r.scope == server::kScopeWrite) {
      EXPECT_EQ(r.audited, server::Audited::kYes);
    }
    // Bodies: none on GET and DELETE; a limit that fits on the rest, the
    // server's --max-body only for bulk writes.
    if (r.method == http::verb::get || r.method == http::verb::delete_) {
      EXPECT_EQ(r.body_limit, server::kNoBody);
    } else {
      EXPECT_GT(r.body_limit, 0u);
    }
    if (r.body_limit == server::kServerMaxBody) {
      // Bulk bodies: writes, campaign events, and uploaded ID lists to match.
      EXPECT_TRUE(r.pattern == "/v1/ingest" || r.pattern == "/v1/assign" || r.pattern == "/v1/match" ||
                  r.pattern == "/v1/feedback");
    }
    std::set<std::string_view> params(r.params.begin(), r.params.end());
    EXPECT_EQ(params.size(), r.params.size()) << "a parameter listed twice";
  }
}

TEST(RouteTable, MatchesTheOpenApiDocument) {
  const json doc = json::parse(server::openapi_document());
  EXPECT_EQ(doc.at("openapi").get<std::string>().substr(0, 4), "3.1.");
  std::set<std::string> in_doc;
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const auto& [method, op] : item.items()) {
      if (method == "parameters" || method == "summary" || method == "description") continue;
      in_doc.insert(upper(method) + " " + path);
    }
  }
  std::set<std::string> in_table;
  for (const Route& r : Api::routes()) {
    const std::string key = key_of(r.method, r.pattern);
    in_table.insert(key);
    SCOPED_TRACE(key);
    const std::string method = lower(http::to_string(r.method));
    ASSERT_TRUE(doc["paths"].contains(std::string(r.pattern)) && doc["paths"][std::string(r.pattern)].contains(method))
        << "no OpenAPI description";
    const json& op = doc["paths"][std::string(r.pattern)][method];
    EXPECT_FALSE(op.value("description", "").empty());
    EXPECT_FALSE(op.value("operationId", "").empty());
    EXPECT_EQ(op.value("x-crowd-scope", ""), server::scope_name(r.scope));
    std::set<std::string> doc_params;
    for (const auto& p : op.value("parameters", json::array())) {
      if (p.value("in", "") == "query") doc_params.insert(p.value("name", ""));
    }
    const std::set<std::string> row_params(r.params.begin(), r.params.end());
    EXPECT_EQ(doc_params, row_params);
  }
  EXPECT_EQ(in_doc, in_table) << "operations in docs/openapi.json and rows of the route table differ";
}

class RoutesInProcess : public ::testing::Test {
 protected:
  RoutesInProcess() : harness_({.tokens = sample_tokens(), .audit = true}) {}

  // A sample with its own token.
  ApiResult send(const RouteSample& s) {
    return harness_.call(s.method, s.target, s.body, s.content_type, s.token.empty() ? "" : token_of(s.token));
  }
  // The population loaded, with the all-scopes token.
  void load() {
    const auto r = harness_.call(http::verb::post, "/v1/ingest", sample_population(), "application/x-ndjson",
                                 token_of("all"));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  uint64_t users() {
    return json::parse(harness_.call(http::verb::get, "/healthz").body)["users"].get<uint64_t>();
  }
  // A request for `route` that passes admission, with the all-scopes token.
  ApiResult probe(const Route& route, const std::string& target, const std::string& body = "",
                  const std::string& token = token_of("all")) {
    return harness_.call(route.method, target, body, "application/json", token);
  }

  ApiHarness harness_;
};

TEST_F(RoutesInProcess, EverySampleAnswersAsExpected) {
  std::set<std::string> succeeded;
  for (const auto& s : route_samples()) {
    const auto r = send(s);
    EXPECT_EQ(r.status, s.status) << http::to_string(s.method) << " " << s.target << " -> " << r.body;
    EXPECT_FALSE(r.content_type.empty());
    if (r.content_type == "application/json") {
      EXPECT_TRUE(json::accept(r.body)) << s.target << " -> " << r.body;
    }
    if (r.status >= 400) {
      EXPECT_TRUE(json::parse(r.body)["error"]["code"].is_string()) << r.body;
    }
    if (r.status < 300) {
      const auto url = boost::urls::parse_origin_form(s.target);
      ASSERT_TRUE(url);
      const auto m = server::match_route(Api::routes(), s.method, *url);
      ASSERT_NE(m.route, nullptr) << s.target;
      succeeded.insert(key_of(m.route->method, m.route->pattern));
    }
  }
  for (const Route& r : Api::routes()) {
    EXPECT_TRUE(succeeded.contains(key_of(r.method, r.pattern))) << key_of(r.method, r.pattern) << " has no sample";
  }
}

TEST_F(RoutesInProcess, EveryRowChecksItsScope) {
  load();
  const std::map<server::Scope, std::string> scopes = {{server::kScopeRead, "read"},
                                                        {server::kScopeExport, "export"},
                                                        {server::kScopeWrite, "write"},
                                                        {server::kScopeAdmin, "admin"}};
  for (const Route& r : Api::routes()) {
    const std::string target = concrete(r);
    SCOPED_TRACE(key_of(r.method, target));
    const auto anonymous = probe(r, target, "", "");
    if (r.scope == server::kScopeNone) {
      EXPECT_NE(anonymous.status, 401);
      continue;
    }
    EXPECT_EQ(anonymous.status, 401);
    EXPECT_EQ(anonymous.www_authenticate, R"(Bearer realm="crowd")");
    EXPECT_EQ(probe(r, target, "", "not-a-token-of-this-server").status, 401);
    for (const auto& [scope, name] : scopes) {
      const auto r2 = probe(r, target, "", token_of(name));
      if (scope == r.scope) {
        EXPECT_NE(r2.status, 401) << name;
        EXPECT_NE(r2.status, 403) << name << ": " << r2.body;
      } else {
        EXPECT_EQ(r2.status, 403) << name;
        EXPECT_EQ(json::parse(r2.body)["error"]["code"], "forbidden");
        EXPECT_NE(r2.body.find(std::string(server::scope_name(r.scope))), std::string::npos) << r2.body;
      }
    }
  }
  // No route: any valid token learns that, no token does not.
  EXPECT_EQ(harness_.call(http::verb::get, "/v1/nothing").status, 401);
  EXPECT_EQ(harness_.call(http::verb::get, "/v1/nothing", "", "", token_of("read")).status, 404);
}

TEST_F(RoutesInProcess, EveryRowRefusesABodyOverItsLimit) {
  load();
  const uint64_t before = users();
  for (const Route& r : Api::routes()) {
    const std::size_t limit = server::body_limit(r, 2'000'000);
    SCOPED_TRACE(key_of(r.method, r.pattern));
    const auto over = probe(r, concrete(r), std::string(limit + 1, ' '));
    EXPECT_EQ(over.status, 413) << over.body;
    EXPECT_EQ(json::parse(over.body)["error"]["code"], "too_large");
  }
  EXPECT_EQ(users(), before);
}

TEST_F(RoutesInProcess, EveryRowRefusesUnknownUrlParameters) {
  load();
  for (const Route& r : Api::routes()) {
    SCOPED_TRACE(key_of(r.method, r.pattern));
    const auto res = probe(r, concrete(r) + "?surprise=1");
    EXPECT_EQ(res.status, 400) << res.body;
    EXPECT_NE(res.body.find("surprise"), std::string::npos) << res.body;
  }
}

TEST_F(RoutesInProcess, AMethodNoRowTakesIs405WithAllow) {
  std::map<std::string, std::set<std::string>> methods;  // by concrete path
  for (const Route& r : Api::routes()) methods[concrete(r)].insert(std::string(http::to_string(r.method)));
  for (const auto& [path, allowed] : methods) {
    // OPTIONS: a method no row takes (PATCH is one since issue 16).
    const auto res = harness_.call(http::verb::options, path, "", "", token_of("all"));
    EXPECT_EQ(res.status, 405) << path;
    std::set<std::string> allow;
    for (std::size_t at = 0; at < res.allow.size();) {
      const auto comma = std::min(res.allow.find(", ", at), res.allow.size());
      allow.insert(res.allow.substr(at, comma - at));
      at = comma + 2;
    }
    EXPECT_EQ(allow, allowed) << path;
  }
}

TEST_F(RoutesInProcess, AuditedRowsAndOnlyTheyWriteAuditLines) {
  for (const auto& s : route_samples()) {
    const auto url = boost::urls::parse_origin_form(s.target);
    ASSERT_TRUE(url);
    const auto m = server::match_route(Api::routes(), s.method, *url);
    const std::size_t before = harness_.audit_lines().size();
    send(s);
    const std::size_t written = harness_.audit_lines().size() - before;
    // A lookalike that saves its result is a write, and audited as one. A
    // request refused before authentication (401) writes nothing.
    const bool saves = s.target == "/v1/lookalike" && s.body.find("save_as") != std::string::npos;
    const bool audited =
        m.route != nullptr && (m.route->audited == server::Audited::kYes || saves) && s.status != 401;
    EXPECT_EQ(written, audited ? 1u : 0u) << http::to_string(s.method) << " " << s.target;
  }
}

}  // namespace
}  // namespace crowd::test
