// crowd-bench against the real crowdd: request counts are exact (checked
// against the server's own /metrics counters), errors are classified, open
// loop finishes its schedule, the report is well formed, and bad input exits
// non-zero. A smoke test: nothing here depends on how fast anything is.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/server_process.h"
#include "tests/support/tool_process.h"

namespace crowd::test {
namespace {

using json = nlohmann::json;

using BenchRun = ToolRun;

// Runs build/crowd-bench with `args`, capturing its output.
BenchRun run_bench(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {CROWD_BENCH_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_tool(argv);
}

// Sums the server's crowd_requests_total counters for `route` (all statuses,
// or one).
uint64_t served(const ServerProcess& s, const std::string& route, const std::string& status = "") {
  const auto metrics = s.get("/metrics").body;
  const std::string prefix = "crowd_requests_total{route=\"" + route + "\",status=\"" + status;
  uint64_t total = 0;
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    total += std::stoull(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

void expect_monotone_latency(const json& report) {
  const auto& l = report.at("latency_us");
  const double p50 = l.at("p50"), p90 = l.at("p90"), p99 = l.at("p99"), p999 = l.at("p999"), max = l.at("max");
  EXPECT_GT(p50, 0.0);
  EXPECT_LE(p50, p90);
  EXPECT_LE(p90, p99);
  EXPECT_LE(p99, p999);
  EXPECT_LE(p999, max);
  EXPECT_LE(l.at("mean").get<double>(), max);
}

class LoadToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ =
        std::make_unique<ServerProcess>(std::vector<std::string>{"--demo", "20000", "--seed", "7", "--threads", "2"});
    ASSERT_TRUE(server_->ok()) << server_->log();
  }

  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  std::string write_mix(const std::string& text) {
    const auto path = dir_.path + "/test" + std::to_string(mixes_++) + ".mix";
    std::ofstream(path) << text;
    return path;
  }

  // Runs crowd-bench with --json and returns the parsed report.
  json run_json(const std::string& mix, std::vector<std::string> extra) {
    const auto json_path = dir_.path + "/report" + std::to_string(reports_++) + ".json";
    std::vector<std::string> args = {"--url", url(), "--mix", mix, "--json", json_path};
    args.insert(args.end(), extra.begin(), extra.end());
    last_ = run_bench(args);
    EXPECT_EQ(last_.exit_code, 0) << last_.err;
    const auto text = read_file(json_path);
    if (text.empty()) {
      ADD_FAILURE() << "no JSON report; stderr: " << last_.err;
      return json::object();
    }
    return json::parse(text);
  }

  std::unique_ptr<ServerProcess> server_;
  ScratchDir dir_;
  BenchRun last_;
  int mixes_ = 0;
  int reports_ = 0;
};

const char* const kValidMix =
    "# counts, a first page and the health check\n"
    "5 count gender:female AND age:25-29\n"
    "2 count 兴趣:美妆 AND NOT member:brand_x\n"
    "1 ids student:yes AND power:high\n"
    "1 get /healthz\n";

TEST_F(LoadToolTest, ClosedLoopSendsExactlyTheRequestedRequests) {
  const auto mix = write_mix(kValidMix);
  const auto r = run_json(mix, {"--requests", "600", "--connections", "4", "--threads", "2", "--warmup", "0"});
  EXPECT_EQ(r["mode"], "closed");
  EXPECT_EQ(r["connections"], 4);
  EXPECT_EQ(r["threads"], 2);
  EXPECT_TRUE(r["rate"].is_null());
  EXPECT_EQ(r["requests"], 600);
  EXPECT_EQ(r["errors"], 0);
  EXPECT_EQ(r["status"], json({{"200", 600}}));
  EXPECT_EQ(r["behind_schedule"], 0);
  EXPECT_TRUE(r["send_delay_us"]["p50"].is_null());
  EXPECT_GT(r["duration_s"].get<double>(), 0.0);
  EXPECT_GT(r["throughput_rps"].get<double>(), 0.0);
  expect_monotone_latency(r);
  // The server saw exactly those requests, no more (no warm-up, so every
  // request sent was measured), and all three kinds of line were used.
  const auto counts = served(*server_, "/v1/count"), ids = served(*server_, "/v1/ids"),
             health = served(*server_, "/healthz");
  EXPECT_EQ(counts + ids + health, 600u);
  EXPECT_GT(counts, 0u);
  EXPECT_GT(ids, 0u);
  EXPECT_GT(health, 0u);
  // The text report went to standard output.
  EXPECT_NE(last_.out.find("requests    600"), std::string::npos) << last_.out;
}

TEST_F(LoadToolTest, WarmupRequestsAreSentButNotRecorded) {
  const auto mix = write_mix("1 count gender:female\n");
  const auto r = run_json(mix, {"--requests", "200", "--connections", "2", "--warmup", "0.3"});
  EXPECT_EQ(r["requests"], 200);
  EXPECT_EQ(r["errors"], 0);
  // On loopback 0.3 s of warm-up is many requests; they reach the server
  // but not the report.
  EXPECT_GT(served(*server_, "/v1/count", "200"), 200u);
}

TEST_F(LoadToolTest, InvalidQueriesAreCountedAsNon2xxWithTheirStatus) {
  const auto all_bad = write_mix("1 count gender:female AND (\n");
  const auto bad = run_json(all_bad, {"--requests", "50", "--warmup", "0"});
  EXPECT_EQ(bad["requests"], 50);
  EXPECT_EQ(bad["errors"], 50);
  EXPECT_EQ(bad["non_2xx"], 50);
  EXPECT_EQ(bad["connection_errors"], 0);
  EXPECT_EQ(bad["timeouts"], 0);
  EXPECT_EQ(bad["status"], json({{"400", 50}}));
  // Error responses are still answers: their latency is reported.
  expect_monotone_latency(bad);

  const auto half_bad = write_mix("1 count gender:female\n1 count gender:female AND (\n");
  const auto mixed = run_json(half_bad, {"--requests", "400", "--connections", "3", "--warmup", "0"});
  EXPECT_EQ(mixed["requests"], 400);
  const uint64_t ok = mixed["status"].value("200", 0), rejected = mixed["status"].value("400", 0);
  EXPECT_EQ(ok + rejected, 400u);
  EXPECT_GT(ok, 0u);
  EXPECT_GT(rejected, 0u);
  EXPECT_EQ(mixed["errors"], rejected);
  EXPECT_EQ(mixed["status"].size(), 2u);
  EXPECT_EQ(served(*server_, "/v1/count", "400"), 50 + rejected);
}

TEST_F(LoadToolTest, OpenLoopCompletesItsSchedule) {
  const auto mix = write_mix(kValidMix);
  const auto r =
      run_json(mix, {"--rate", "400", "--requests", "200", "--connections", "2", "--threads", "2", "--warmup", "0.1"});
  EXPECT_EQ(r["mode"], "open");
  EXPECT_EQ(r["rate"], 400.0);
  EXPECT_EQ(r["requests"], 200);
  EXPECT_EQ(r["errors"], 0);
  EXPECT_EQ(r["status"], json({{"200", 200}}));
  EXPECT_LE(r["behind_schedule"].get<uint64_t>(), 200u);
  EXPECT_EQ(r["behind_schedule"], r["queued"].get<uint64_t>() + r["late_dispatch"].get<uint64_t>());
  expect_monotone_latency(r);
  // The send delay is the client-side part of each latency, so it cannot
  // exceed the latency.
  const auto& delay = r["send_delay_us"];
  EXPECT_LE(delay["p50"].get<double>(), delay["p99"].get<double>());
  EXPECT_LE(delay["p99"].get<double>(), delay["max"].get<double>());
  EXPECT_LE(delay["max"].get<double>(), r["latency_us"]["max"].get<double>());
  // Not a speed check: the schedule alone puts the 200th measured request
  // 199/400 s after the first, so the run cannot be shorter than that.
  EXPECT_GE(r["duration_s"].get<double>(), 199.0 / 400.0);
  // 40 warm-up requests (0.1 s at 400/s) plus the 200 measured.
  EXPECT_EQ(served(*server_, "/v1/count") + served(*server_, "/v1/ids") + served(*server_, "/healthz"), 240u);
}

TEST_F(LoadToolTest, DurationModeRunsForTheDuration) {
  const auto mix = write_mix("1 count gender:female\n");
  const auto r = run_json(mix, {"--duration", "0.5", "--connections", "2", "--warmup", "0.1"});
  EXPECT_GT(r["requests"].get<uint64_t>(), 0u);
  EXPECT_EQ(r["errors"], 0);
  EXPECT_GE(r["duration_s"].get<double>(), 0.5);
  expect_monotone_latency(r);
}

TEST_F(LoadToolTest, JsonToStandardOutput) {
  const auto mix = write_mix("1 get /healthz\n");
  const auto run = run_bench({"--url", url(), "--mix", mix, "--requests", "10", "--warmup", "0", "--json", "-"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto r = json::parse(run.out);
  EXPECT_EQ(r["requests"], 10);
  EXPECT_NE(run.err.find("requests    10"), std::string::npos) << run.err;
}

TEST(LoadToolCommandLine, UnreachableServerExitsNonZero) {
  // A port that was free a moment ago: bind, learn it, close.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  const ScratchDir dir;
  const auto mix = dir.path + "/a.mix";
  std::ofstream(mix) << "1 get /healthz\n";
  const auto run =
      run_bench({"--url", "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), "--mix", mix, "--requests", "5"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("cannot connect"), std::string::npos) << run.err;
}

TEST(LoadToolCommandLine, BadArgumentsAndMixFilesExitTwo) {
  const ScratchDir dir;
  const auto good = dir.path + "/good.mix";
  std::ofstream(good) << "1 get /healthz\n";
  const auto bad = dir.path + "/bad.mix";
  std::ofstream(bad) << "# fine\n1 count gender:female\n2 sount gender:male\n";
  const std::string url = "http://127.0.0.1:9";

  auto run = run_bench({"--url", url, "--mix", bad});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("bad.mix: line 3: unknown kind 'sount'"), std::string::npos) << run.err;

  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--mix", good},
           {"--url", url},
           {"--url", url, "--mix", good, "--connections", "0"},
           {"--url", url, "--mix", good, "--rate", "-5"},
           {"--url", url, "--mix", good, "--duration", "1", "--requests", "5"},
           {"--url", url, "--mix", good, "--requests", "lots"},
           {"--url", "https://127.0.0.1:9", "--mix", good},
           {"--url", url + "/v1", "--mix", good},
           {"--url", url, "--mix", good, "--bogus"},
       }) {
    run = run_bench(args);
    EXPECT_EQ(run.exit_code, 2) << args.back() << ": " << run.err;
    EXPECT_NE(run.err.find("crowd-bench: "), std::string::npos) << run.err;
  }
}

}  // namespace
}  // namespace crowd::test
