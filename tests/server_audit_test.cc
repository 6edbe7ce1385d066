// The audit log under attack (issue 14, item 1), in process: a request
// refused before authentication costs no disk, a long query costs a bounded
// line that still identifies it, the file rotates by size keeping a fixed
// number of old files, and a volume that cannot be written is an alarm in
// /metrics that stops exports and writes (503) without changing anything.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "tests/server_support/api_harness.h"
#include "tests/server_support/route_samples.h"

namespace crowd::test {
namespace {

namespace http = boost::beast::http;
using json = nlohmann::json;

uint64_t file_size(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

// The value of an unlabelled metric in /metrics, or -1 when absent.
double metric(ApiHarness& h, const std::string& name) {
  const auto r = h.call(http::verb::get, "/metrics", "", "", token_of("admin"));
  EXPECT_EQ(r.status, 200);
  const auto at = r.body.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(r.body.substr(at + name.size() + 2));
}

// A URL-encoded query of about `bytes` bytes of unknown tags, `t0|t1|...`:
// what the probe sent.
std::string long_query(std::size_t bytes) {
  std::string q = "t0";
  for (int i = 1; q.size() < bytes; ++i) q += "%7Ct" + std::to_string(i);
  return q;
}
std::size_t decoded_size(const std::string& encoded) {
  std::size_t n = encoded.size();
  for (std::size_t at = encoded.find('%'); at != std::string::npos; at = encoded.find('%', at + 1)) n -= 2;
  return n;
}

TEST(AuditLog, ARefusalBeforeAuthenticationWritesNothingAndIsCounted) {
  ApiHarness h({.tokens = sample_tokens(), .audit = true});
  const std::string target = "/v1/ids?format=csv&q=" + long_query(63'000);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(h.call(http::verb::get, target).status, 401);
    EXPECT_EQ(h.call(http::verb::get, target, "", "", "not-a-token-of-this-server").status, 401);
  }
  EXPECT_EQ(file_size(h.audit_path()), 0u);
  EXPECT_EQ(metric(h, "crowd_audit_unauthenticated_total"), 400);
  // A known caller without the scope is still on record.
  EXPECT_EQ(h.call(http::verb::get, target, "", "", token_of("read")).status, 403);
  ASSERT_EQ(h.audit_lines().size(), 1u);
  EXPECT_EQ(json::parse(h.audit_lines()[0])["token"], "read");
}

TEST(AuditLog, ALongQueryKeepsAPrefixItsLengthAndItsSha256) {
  ApiHarness h({.tokens = sample_tokens(), .audit = true});
  // sha256 of this text, computed outside crowd (Python's hashlib).
  const std::string q = "x:" + std::string(1000, 'a') + " OR y";
  const std::string digest = "bd736e68afa85abd8b1706f909eb0b4cd3dc77d5cb14c2106151311836b5e28d";
  const auto r = h.call(http::verb::post, "/v1/ids", json{{"q", q}}.dump(), "application/json", token_of("export"));
  EXPECT_EQ(r.status, 400) << r.body;  // unknown tag: refused, and logged
  const std::string big = long_query(63'000);
  EXPECT_EQ(h.call(http::verb::get, "/v1/ids?q=" + big, "", "", token_of("export")).status, 400);
  const auto lines = h.audit_lines();
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& line : lines) EXPECT_LT(line.size(), 600u) << line;
  const auto first = json::parse(lines[0]);
  EXPECT_EQ(first["query"], q.substr(0, 256));
  EXPECT_EQ(first["query_bytes"], q.size());
  EXPECT_EQ(first["query_sha256"], digest);
  EXPECT_EQ(json::parse(lines[1])["query_bytes"], decoded_size(big));

  // A short query is kept whole, with no digest.
  EXPECT_EQ(h.call(http::verb::get, "/v1/ids?q=vip", "", "", token_of("export")).status, 400);
  const auto short_line = json::parse(h.audit_lines().back());
  EXPECT_EQ(short_line["query"], "vip");
  EXPECT_FALSE(short_line.contains("query_sha256"));
}

TEST(AuditLog, ACutNeverSplitsACharacter) {
  ApiHarness h({.tokens = sample_tokens(), .audit = true});
  std::string q = "城";  // 3 bytes: 85 of them end at byte 255, mid-character
  for (int i = 0; i < 200; ++i) q += "城";
  EXPECT_EQ(h.call(http::verb::post, "/v1/ids", json{{"q", q}}.dump(), "application/json", token_of("export")).status,
            400);
  const auto line = json::parse(h.audit_lines().at(0));  // throws on invalid UTF-8
  EXPECT_EQ(line["query"].get<std::string>().size(), 255u);
}

TEST(AuditLog, RotatesBySizeAndKeepsTheConfiguredNumberOfFiles) {
  ApiHarness h({.tokens = sample_tokens(), .audit = true, .audit_options = {.max_bytes = 4096, .keep = 2}});
  const std::string target = "/v1/ids?q=" + long_query(1000);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(h.call(http::verb::get, target, "", "", token_of("export")).status, 400);
  const std::string& path = h.audit_path();
  for (const std::string& p : {path, path + ".1", path + ".2"}) {
    EXPECT_TRUE(std::filesystem::exists(p)) << p;
    EXPECT_LE(file_size(p), 4096u) << p;
  }
  EXPECT_FALSE(std::filesystem::exists(path + ".3"));
  EXPECT_GT(metric(h, "crowd_audit_rotations_total"), 2);
  EXPECT_EQ(metric(h, "crowd_audit_log_bytes"), static_cast<double>(file_size(path)));
  // The newest line is in the current file, whole.
  EXPECT_EQ(json::parse(h.audit_lines().back())["status"], 400);
}

TEST(AuditLog, AVolumeThatCannotBeWrittenIsAnAlarmAndStopsExportsAndWrites) {
  // /dev/full: every write fails with ENOSPC, like a full audit volume.
  ApiHarness h({.tokens = sample_tokens(), .audit = true, .audit_file = "/dev/full"});
  EXPECT_EQ(metric(h, "crowd_audit_log_failing"), 0);
  const auto users = [&] { return json::parse(h.call(http::verb::get, "/healthz").body)["users"].get<uint64_t>(); };
  // The first write's line fails after the write: it stays acknowledged.
  const std::string first = R"({"add":[{"id":1,"tags":["vip"]}]})";
  EXPECT_EQ(h.call(http::verb::post, "/v1/assign", first, "application/json", token_of("write")).status, 200);
  EXPECT_EQ(metric(h, "crowd_audit_log_failing"), 1);
  EXPECT_GE(metric(h, "crowd_audit_write_failures_total"), 1);
  // From then on writes are refused before they change anything,
  const std::string second = R"({"add":[{"id":2,"tags":["vip"]}]})";
  const auto w = h.call(http::verb::post, "/v1/assign", second, "application/json", token_of("write"));
  EXPECT_EQ(w.status, 503) << w.body;
  EXPECT_EQ(users(), 1u);
  // and no export leaves unrecorded.
  const auto e = h.call(http::verb::get, "/v1/ids?q=vip&format=csv", "", "", token_of("export"));
  EXPECT_EQ(e.status, 503) << e.body;
  EXPECT_EQ(json::parse(e.body)["error"]["code"], "unavailable");
}

}  // namespace
}  // namespace crowd::test
