// Hardening, end to end against the real crowdd (issue 5): bearer tokens and
// their scopes on every route, refusals to start, the audit log, the privacy
// guards (--min-export-size on exports and analytics cells, the lookalike
// seed minimum) and the right to erasure reaching every file on disk.
// Expectations come from the data each test sends, counted here.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/e2e_util.h"
#include "tests/support/server_process.h"

namespace crowd::test {
namespace {

using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

const std::string kReader = "reader-token-0000000000000001";
const std::string kExporter = "exporter-token-000000000000002";
const std::string kWriter = "writer-token-0000000000000003";
const std::string kAdmin = "admin-token-00000000000000004";
const std::string kAnalyst = "analyst-token-0000000000000005";  // read + write
const std::string kStranger = "stranger-token-00000000000006";  // in no file

std::string write_file(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  ::chmod(path.c_str(), 0600);
  return path;
}

std::string tokens_file(const std::string& dir) {
  return write_file(dir, "tokens",
                    "# name scopes token\n"
                    "reader read " + kReader + "\n"
                    "exporter export " + kExporter + "\n"
                    "writer write " + kWriter + "\n"
                    "ops admin " + kAdmin + "\n"
                    "analyst read,write " + kAnalyst + "\n");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

// Users 1..200 all have "all"; "t:N" is held by exactly N of them (N in
// kSizes), "v:N" by N of them too with a value of "spend" each.
const std::vector<int> kSizes = {1, 5, 9, 10, 11, 40, 120};

std::string sized_population() {
  std::string ndjson;
  for (int u = 1; u <= 200; ++u) {
    json line{{"id", u}, {"tags", json::array({"all"})}};
    for (const int n : kSizes) {
      if (u <= n) line["tags"].push_back("t:" + std::to_string(n));
    }
    if (u <= 9) line["values"] = {{"spend", u * 10}};
    ndjson += line.dump() + "\n";
  }
  return ndjson;
}

class Secured : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("crowd-security");
    audit_ = dir_ + "/audit.jsonl";
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{
        "--tokens", tokens_file(dir_), "--audit-log", audit_, "--data-dir", dir_ + "/data"});
    ASSERT_TRUE(server_->ok()) << server_->log();
    const auto r = call("POST", "/v1/ingest", sized_population(), kWriter, "application/x-ndjson");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  HttpResult call(const std::string& method, const std::string& target, const std::string& body,
                  const std::string& token, const std::string& type = "application/json") {
    presented_.insert(token);
    return server_->request(method, target, body, type, token.empty() ? Headers{} : bearer(token));
  }

  std::string dir_;
  std::string audit_;
  std::unique_ptr<ServerProcess> server_;
  std::set<std::string> presented_;
};

struct RouteCase {
  std::string method;
  std::string target;
  std::string body;
  std::string allowed;  // the one token of the five that may call it
  int ok_status = 200;
};

TEST_F(Secured, EveryRouteNeedsItsScope) {
  const std::vector<RouteCase> cases = {
      {"GET", "/v1/count?q=all", "", kReader},
      {"POST", "/v1/count", R"({"q": "t:40"})", kReader},
      {"GET", "/v1/tags?prefix=t:", "", kReader},
      {"GET", "/v1/fields", "", kReader},
      {"POST", "/v1/insight", R"({"q": "t:40"})", kReader},
      {"POST", "/v1/overlap", R"({"crowds": {"a": "t:40", "b": "t:120"}})", kReader},
      {"POST", "/v1/flow", R"({"from": {"a": "t:40"}, "to": {"b": "t:120"}})", kReader},
      {"POST", "/v1/funnel", R"({"steps": ["t:120", "t:40"]})", kReader},
      {"POST", "/v1/stats", R"({"q": "all", "attr": "spend"})", kReader},
      {"POST", "/v1/lookalike", R"({"seed": "t:40", "size": 20})", kReader},
      {"GET", "/v1/ids?q=t:40", "", kExporter},
      {"POST", "/v1/ids", R"({"q": "t:40", "limit": 5})", kExporter},
      {"GET", "/v1/ids?q=t:40&format=csv", "", kExporter},
      {"GET", "/v1/ids?q=t:40&format=roaring", "", kExporter},
      {"POST", "/v1/ingest", "{\"id\": 1000, \"tags\": [\"new\"]}\n", kWriter},
      {"POST", "/v1/assign", R"({"add": [{"id": 1001, "tags": ["new"]}]})", kWriter},
      {"DELETE", "/v1/users/1001", "", kWriter},
      {"PUT", "/v1/crowds/fans", R"({"q": "t:40"})", kWriter, 201},
      {"GET", "/v1/crowds/fans", "", kReader},
      {"GET", "/v1/crowds", "", kReader},
      {"POST", "/v1/crowds/fans/refresh", "", kWriter},
      {"DELETE", "/v1/crowds/fans", "", kWriter},
      {"GET", "/metrics", "", kAdmin},
      {"POST", "/v1/admin/snapshot", "", kAdmin},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target);
    // No header, a stranger's token, and a malformed header: 401, with the
    // challenge, whatever the route.
    for (const auto& headers :
         {Headers{}, bearer(kStranger), Headers{{"Authorization", "Basic " + kReader}},
          Headers{{"Authorization", "Bearer " + kReader + "x"}}}) {
      const auto r = server_->request(c.method, c.target, c.body, "application/json", headers);
      EXPECT_EQ(r.status, 401) << r.body;
      EXPECT_EQ(error_code(r), "unauthorized");
      EXPECT_EQ(r.headers.count("www-authenticate") ? r.headers.at("www-authenticate") : "", "Bearer realm=\"crowd\"");
    }
    // Every other token: 403 naming the token and the scope, never the token.
    for (const auto& token : {kReader, kExporter, kWriter, kAdmin}) {
      if (token == c.allowed) continue;
      const auto r = call(c.method, c.target, c.body, token);
      EXPECT_EQ(r.status, 403) << r.body;
      EXPECT_EQ(error_code(r), "forbidden");
      EXPECT_EQ(r.body.find(token), std::string::npos);
    }
    const auto r = call(c.method, c.target, c.body, c.allowed,
                        c.target == "/v1/ingest" ? "application/x-ndjson" : "application/json");
    EXPECT_EQ(r.status, c.ok_status) << r.body;
  }
  // Health stays open (load balancers); an unknown path needs a valid token.
  EXPECT_EQ(server_->get("/healthz").status, 200);
  EXPECT_EQ(server_->get("/v1/nothing").status, 401);
  EXPECT_EQ(call("GET", "/v1/nothing", "", kWriter).status, 404);
  // A lookalike that saves is a write as well as a read.
  const std::string save = R"({"seed": "t:40", "size": 20, "save_as": "similar"})";
  const auto read_only = call("POST", "/v1/lookalike", save, kReader);
  EXPECT_EQ(read_only.status, 403) << read_only.body;
  EXPECT_EQ(call("GET", "/v1/crowds/similar", "", kReader).status, 404);
  EXPECT_EQ(call("POST", "/v1/lookalike", save, kAnalyst).status, 200);
  EXPECT_EQ(call("GET", "/v1/crowds/similar", "", kReader).status, 200);
}

TEST_F(Secured, TokensAreNeverWrittenAnywhere) {
  for (const auto& token : {kReader, kExporter, kWriter, kAdmin, kStranger, std::string("short")}) {
    (void)call("GET", "/v1/ids?q=all&format=csv", "", token);
    (void)call("POST", "/v1/assign", R"({"add": [{"id": 7, "tags": ["x"]}]})", token);
    (void)call("GET", "/v1/count?q=nope", "", token);
  }
  const std::string log = server_->log();
  const std::string audit = read_file(audit_);
  EXPECT_FALSE(audit.empty());
  for (const auto& token : presented_) {
    if (token.empty()) continue;
    EXPECT_EQ(log.find(token), std::string::npos) << token;
    EXPECT_EQ(audit.find(token), std::string::npos) << token;
  }
}

TEST(StartRefusals, NoNonLoopbackListenerWithoutTokensAndNoBadTokenFile) {
  ServerProcess open_to_all({"--host", "0.0.0.0"}, 20);
  EXPECT_FALSE(open_to_all.ok());
  EXPECT_NE(open_to_all.log().find("refusing to listen on 0.0.0.0 without --tokens"), std::string::npos)
      << open_to_all.log();

  const auto dir = temp_dir("crowd-badtokens");
  const std::string weak = "tooshort";
  ServerProcess weak_token({"--tokens", write_file(dir, "weak", "a read " + weak + "\n")}, 20);
  EXPECT_FALSE(weak_token.ok());
  EXPECT_NE(weak_token.log().find("line 1"), std::string::npos) << weak_token.log();
  EXPECT_EQ(weak_token.log().find(weak), std::string::npos);

  ServerProcess unknown_scope({"--tokens", write_file(dir, "scope", "a reed " + kReader + "\n")}, 20);
  EXPECT_FALSE(unknown_scope.ok());
  EXPECT_NE(unknown_scope.log().find("unknown scope"), std::string::npos) << unknown_scope.log();

  ServerProcess missing({"--tokens", dir + "/no-such-file"}, 20);
  EXPECT_FALSE(missing.ok());
  std::filesystem::remove_all(dir);
}

std::vector<json> audit_lines(const std::string& path) {
  std::vector<json> out;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) {
    auto j = json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << line;
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

TEST_F(Secured, EveryExportAndWriteIsAudited) {
  const auto before = audit_lines(audit_).size();  // the set-up's ingest
  ASSERT_EQ(before, 1u);
  EXPECT_EQ(call("GET", "/v1/count?q=all", "", kReader).status, 200);       // a read: not audited
  EXPECT_EQ(call("GET", "/v1/ids?q=t:40&limit=7", "", kExporter).status, 200);
  EXPECT_EQ(call("GET", "/v1/ids?q=t:120&format=csv", "", kExporter).status, 200);
  EXPECT_EQ(call("GET", "/v1/ids?q=t:11&format=roaring", "", kExporter).status, 200);
  EXPECT_EQ(call("GET", "/v1/ids?q=t:40&format=csv", "", kReader).status, 403);  // refused: audited
  EXPECT_EQ(call("POST", "/v1/assign", R"({"add": [{"id": 5, "tags": ["x", "y"]}, {"id": 6, "tags": ["x"]}]})",
                 kWriter).status,
            200);
  const uint64_t erased = 987654321012345ULL;
  EXPECT_EQ(call("POST", "/v1/assign", json{{"add", {{{"id", erased}, {"tags", {"x"}}}}}}.dump(), kWriter).status,
            200);
  EXPECT_EQ(call("DELETE", "/v1/users/" + std::to_string(erased), "", kWriter).status, 200);
  EXPECT_EQ(call("PUT", "/v1/crowds/vip", R"({"q": "t:40 AND NOT t:10"})", kWriter).status, 201);

  const auto lines = audit_lines(audit_);
  ASSERT_EQ(lines.size(), before + 8) << read_file(audit_);
  for (const auto& l : lines) {
    for (const char* key : {"time", "token", "route", "status", "query", "ids", "users"}) {
      EXPECT_TRUE(l.contains(key)) << key << " in " << l.dump();
    }
    EXPECT_EQ(l["time"].get<std::string>().size(), std::string("2026-11-23T07:12:00.123Z").size());
  }
  auto expect = [&](std::size_t i, const std::string& token, const std::string& route, int status,
                    const json& query, uint64_t ids, uint64_t users) {
    SCOPED_TRACE(lines[i].dump());
    EXPECT_EQ(lines[i]["token"], token);
    EXPECT_EQ(lines[i]["route"], route);
    EXPECT_EQ(lines[i]["status"], status);
    EXPECT_EQ(lines[i]["query"], query);
    EXPECT_EQ(lines[i]["ids"], ids);
    EXPECT_EQ(lines[i]["users"], users);
  };
  expect(0, "writer", "POST /v1/ingest", 200, nullptr, 0, 200);
  expect(1, "exporter", "GET /v1/ids", 200, "t:40", 7, 0);  // a page of 7
  expect(2, "exporter", "GET /v1/ids", 200, "t:120", 120, 0);
  expect(3, "exporter", "GET /v1/ids", 200, "t:11", 11, 0);
  expect(4, "reader", "GET /v1/ids", 403, "t:40", 0, 0);
  expect(5, "writer", "POST /v1/assign", 200, nullptr, 0, 2);
  expect(7, "writer", "DELETE /v1/users/{id}", 200, nullptr, 0, 1);
  expect(8, "writer", "PUT /v1/crowds/vip", 201, "@vip = t:40 AND NOT t:10", 0, 0);
  // The erased user's ID is in no audit line.
  EXPECT_EQ(read_file(audit_).find(std::to_string(erased)), std::string::npos);

  // Append-only across a restart: the old lines stay, new ones follow.
  const std::string old_text = read_file(audit_);
  EXPECT_EQ(server_->stop(), 0);
  ServerProcess again({"--tokens", dir_ + "/tokens", "--audit-log", audit_, "--data-dir", dir_ + "/data"});
  ASSERT_TRUE(again.ok()) << again.log();
  EXPECT_EQ(again.request("POST", "/v1/ids", R"({"q": "t:10"})", "application/json", bearer(kExporter)).status,
            200);
  const std::string new_text = read_file(audit_);
  ASSERT_TRUE(new_text.starts_with(old_text));
  const auto last = json::parse(new_text.substr(old_text.size()));
  EXPECT_EQ(last["route"], "POST /v1/ids");
  EXPECT_EQ(last["ids"], 10);
  struct stat st {};
  ASSERT_EQ(::stat(audit_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);  // 0600: not readable by others
}

class Guarded : public ::testing::Test {
 protected:
  static constexpr int kMin = 10;
  void start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--min-export-size", std::to_string(kMin)};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ServerProcess>(args);
    ASSERT_TRUE(server_->ok()) << server_->log();
    ASSERT_EQ(server_->post("/v1/ingest", sized_population(), "application/x-ndjson").status, 200);
  }
  // The cell as the guard must write it: "<10" below the minimum.
  static json cell(uint64_t n) {
    std::string hidden("<");  // appended: GCC 12 warns falsely (-Wrestrict) on "<" + string
    hidden += std::to_string(kMin);
    return n < kMin ? json(hidden) : json(n);
  }
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(Guarded, NoExportOfACrowdBelowTheMinimumInAnyFormat) {
  start();
  // The t:N are nested (t:N inside t:M for N < M): two of them differ by
  // |N - M| users, and an export within kMin users of one already accepted
  // is refused as a difference (export_history.h).
  std::vector<int> accepted;
  for (const int n : kSizes) {
    const std::string q = "t:" + std::to_string(n);
    SCOPED_TRACE(q);
    const bool small = n < kMin;
    const bool close = std::any_of(accepted.begin(), accepted.end(), [&](int m) { return std::abs(n - m) < kMin; });
    const bool refused = small || close;
    const auto page = server_->post("/v1/ids", json{{"q", q}, {"limit", 1}}.dump());
    const auto get_page = server_->get("/v1/ids?q=" + url_encode(q));
    const auto csv = server_->get("/v1/ids?q=" + url_encode(q) + "&format=csv");
    const auto roaring = server_->get("/v1/ids?q=" + url_encode(q) + "&format=roaring");
    for (const auto* r : {&page, &get_page, &csv, &roaring}) {
      EXPECT_EQ(r->status, refused ? 403 : 200) << r->body;
      if (refused) {
        EXPECT_EQ(error_code(*r), small ? "crowd_too_small" : "difference_too_small");
      }
    }
    if (!refused) {
      accepted.push_back(n);
      EXPECT_EQ(std::count(csv.body.begin(), csv.body.end(), '\n'), n);
    }
    // Counting is not an export: sizes are what a brand edits by.
    EXPECT_EQ(count_of(*server_, q), static_cast<uint64_t>(n));
  }
  // A crowd that is empty is below any minimum too.
  EXPECT_EQ(server_->get("/v1/ids?q=t:1%20AND%20NOT%20t:5&format=csv").status, 403);
}

TEST_F(Guarded, AnalyticsCellsBelowTheMinimumAreSuppressed) {
  start();
  const auto insight = body_json(server_->post("/v1/insight", R"({"q": "t:120", "fields": ["t"]})"));
  EXPECT_EQ(insight["crowd"], 120);
  std::map<std::string, json> rows;
  for (const auto& row : insight["fields"][0]["tags"]) rows[row["tag"]] = row;
  for (const int n : kSizes) {
    // A tag held by fewer than kMin of the crowd is not listed at all: shown
    // as "<10" it would still say that someone in the crowd holds it.
    if (n < kMin) {
      EXPECT_FALSE(rows.contains("t:" + std::to_string(n)));
      continue;
    }
    const auto& row = rows.at("t:" + std::to_string(n));
    SCOPED_TRACE(row.dump());
    // Every t:N with N <= 120 lies inside t:120: its count in the crowd and
    // in the population are both N.
    EXPECT_EQ(row["count"], n);
    EXPECT_EQ(row["population"], n);
    EXPECT_DOUBLE_EQ(row["share"].get<double>(), n / 120.0);
    EXPECT_DOUBLE_EQ(row["tgi"].get<double>(), 100.0 * (n / 120.0) / (n / 200.0));
  }
  // A crowd below the minimum hides itself and names none of its tags.
  const auto small = body_json(server_->post("/v1/insight", R"({"q": "t:9", "fields": ["t"]})"));
  EXPECT_EQ(small["crowd"], "<10");
  EXPECT_TRUE(small["fields"][0]["tags"].empty()) << small.dump();

  // Overlap of t:5, t:11, t:40: sizes and intersections are min(a, b).
  const auto overlap =
      body_json(server_->post("/v1/overlap", R"({"crowds": {"a": "t:5", "b": "t:11", "c": "t:40"}})"));
  EXPECT_EQ(overlap["crowds"][0]["count"], "<10");
  EXPECT_EQ(overlap["crowds"][1]["count"], 11);
  for (const auto& pair : overlap["pairs"]) {
    const std::map<std::string, int> size = {{"a", 5}, {"b", 11}, {"c", 40}};
    const int both = std::min(size.at(pair["a"]), size.at(pair["b"]));
    const int either = std::max(size.at(pair["a"]), size.at(pair["b"]));
    EXPECT_EQ(pair["intersection"], cell(both)) << pair.dump();
    EXPECT_EQ(pair["union"], cell(either)) << pair.dump();
    EXPECT_EQ(pair["jaccard"].is_null(), both < kMin) << pair.dump();
  }
  // Venn regions: only a∧b∧c (5), b∧c−a (6), c−a−b (29) are non-empty.
  for (const auto& region : overlap["regions"]) {
    const auto& names = region["crowds"];
    const uint64_t expected = names == json::array({"a", "b", "c"}) ? 5
                              : names == json::array({"b", "c"})    ? 6
                              : names == json::array({"c"})         ? 29
                                                                    : 0;
    EXPECT_EQ(region["count"], cell(expected)) << region.dump();
  }
  // Flow and funnel cells, and stats over fewer values than the minimum.
  const auto flow = body_json(server_->post("/v1/flow", R"({"from": {"x": "t:11"}, "to": {"y": "t:5"}})"));
  EXPECT_EQ(flow["matrix"][0][0], "<10");  // 5 stayed
  EXPECT_EQ(flow["from"][0]["left"], "<10");  // 6 left
  const auto funnel = body_json(server_->post("/v1/funnel", R"({"steps": ["t:40", "t:11", "t:5"]})"));
  EXPECT_EQ(funnel["steps"][1]["count"], 11);
  EXPECT_EQ(funnel["steps"][2]["count"], "<10");
  EXPECT_TRUE(funnel["steps"][2]["from_previous"].is_null());
  const auto stats = body_json(server_->post("/v1/stats", R"({"q": "all", "attr": "spend"})"));
  EXPECT_EQ(stats["count"], "<10");  // 9 users have a value
  for (const char* key : {"sum", "min", "max", "mean", "p50", "p90", "p99"}) EXPECT_TRUE(stats[key].is_null());
}

TEST_F(Guarded, LookalikeSeedsBelowTheMinimumAreRefused) {
  start();
  const auto small = server_->post("/v1/lookalike", R"({"seed": "t:9", "size": 20})");
  EXPECT_EQ(small.status, 403) << small.body;
  EXPECT_EQ(error_code(small), "crowd_too_small");
  EXPECT_EQ(server_->post("/v1/lookalike", R"({"seed": "t:10", "size": 20})").status, 200);
  // The same guard in the language, with the position of lookalike().
  const auto in_query = count_request(*server_, "all AND lookalike(t:9, 20)");
  EXPECT_EQ(in_query.status, 403) << in_query.body;
  EXPECT_EQ(error_code(in_query), "crowd_too_small");
  EXPECT_EQ(body_json(in_query)["error"]["position"], 8);
  EXPECT_EQ(count_of(*server_, "lookalike(t:10, 20)"), 20u);
  // A saved expansion whose seed shrank below the minimum is not refreshed.
  ASSERT_EQ(server_->post("/v1/lookalike", R"({"seed": "t:10", "size": 20, "save_as": "like"})").status, 200);
  ASSERT_EQ(server_->request("DELETE", "/v1/users/1").status, 200);
  const auto refresh = server_->post("/v1/crowds/like/refresh", "");
  EXPECT_EQ(refresh.status, 403) << refresh.body;
  EXPECT_EQ(count_of(*server_, "@like"), 20u);
}

TEST_F(Guarded, TheSeedMinimumCanBeSetApart) {
  start({"--min-seed-size", "0"});
  EXPECT_EQ(server_->post("/v1/lookalike", R"({"seed": "t:1", "size": 20})").status, 200);
  EXPECT_EQ(server_->get("/v1/ids?q=t:1&format=csv").status, 403);  // exports still guarded
}

// A full audit volume (/dev/full: every write fails with ENOSPC) is an alarm
// in /metrics, and what it blocks is the documented choice: exports and
// writes answer 503 (issue 14, item 1). The write whose own line failed
// stays acknowledged: it was durable before its line was written.
TEST(AuditVolume, AFullAuditVolumeIsAnAlarmAndStopsExportsAndWrites) {
  ServerProcess s({"--audit-log", "/dev/full"});
  ASSERT_TRUE(s.ok()) << s.log();
  ASSERT_EQ(s.post("/v1/ingest", R"({"id": 1, "tags": ["a"]})", "application/x-ndjson").status, 200);
  const auto metrics = s.get("/metrics").body;
  EXPECT_NE(metrics.find("\ncrowd_audit_log_failing 1\n"), std::string::npos) << metrics;
  const auto write = s.post("/v1/assign", R"({"add": [{"id": 2, "tags": ["a"]}]})");
  EXPECT_EQ(write.status, 503) << write.body;
  EXPECT_EQ(count_of(s, "a"), 1u);  // the refused write changed nothing
  EXPECT_EQ(s.get("/v1/ids?q=a&format=csv").status, 503);
}

// Right to erasure: after DELETE and the next snapshot, the user's ID is in
// no file of the data directory, in neither binary nor decimal form.
TEST(Erasure, ADeletedIdIsNowhereOnDiskAfterTheNextSnapshot) {
  const auto dir = temp_dir("crowd-erasure");
  const uint64_t erased = 0x5A17C3D2E4F6A8B9ULL;
  const uint64_t kept = 0x6B28D4E3F5A7B9CAULL;
  auto holders = [&](uint64_t id) {
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<char>(id >> (8 * i));
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      const auto text = read_file(e.path().string());
      if (text.find(bytes) != std::string::npos || text.find(std::to_string(id)) != std::string::npos) {
        files.push_back(e.path().filename().string());
      }
    }
    return files;
  };
  {
    ServerProcess s({"--data-dir", dir + "/data", "--audit-log", dir + "/audit.jsonl"});
    ASSERT_TRUE(s.ok()) << s.log();
    const std::string ndjson = json{{"id", std::to_string(erased)}, {"tags", {"seg:a", "seg:b"}},
                                    {"values", {{"spend", 7}}}}.dump() + "\n" +
                               json{{"id", std::to_string(kept)}, {"tags", {"seg:a"}}}.dump() + "\n";
    ASSERT_EQ(s.post("/v1/ingest", ndjson, "application/x-ndjson").status, 200);
    ASSERT_EQ(s.request("PUT", "/v1/crowds/both", R"({"q": "seg:a"})").status, 201);
    ASSERT_EQ(s.post("/v1/admin/snapshot", "").status, 200);
    EXPECT_FALSE(holders(erased).empty());  // the search finds it before
    ASSERT_EQ(s.request("DELETE", "/v1/users/" + std::to_string(erased)).status, 200);
    ASSERT_EQ(s.post("/v1/admin/snapshot", "").status, 200);
    EXPECT_EQ(holders(erased), std::vector<std::string>{});
    EXPECT_FALSE(holders(kept).empty());
    EXPECT_EQ(s.stop(), 0);
  }
  ServerProcess s({"--data-dir", dir + "/data"});
  ASSERT_TRUE(s.ok()) << s.log();
  EXPECT_EQ(count_of(s, "seg:a"), 1u);
  EXPECT_EQ(count_of(s, "@both"), 1u);
  EXPECT_EQ(s.request("DELETE", "/v1/users/" + std::to_string(erased)).status, 404);
  EXPECT_EQ(csv_ids(s, "seg:a"), std::set<uint64_t>{kept});
  EXPECT_EQ(s.stop(), 0);
  EXPECT_EQ(holders(erased), std::vector<std::string>{});
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace crowd::test
