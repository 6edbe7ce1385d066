// Restart tests against the real crowdd with --data-dir: what was acknowledged
// before a graceful stop or a SIGKILL is there after a restart; a corrupt
// snapshot refuses to start.
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "tests/support/server_process.h"

namespace crowd::test {
namespace {

using json = nlohmann::json;

uint64_t count(const ServerProcess& s, const std::string& q) {
  const auto r = s.get("/v1/count?q=" + url_encode(q) + "&lenient=true");
  EXPECT_EQ(r.status, 200) << r.body;
  return json::parse(r.body)["count"];
}

std::string ids_csv(const ServerProcess& s, const std::string& q) {
  return s.get("/v1/ids?q=" + url_encode(q) + "&format=csv&lenient=true").body;
}

TEST(PersistenceTest, GracefulRestartRestoresEverything) {
  const auto dir = temp_dir("crowd-persist");
  std::string before_csv;
  {
    ServerProcess s({"--data-dir", dir, "--fsync", "batch"});
    ASSERT_TRUE(s.ok()) << s.log();
    std::string ndjson;
    for (int i = 1; i <= 500; ++i) {
      ndjson += "{\"id\": " + std::to_string(i * 13) + ", \"tags\": [\"p:" + std::to_string(i % 5) + "\", \"城市:杭州\"]}\n";
    }
    ASSERT_EQ(s.post("/v1/ingest", ndjson, "application/x-ndjson").status, 200);
    ASSERT_EQ(s.post("/v1/admin/snapshot", "").status, 200);
    // Writes after the snapshot live only in the log.
    ASSERT_EQ(s.post("/v1/assign", R"({"add": [{"id": "18446744073709551615", "tags": ["p:max"]}],
                                       "remove": [{"id": 13, "tags": ["城市:杭州"]}]})")
                  .status,
              200);
    ASSERT_EQ(s.request("DELETE", "/v1/users/26").status, 200);
    EXPECT_EQ(count(s, "ALL"), 500u);  // 500 + max - 26
    before_csv = ids_csv(s, "p:* OR 城市:杭州");
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  ServerProcess s({"--data-dir", dir});
  ASSERT_TRUE(s.ok()) << s.log();
  EXPECT_EQ(count(s, "ALL"), 500u);
  EXPECT_EQ(count(s, "p:max"), 1u);
  EXPECT_EQ(count(s, "城市:杭州"), 498u);  // minus 13 (removed) and 26 (deleted)
  EXPECT_EQ(ids_csv(s, "p:* OR 城市:杭州"), before_csv);
  EXPECT_EQ(s.request("DELETE", "/v1/users/26").status, 404);
  EXPECT_EQ(s.stop(), 0);
}

TEST(PersistenceTest, AcknowledgedWritesSurviveSigkill) {
  for (const std::string policy : {"always", "batch"}) {
    const auto dir = temp_dir("crowd-kill");
    {
      ServerProcess s({"--data-dir", dir, "--fsync", policy});
      ASSERT_TRUE(s.ok()) << s.log();
      for (int i = 0; i < 200; ++i) {
        const auto r = s.post("/v1/assign", "{\"add\": [{\"id\": " + std::to_string(i) + ", \"tags\": [\"k:" +
                                                 std::to_string(i % 3) + "\"]}]}");
        ASSERT_EQ(r.status, 200) << r.body;
      }
      EXPECT_EQ(s.stop(SIGKILL), 128 + SIGKILL);
    }
    ServerProcess s({"--data-dir", dir});
    ASSERT_TRUE(s.ok()) << s.log();
    EXPECT_EQ(count(s, "ALL"), 200u) << policy;
    EXPECT_EQ(count(s, "k:0"), 67u) << policy;
    EXPECT_EQ(s.stop(), 0);
  }
}

TEST(PersistenceTest, DemoDataIsLoadedOnceAndRestored) {
  const auto dir = temp_dir("crowd-demo");
  uint64_t females = 0;
  {
    ServerProcess s({"--data-dir", dir, "--demo", "5000"});
    ASSERT_TRUE(s.ok()) << s.log();
    females = count(s, "gender:female");
    EXPECT_GT(females, 1000u);
    ASSERT_EQ(s.post("/v1/assign", R"({"add": [{"id": 1, "tags": ["probe:x"]}]})").status, 200);
    EXPECT_EQ(s.stop(), 0);
  }
  // --demo again: the restored index is not empty, so nothing is regenerated.
  ServerProcess s({"--data-dir", dir, "--demo", "5000"});
  ASSERT_TRUE(s.ok()) << s.log();
  EXPECT_NE(s.log().find("not empty"), std::string::npos) << s.log();
  EXPECT_EQ(count(s, "gender:female"), females);
  EXPECT_EQ(count(s, "probe:x"), 1u);
  EXPECT_EQ(s.stop(), 0);
}

TEST(PersistenceTest, CorruptSnapshotRefusesToStart) {
  const auto dir = temp_dir("crowd-corrupt");
  {
    ServerProcess s({"--data-dir", dir});
    ASSERT_TRUE(s.ok()) << s.log();
    ASSERT_EQ(s.post("/v1/ingest", "1,a\n2,b\n3,a\n", "text/csv").status, 200);
    ASSERT_EQ(s.post("/v1/admin/snapshot", "").status, 200);
    EXPECT_EQ(s.stop(), 0);
  }
  const auto path = std::filesystem::path(dir) / "snapshot.crowd";
  ASSERT_TRUE(std::filesystem::exists(path));
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    const auto size = static_cast<std::streamoff>(f.tellg());
    f.seekg(size - 5);
    const char byte = static_cast<char>(f.get());
    f.seekp(size - 5);
    f.put(static_cast<char>(~byte));
  }
  ServerProcess s({"--data-dir", dir}, 20);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.log().find("snapshot"), std::string::npos) << s.log();
}

// Issue 14, item 8: what crowdd creates holds users' IDs and tags, so it is
// the owner's alone whatever the umask: the data directory 0700, snapshot,
// log and lock 0600, the audit log 0600. Before: the data files 0644 and the
// directory 0755 under the usual umask 022.
TEST(PersistenceTest, CreatedFilesAreTheOwnersOnly) {
  const auto parent = temp_dir("crowd-modes");
  const std::string dir = parent + "/data";
  const std::string audit = parent + "/audit.log";
  const mode_t old_mask = ::umask(022);  // inherited by crowdd
  {
    ServerProcess s({"--data-dir", dir, "--audit-log", audit});
    ASSERT_TRUE(s.ok()) << s.log();
    ASSERT_EQ(s.post("/v1/ingest", "{\"id\": 1, \"tags\": [\"a\"]}\n", "application/x-ndjson").status, 200);
    ASSERT_EQ(s.post("/v1/admin/snapshot", "").status, 200);
    ASSERT_EQ(s.post("/v1/ingest", "{\"id\": 2, \"tags\": [\"a\"]}\n", "application/x-ndjson").status, 200);
    ASSERT_EQ(s.stop(), 0);
  }
  ::umask(old_mask);
  auto mode = [](const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  };
  EXPECT_EQ(mode(dir), 0700u);
  EXPECT_EQ(mode(audit), 0600u);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(mode(e.path().string()), 0600u) << e.path();
    ++files;
  }
  EXPECT_GE(files, 3);  // LOCK, snapshot.crowd, wal-*.log
  std::filesystem::remove_all(parent);
}

}  // namespace
}  // namespace crowd::test
