// --snapshot-log-mb: a crowdd whose log passes the size writes a snapshot by
// itself (the log it covers dropped), and a restart restores every user
// from it; without the flag a single crowdd never does. The size and its
// default for cluster replicas: docs/operations.md.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/support/e2e_util.h"
#include "tests/support/eventually.h"
#include "tests/support/server_process.h"

namespace crowd::test {
namespace {

using namespace std::chrono_literals;

// ~3 MiB of log: 20,000 users with 12 tags each.
std::string users(int first, int n) {
  std::string body;
  for (int i = first; i < first + n; ++i) {
    body += "{\"id\": " + std::to_string(i) + ", \"tags\": [";
    for (int t = 0; t < 12; ++t) body += std::string(t ? "," : "") + "\"a-longish-tag-name:" + std::to_string((i + t) % 97) + "\"";
    body += "]}\n";
  }
  return body;
}

uint64_t log_bytes(const std::string& dir) {
  uint64_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().starts_with("wal-")) n += e.file_size();
  }
  return n;
}

TEST(AutoSnapshot, ALogPastTheSizeIsSnapshottedAndRestoredFrom) {
  const std::string dir = temp_dir("crowd-auto-snapshot");
  {
    ServerProcess s({"--data-dir", dir, "--snapshot-log-mb", "1"});
    ASSERT_TRUE(s.ok()) << s.log();
    for (int b = 0; b < 4; ++b) {
      ASSERT_EQ(s.post("/v1/ingest", users(b * 5000, 5000), "application/x-ndjson").status, 200);
    }
    EXPECT_TRUE(eventually([&] { return std::filesystem::exists(dir + "/snapshot.crowd") && log_bytes(dir) < (1u << 20); },
                           30s))
        << "a snapshot was written and the log it covers dropped (log: " << log_bytes(dir) << " bytes)";
    EXPECT_EQ(count_of(s, "ALL"), 20000u);
  }
  ServerProcess again({"--data-dir", dir});
  ASSERT_TRUE(again.ok()) << again.log();
  EXPECT_EQ(count_of(again, "ALL"), 20000u);
  // User i holds tag k when (i + t) % 97 == k for one of t = 0..11.
  uint64_t holders = 0;
  for (int i = 0; i < 20000; ++i) holders += ((5 - i) % 97 + 97) % 97 < 12 ? 1 : 0;
  EXPECT_EQ(count_of(again, "a-longish-tag-name:5"), holders);
}

TEST(AutoSnapshot, OffForASingleCrowddAndNeedsADataDir) {
  const std::string dir = temp_dir("crowd-auto-snapshot-off");
  {
    ServerProcess s({"--data-dir", dir});
    ASSERT_TRUE(s.ok()) << s.log();
    for (int b = 0; b < 4; ++b) {
      ASSERT_EQ(s.post("/v1/ingest", users(b * 5000, 5000), "application/x-ndjson").status, 200);
    }
    std::this_thread::sleep_for(2s);
    EXPECT_FALSE(std::filesystem::exists(dir + "/snapshot.crowd")) << "no snapshot unless asked";
  }
  ServerProcess bad({"--snapshot-log-mb", "1"}, 10);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.log().find("--snapshot-log-mb needs --data-dir"), std::string::npos) << bad.log();
}

}  // namespace
}  // namespace crowd::test
