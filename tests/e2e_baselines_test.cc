// build/crowd-baselines end to end, not timed: a tiny population, a tiny mix,
// a real crowdd and (when installed) a real redis-server. The tool's own
// cross-check (every method's count equals crowd's in-process count on every
// sample, else exit 3) is the independent expectation; here we check that it
// runs, that its JSON agrees across methods, that a single-tag count is the
// tag's cardinality in crowd's /v1/tags, and that a disagreement is loud.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/server_process.h"
#include "tests/support/tool_process.h"

namespace crowd::test {
namespace {

using json = nlohmann::json;

constexpr const char* kRedis = "/usr/bin/redis-server";
constexpr const char* kUsers = "20003";  // not a multiple of 8: Redis NOT has tail bits

// Runs crowd-baselines with `args`.
ToolRun run_baselines(std::vector<std::string> args) {
  args.insert(args.begin(), std::string(CROWD_BINARY_DIR) + "/crowd-baselines");
  return run_tool(args);
}

std::string write_mix(const std::string& dir, const std::string& text) {
  const std::string path = dir + "/tiny.mix";
  std::ofstream(path) << text;
  return path;
}

const char* const kTinyMix =
    "# a tiny mix: every operator the baselines walk\n"
    "\n"
    "3 count gender:female\n"
    "2 count gender:female AND age:25-29\n"
    "1 count 兴趣:美妆 AND NOT member:brand_x AND NOT power:low\n"
    "1 count (gender:female AND NOT power:low) OR student:yes\n"
    "1 count NOT gender:female\n"
    "1 count city:* AND NOT (ALL AND gender:male)\n"
    "1 ids gender:female\n"
    "1 get /healthz\n";

TEST(BaselinesTest, CountsAgreeAcrossCrowdRawCRoaringHttpAndRedis) {
  if (::access(kRedis, X_OK) != 0) GTEST_SKIP() << kRedis << " is not installed";
  ServerProcess server({"--demo", kUsers, "--seed", "7", "--threads", "1"});
  ASSERT_TRUE(server.ok()) << server.log();
  const ScratchDir scratch;
  const std::string& dir = scratch.path;
  const std::string mix = write_mix(dir, kTinyMix);

  const ToolRun r = run_baselines({"--users", kUsers, "--seed", "7", "--mix", mix, "--crowd-url",
                                   "http://127.0.0.1:" + std::to_string(server.port()), "--samples", "5",
                                   "--redis-connections", "4", "--duration", "0.5", "--json", dir + "/out.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;

  const auto result = json::parse(read_file(dir + "/out.json"));
  EXPECT_EQ(result["counts_equal"], true);
  ASSERT_EQ(result["queries"].size(), 6u);  // ids and get lines ignored
  for (const auto& q : result["queries"]) {
    const uint64_t count = q["count"];
    EXPECT_GT(count, 0u) << q["query"];
    EXPECT_LT(count, 20003u) << q["query"];
    for (const char* method : {"crowd_inprocess", "raw_croaring", "raw_croaring_materialize", "crowd_http", "redis"}) {
      ASSERT_TRUE(q["counts"].contains(method)) << method << " missing for " << q["query"];
      EXPECT_EQ(q["counts"][method], count) << method << ": " << q["query"];
    }
    for (const char* timing : {"crowd_inprocess", "raw_croaring", "crowd_http_client", "redis"}) {
      EXPECT_GT(q[timing]["p50_us"].get<double>(), 0) << timing;
    }
  }
  // The single-tag query against the server's own tag list, and NOT against
  // the universe.
  const auto tags = json::parse(server.get("/v1/tags?prefix=gender:female&limit=1").body);
  ASSERT_EQ(tags["tags"][0]["tag"], "gender:female");
  EXPECT_EQ(result["queries"][0]["count"], tags["tags"][0]["count"]);
  const auto health = json::parse(server.get("/healthz").body);
  EXPECT_EQ(result["queries"][4]["count"].get<uint64_t>() + tags["tags"][0]["count"].get<uint64_t>(),
            health["users"].get<uint64_t>());
  EXPECT_EQ(result["tags_checked_against_v1_tags"], 1);

  EXPECT_GT(result["throughput"]["redis_qps"].get<double>(), 0);
  EXPECT_NE(r.out.find("all counts equal across methods: yes"), std::string::npos) << r.out;
}

// A crowdd holding another population (same size, other seed) must make the
// tool abort with a count mismatch, not report numbers.
TEST(BaselinesTest, ACountMismatchAbortsLoudly) {
  ServerProcess server({"--demo", kUsers, "--seed", "8", "--threads", "1"});
  ASSERT_TRUE(server.ok()) << server.log();
  const ScratchDir scratch;
  const std::string& dir = scratch.path;
  const std::string mix = write_mix(dir, "1 count gender:female AND age:25-29\n");
  const ToolRun r = run_baselines({"--users", kUsers, "--seed", "7", "--mix", mix, "--no-redis", "--samples", "3",
                                   "--crowd-url", "http://127.0.0.1:" + std::to_string(server.port())});
  EXPECT_EQ(r.exit_code, 3) << r.err << r.out;
  EXPECT_NE(r.err.find("COUNT MISMATCH"), std::string::npos) << r.err;
}

TEST(BaselinesTest, AQueryCrowdRejectsIsAnError) {
  const ScratchDir scratch;
  const std::string& dir = scratch.path;
  const std::string mix = write_mix(dir, "1 count gender:female AND no:such:tag\n");
  const ToolRun r = run_baselines({"--users", kUsers, "--seed", "7", "--no-redis", "--mix", mix});
  EXPECT_EQ(r.exit_code, 2) << r.err << r.out;
  EXPECT_NE(r.err.find("unknown_tag"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace crowd::test
