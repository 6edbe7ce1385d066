// A router guards what a crowdd guards (docs/security.md, docs/cluster.md):
// with --tokens, --audit-log and --min-export-size given to the router, a
// caller without a token is refused (401), a token without the scope is
// refused (403), writes and exports are audited with the caller's name and
// never a user's ID, an export of a crowd under the floor is refused and
// analytics cells under it are hidden; /metrics is the admin's and shows
// the router's own requests and shards; an unknown path is 404, a wrong
// method 405, and a route routers do not serve yet is 501, by name.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/e2e_util.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/eventually.h"
#include "tests/support/local_cluster.h"
#include "tests/support/server_process.h"
#include "tests/support/tool_process.h"

namespace crowd::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kWriter = "writer-token-0123456789abcdef";
constexpr const char* kReader = "reader-token-0123456789abcdef";
constexpr const char* kExporter = "export-token-0123456789abcdef";
constexpr const char* kAdmin = "admin-token-0123456789abcdefgh";

TEST(RouterGuards, TokensFloorsAndTheAuditLogAtTheRouter) {
  CROWD_NEED_PROGRAM("nats-server");
  CROWD_NEED_PROGRAM("etcd");
  ScratchDir scratch("crowd-router-guards");
  const std::string tokens = scratch.path + "/tokens";
  {
    std::ofstream out(tokens);
    out << "etl write " << kWriter << "\nanalyst read " << kReader << "\npartner export " << kExporter << "\nops admin "
        << kAdmin << "\n";
  }
  ::chmod(tokens.c_str(), 0600);
  const std::string audit = scratch.path + "/audit.jsonl";
  LocalClusterOptions options;
  options.shards = 2;
  options.replicas = 1;
  options.routers = 1;
  options.router_flags = "--tokens " + tokens + " --audit-log " + audit + " --min-export-size 50";
  LocalCluster cluster(options);
  ASSERT_TRUE(cluster.ok()) << cluster.output();
  HttpConnection router(cluster.named("router").at(0).port());
  const auto bearer = [](const char* token) {
    return std::vector<std::pair<std::string, std::string>>{{"Authorization", std::string("Bearer ") + token}};
  };

  // 200 users tagged "all", 30 of them also "few" (under the floor of 50).
  std::string body;
  for (int i = 1; i <= 200; ++i) {
    body += json{{"id", 90'000'000'000 + i}, {"tags", i <= 30 ? json{"all", "few"} : json{"all"}}}.dump() + "\n";
  }
  EXPECT_EQ(router.request("POST", "/v1/ingest", body, "application/x-ndjson").status, 401);
  EXPECT_EQ(router.request("POST", "/v1/ingest", body, "application/x-ndjson", bearer(kReader)).status, 403);
  const auto written = router.request("POST", "/v1/ingest", body, "application/x-ndjson", bearer(kWriter));
  ASSERT_EQ(written.status, 200) << written.body;
  EXPECT_EQ(json::parse(written.body), (json{{"users", 200}})) << "a write-only token learns no counts";

  const auto count = router.request("GET", "/v1/count?q=few", "", "application/json", bearer(kReader));
  ASSERT_EQ(count.status, 200) << count.body;
  EXPECT_EQ(json::parse(count.body)["count"], 30) << "counts are not guarded";
  EXPECT_EQ(router.request("GET", "/v1/count?q=few", "", "application/json", bearer(kWriter)).status, 403);

  // Exports: refused under the floor, audited either way.
  const auto small = router.request("POST", "/v1/ids", R"({"q": "few"})", "application/json", bearer(kExporter));
  EXPECT_EQ(small.status, 403) << small.body;
  EXPECT_EQ(error_code(small), "crowd_too_small");
  const auto page = router.request("POST", "/v1/ids", R"({"q": "all", "limit": 500})", "application/json",
                                   bearer(kExporter));
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(json::parse(page.body)["ids"].size(), 200u);
  EXPECT_EQ(router.request("POST", "/v1/ids", R"({"q": "all"})", "application/json", bearer(kReader)).status, 403);

  // Analytics cells under the floor are hidden, as a crowdd hides them.
  const auto overlap = router.request("POST", "/v1/overlap", R"({"crowds": {"a": "all", "b": "few"}})",
                                      "application/json", bearer(kReader));
  ASSERT_EQ(overlap.status, 200) << overlap.body;
  const json o = json::parse(overlap.body);
  EXPECT_EQ(o["crowds"][0]["count"], 200);
  EXPECT_EQ(o["crowds"][1]["count"], "<50");
  EXPECT_TRUE(o["pairs"][0]["jaccard"].is_null());

  // Routing refusals.
  EXPECT_EQ(router.request("GET", "/v1/nowhere", "", "application/json", bearer(kReader)).status, 404);
  EXPECT_EQ(router.request("PUT", "/v1/count", "", "application/json", bearer(kReader)).status, 405);
  const auto lookalike = router.request("POST", "/v1/lookalike", R"({"seed": "few", "size": 10})",
                                        "application/json", bearer(kReader));
  EXPECT_EQ(lookalike.status, 501) << lookalike.body;
  EXPECT_NE(error_message(lookalike).find("/v1/lookalike"), std::string::npos) << lookalike.body;

  // Metrics: admin only; the router's own requests and what it knows of the shards.
  EXPECT_EQ(router.request("GET", "/metrics", "", "application/json", bearer(kReader)).status, 403);
  const auto metrics = router.request("GET", "/metrics", "", "application/json", bearer(kAdmin));
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_NE(metrics.body.find("crowd_requests_total{route=\"/v1/ingest\",status=\"200\"} 1\n"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("crowd_router_shard_replicas{shard=\"1\"} 1\n"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("crowd_router_shard_applied{shard=\"0\"} "), std::string::npos) << metrics.body;
  EXPECT_EQ(metrics.body.find("crowd_users "), std::string::npos) << "a router holds no index";

  // The audit log: the write and both exports by their callers' names; the
  // 401 is counted, not logged; no user's ID appears.
  std::string lines;
  ASSERT_TRUE(eventually([&] {
    lines = read_file(audit);
    return lines.find("\"partner\"") != std::string::npos;
  }, 10s)) << lines;
  std::size_t writes = 0;
  std::size_t exports = 0;
  std::istringstream in(lines);
  for (std::string line; std::getline(in, line);) {
    const json e = json::parse(line);
    if (e["route"] == "POST /v1/ingest" && e["status"] == 200) {
      EXPECT_EQ(e["token"], "etl");
      EXPECT_EQ(e["users"], 200);
      ++writes;
    }
    if (e["route"] == "POST /v1/ids" && e["token"] == "partner") {
      EXPECT_TRUE(e["status"] == 403 || (e["status"] == 200 && e["ids"] == 200)) << line;
      ++exports;
    }
  }
  EXPECT_EQ(writes, 1u) << lines;
  EXPECT_EQ(exports, 2u) << lines;
  EXPECT_EQ(lines.find("90000000001"), std::string::npos) << "a user's ID in the audit log";
}

}  // namespace
}  // namespace crowd::test
