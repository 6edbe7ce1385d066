// Privacy floors (--min-export-size K) and their holes (issue 14, item 6), in
// process: (a) insight lists no tag held by fewer than K of the crowd, so a
// tiny crowd's tags stay unknown; (b) an export that differs from one of the
// same caller's recent exports by fewer than K users is refused; (c) a stats
// answer with a hidden count hides every figure, the sum too; (d) a token
// without read scope learns no sizes from its writes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "tests/server_support/api_harness.h"
#include "tests/server_support/route_samples.h"

namespace crowd::test {
namespace {

namespace http = boost::beast::http;
using json = nlohmann::json;

constexpr uint64_t kK = 50;

// Users 1..200 hold "base" (1..100 also "half:1", 101..200 "half:2") and a
// spend value; user 1 also holds "secret:a" and "secret:b"; user 1000 holds
// only "target", and no value.
std::string population() {
  std::string ndjson;
  for (int id = 1; id <= 200; ++id) {
    json tags = {"base", id <= 100 ? "half:1" : "half:2"};
    if (id == 1) {
      tags.push_back("secret:a");
      tags.push_back("secret:b");
    }
    ndjson += json{{"id", id}, {"tags", tags}, {"values", {{"spend", id}}}}.dump() + "\n";
  }
  ndjson += json{{"id", 1000}, {"tags", {"target"}}}.dump() + "\n";
  return ndjson;
}

class Privacy : public ::testing::Test {
 protected:
  Privacy() : h_({.tokens = sample_tokens(), .audit = true, .min_export_size = kK}) {
    const auto r = h_.call(http::verb::post, "/v1/ingest", population(), "application/x-ndjson", token_of("all"));
    EXPECT_EQ(r.status, 200) << r.body;
  }
  ApiResult post(const std::string& target, const json& body, const std::string& token) {
    return h_.call(http::verb::post, target, body.dump(), "application/json", token_of(token));
  }
  ApiResult csv(const std::string& q, const std::string& token = "export") {
    return h_.call(http::verb::get, "/v1/ids?format=csv&q=" + q, "", "", token_of(token));
  }
  ApiHarness h_;
};

// (a)
TEST_F(Privacy, InsightOnATinyCrowdNamesNoneOfItsTags) {
  const auto r = post("/v1/insight", {{"q", "secret:a"}}, "read");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("secret:b"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("half:1"), std::string::npos) << r.body;
  const auto answer = json::parse(r.body);
  EXPECT_EQ(answer["crowd"], "<50");
  for (const auto& f : answer["fields"]) EXPECT_TRUE(f["tags"].empty()) << f.dump();
}

TEST_F(Privacy, InsightOmitsRowsUnderKEvenWithMinCountZero) {
  const auto r = post("/v1/insight", {{"q", "base"}, {"min_count", 0}}, "read");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto answer = json::parse(r.body);
  EXPECT_EQ(answer["crowd"], 200);
  std::set<std::string> listed;
  for (const auto& f : answer["fields"]) {
    for (const auto& t : f["tags"]) {
      listed.insert(t["tag"].get<std::string>());
      EXPECT_TRUE(t["count"].is_number()) << t.dump();  // every listed row is at least K
    }
  }
  EXPECT_EQ(listed, (std::set<std::string>{"base", "half:1", "half:2"}));
}

// (b)
TEST_F(Privacy, AnExportDifferingFromARecentOneByFewerThanKUsersIsRefused) {
  ASSERT_EQ(csv("base").status, 200);
  // base plus one person: the difference would be that person.
  const auto plus = csv("base%20OR%20target");
  EXPECT_EQ(plus.status, 403) << plus.body;
  EXPECT_EQ(json::parse(plus.body)["error"]["code"], "difference_too_small");
  // The other direction: base minus one person.
  EXPECT_EQ(csv("base%20AND%20NOT%20secret:a").status, 403);
  // Every format and a first page of a paged export are checked alike.
  EXPECT_EQ(h_.call(http::verb::get, "/v1/ids?format=roaring&q=base%20OR%20target", "", "", token_of("export")).status,
            403);
  EXPECT_EQ(post("/v1/ids", {{"q", "base OR target"}, {"limit", 5}}, "export").status, 403);
  // The same crowd again reveals nothing new; crowds K or more apart pass.
  EXPECT_EQ(csv("base").status, 200);
  EXPECT_EQ(csv("half:1").status, 200);
  EXPECT_EQ(csv("half:2").status, 200);
  // The refusals are on record.
  int refused = 0;
  for (const auto& line : h_.audit_lines()) refused += json::parse(line)["status"] == 403;
  EXPECT_EQ(refused, 4);
}

TEST_F(Privacy, PagesOfAnAcceptedExportGoOn) {
  auto page = post("/v1/ids", {{"q", "base"}, {"limit", 60}}, "export");
  ASSERT_EQ(page.status, 200) << page.body;
  std::size_t ids = json::parse(page.body)["ids"].size();
  while (!json::parse(page.body)["cursor"].is_null()) {
    page = post("/v1/ids", {{"q", "base"}, {"limit", 60}, {"cursor", json::parse(page.body)["cursor"]}}, "export");
    ASSERT_EQ(page.status, 200) << page.body;
    ids += json::parse(page.body)["ids"].size();
  }
  EXPECT_EQ(ids, 200u);
}

// (c)
TEST_F(Privacy, StatsWithAHiddenCountHideTheSumToo) {
  // target's one user has no spend: a count of 0, hidden.
  const auto r = post("/v1/stats", {{"q", "target"}, {"attr", "spend"}}, "read");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto answer = json::parse(r.body);
  EXPECT_EQ(answer["count"], "<50");
  for (const char* field : {"sum", "min", "max", "mean", "p50", "p90", "p99"}) {
    EXPECT_TRUE(answer[field].is_null()) << field << ": " << r.body;
  }
  // A shown count keeps its figures.
  const auto shown = json::parse(post("/v1/stats", {{"q", "base"}, {"attr", "spend"}}, "read").body);
  EXPECT_EQ(shown["sum"], 200 * 201 / 2);
}

// (d)
TEST_F(Privacy, AWriteOnlyTokenLearnsNoSizes) {
  const json assign = {{"remove", {{{"id", 1}, {"tags", {"secret:a"}}}}}};
  const auto w = post("/v1/assign", assign, "write");
  ASSERT_EQ(w.status, 200) << w.body;
  EXPECT_EQ(json::parse(w.body), json::object()) << w.body;
  const auto all = post("/v1/assign", {{"add", {{{"id", 1}, {"tags", {"secret:a"}}}}}}, "all");
  EXPECT_EQ(json::parse(all.body), (json{{"added", 1}, {"removed", 0}}));

  const auto ingest = h_.call(http::verb::post, "/v1/ingest", R"({"id": 1, "tags": ["base"]})", "application/x-ndjson",
                              token_of("write"));
  EXPECT_EQ(json::parse(ingest.body), (json{{"users", 1}})) << ingest.body;

  const auto put = h_.call(http::verb::put, "/v1/crowds/probe", R"({"q": "secret:a"})", "application/json",
                           token_of("write"));
  ASSERT_EQ(put.status, 201) << put.body;
  EXPECT_FALSE(json::parse(put.body).contains("count")) << put.body;
  const auto refresh = h_.call(http::verb::post, "/v1/crowds/probe/refresh", "", "", token_of("write"));
  ASSERT_EQ(refresh.status, 200) << refresh.body;
  EXPECT_FALSE(json::parse(refresh.body).contains("count")) << refresh.body;
  EXPECT_FALSE(json::parse(refresh.body).contains("previous_count")) << refresh.body;
  // With read scope the answers are as before.
  const auto read_put = h_.call(http::verb::put, "/v1/crowds/probe", R"({"q": "secret:a"})", "application/json",
                                token_of("all"));
  EXPECT_EQ(json::parse(read_put.body)["count"], 1) << read_put.body;
}

}  // namespace
}  // namespace crowd::test
