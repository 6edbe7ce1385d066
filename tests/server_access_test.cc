// Access control's pieces on their own: the token file's grammar and every
// refusal, bearer header parsing, scope requirements of each route, and the
// constant-time comparison's answers (its timing is by construction: see
// access.cc; a timing test would only measure the machine's noise).
#include "server/access.h"

#include <gtest/gtest.h>

#include <boost/url/parse.hpp>

#include <string>

#include "server/api.h"
#include "server/route.h"

namespace crowd::server {
namespace {

std::string refusal(std::string_view text) {
  std::string error;
  EXPECT_FALSE(TokenTable::parse(text, error));
  EXPECT_FALSE(error.empty());
  return error;
}

TEST(TokenTable, ReadsNamesScopesAndTokens) {
  std::string error;
  const auto table = TokenTable::parse(
      "# name scopes token\n"
      "\n"
      "console   read,export   0123456789abcdef-console\r\n"
      "   etl write 0123456789abcdef+etl/==\n"
      "ops read,export,write,admin 0123456789abcdef~ops\n",
      error);
  ASSERT_TRUE(table) << error;
  EXPECT_EQ(table->size(), 3u);
  const Principal* console = table->find("0123456789abcdef-console");
  ASSERT_NE(console, nullptr);
  EXPECT_EQ(console->name, "console");
  EXPECT_TRUE(console->may(kScopeRead));
  EXPECT_TRUE(console->may(kScopeExport));
  EXPECT_FALSE(console->may(kScopeWrite));
  EXPECT_FALSE(console->may(kScopeAdmin));
  EXPECT_TRUE(console->may(kScopeNone));
  const Principal* etl = table->find("0123456789abcdef+etl/==");
  ASSERT_NE(etl, nullptr);
  EXPECT_EQ(etl->scopes, kScopeWrite);
  EXPECT_EQ(table->find("0123456789abcdef~ops")->scopes, kScopeRead | kScopeExport | kScopeWrite | kScopeAdmin);
  // Near misses: a prefix, an extension, another case, empty.
  EXPECT_EQ(table->find("0123456789abcdef-consol"), nullptr);
  EXPECT_EQ(table->find("0123456789abcdef-consolee"), nullptr);
  EXPECT_EQ(table->find("0123456789ABCDEF-console"), nullptr);
  EXPECT_EQ(table->find(""), nullptr);
}

TEST(TokenTable, RefusesBadFilesNamingTheLineNeverTheToken) {
  EXPECT_NE(refusal("").find("no token"), std::string::npos);
  EXPECT_NE(refusal("# only a comment\n").find("no token"), std::string::npos);
  EXPECT_NE(refusal("a read\n").find("line 1"), std::string::npos);
  EXPECT_NE(refusal("a read tok-0123456789abcdef extra\n").find("three fields"), std::string::npos);
  EXPECT_NE(refusal("\na reed tok-0123456789abcdef\n").find("line 2: unknown scope \"reed\""), std::string::npos);
  EXPECT_NE(refusal("a read, tok-0123456789abcdef\n").find("unknown scope"), std::string::npos);
  EXPECT_NE(refusal("a/b read tok-0123456789abcdef\n").find("name"), std::string::npos);
  const std::string short_token = refusal("a read short-secret\n");
  EXPECT_NE(short_token.find("at least 16"), std::string::npos);
  EXPECT_EQ(short_token.find("short-secret"), std::string::npos);
  const std::string bad_chars = refusal("a read tok-0123456789abcdef\"x\n");
  EXPECT_EQ(bad_chars.find("tok-0123456789abcdef"), std::string::npos);
  EXPECT_NE(refusal("a read tok-0123456789abcdef\na write tok-0123456789abcdeg\n").find("given twice"),
            std::string::npos);
  const std::string reused = refusal("a read tok-0123456789abcdef\nb write tok-0123456789abcdef\n");
  EXPECT_NE(reused.find("line 2"), std::string::npos);
  EXPECT_EQ(reused.find("tok-0123456789abcdef"), std::string::npos);
}

TEST(Bearer, ParsesTheSchemeCaseInsensitively) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer   abc  "), "abc");
  EXPECT_EQ(bearer_token("BEARER abc"), "abc");
  EXPECT_FALSE(bearer_token(""));
  EXPECT_FALSE(bearer_token("Bearer"));
  EXPECT_FALSE(bearer_token("Bearer "));
  EXPECT_FALSE(bearer_token("Bearer    "));
  EXPECT_FALSE(bearer_token("Basic YWxhZGRpbjpvcGVuc2VzYW1l"));
  EXPECT_FALSE(bearer_token("Bearerabc"));
}

TEST(ConstantTimeEqual, AnswersLikeEquality) {
  const std::string secret = "0123456789abcdef";
  EXPECT_TRUE(constant_time_equal(secret, secret));
  EXPECT_FALSE(constant_time_equal(secret, "0123456789abcdeF"));
  EXPECT_FALSE(constant_time_equal(secret, "1123456789abcdef"));
  EXPECT_FALSE(constant_time_equal(secret, "0123456789abcde"));
  EXPECT_FALSE(constant_time_equal(secret, "0123456789abcdef0"));
  // The secret repeated: equal bytes cycle, but the lengths differ.
  EXPECT_FALSE(constant_time_equal(secret, secret + secret));
  EXPECT_FALSE(constant_time_equal(secret, ""));
  EXPECT_FALSE(constant_time_equal("", ""));
}

// The scope each route needs, read through the route table the way the
// server reads it (match_route), against the scopes the contract names.
Scope scope_of(boost::beast::http::verb method, std::string_view target) {
  const auto url = boost::urls::parse_origin_form(target);
  EXPECT_TRUE(url) << target;
  const RouteMatch m = match_route(Api::routes(), method, *url);
  EXPECT_NE(m.route, nullptr) << target;
  return m.route != nullptr ? m.route->scope : Scope{0xff};
}

TEST(RequiredScope, FollowsTheRouteTable) {
  using http = boost::beast::http::verb;
  EXPECT_EQ(scope_of(http::get, "/healthz"), kScopeNone);
  EXPECT_EQ(scope_of(http::get, "/v1/openapi.json"), kScopeNone);
  for (const char* path : {"/v1/count", "/v1/insight", "/v1/overlap", "/v1/flow", "/v1/funnel", "/v1/stats",
                           "/v1/lookalike"}) {
    EXPECT_EQ(scope_of(http::post, path), kScopeRead) << path;
  }
  EXPECT_EQ(scope_of(http::get, "/v1/count?q=a"), kScopeRead);
  EXPECT_EQ(scope_of(http::get, "/v1/tags"), kScopeRead);
  EXPECT_EQ(scope_of(http::get, "/v1/fields"), kScopeRead);
  EXPECT_EQ(scope_of(http::get, "/v1/ids?q=a"), kScopeExport);
  EXPECT_EQ(scope_of(http::post, "/v1/ids"), kScopeExport);
  EXPECT_EQ(scope_of(http::post, "/v1/ingest"), kScopeWrite);
  EXPECT_EQ(scope_of(http::post, "/v1/assign"), kScopeWrite);
  EXPECT_EQ(scope_of(http::delete_, "/v1/users/u1"), kScopeWrite);
  EXPECT_EQ(scope_of(http::get, "/v1/crowds"), kScopeRead);
  EXPECT_EQ(scope_of(http::get, "/v1/crowds/c"), kScopeRead);
  EXPECT_EQ(scope_of(http::put, "/v1/crowds/c"), kScopeWrite);
  EXPECT_EQ(scope_of(http::delete_, "/v1/crowds/c"), kScopeWrite);
  EXPECT_EQ(scope_of(http::post, "/v1/crowds/c/refresh"), kScopeWrite);
  EXPECT_EQ(scope_of(http::get, "/metrics"), kScopeAdmin);
  EXPECT_EQ(scope_of(http::post, "/v1/admin/snapshot"), kScopeAdmin);
}

}  // namespace
}  // namespace crowd::server
