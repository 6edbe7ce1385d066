// POST /v1/admin/tags/prune and DELETE /v1/tags/{tag} end to end (issue 14,
// item 8c; issue 17, item 7): tag names can
// hold personal data and used to outlive the erasure of everyone who held
// them — in the dictionary, /v1/tags, snapshots and the log. After erasing
// the holders and pruning, the names are gone from every answer and every
// file of the data directory, also after a restart, while every tag that
// still has users, every saved crowd and every later write stay intact.
// Expectations come from the data the test sends.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "tests/support/e2e_util.h"
#include "tests/support/server_process.h"
#include "tests/support/tool_process.h"

namespace crowd::test {
namespace {

using json = nlohmann::json;

const std::string kEmail = "email:ann@example.com";   // a personal name, one holder
const std::string kPhone = "phone:13800138000";       // a dated personal name, one holder

// Files under `dir` whose bytes contain `needle`.
std::vector<std::string> files_holding(const std::string& dir, const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && read_file(e.path().string()).find(needle) != std::string::npos) {
      out.push_back(e.path().filename().string());
    }
  }
  return out;
}

std::set<std::string> listed_tags(const ServerProcess& s) {
  const auto body = body_json(s.get("/v1/tags?limit=100000"));  // kept: the loop reads into it
  std::set<std::string> out;
  for (const auto& t : body["tags"]) out.insert(t["tag"].get<std::string>());
  return out;
}

TEST(TagPrune, NamesNobodyHoldsAreGoneFromAnswersAndFilesAndStayGone) {
  const auto dir = temp_dir("crowd-tag-prune");
  const std::string data = dir + "/data";
  const int64_t today =
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()).time_since_epoch().count();
  const std::vector<std::string> args = {"--data-dir", data, "--audit-log", dir + "/audit.jsonl", "--threads", "2"};
  const auto check_after = [&](const ServerProcess& s, const std::string& context) {
    EXPECT_EQ(error_code(count_request(s, "\"" + kEmail + "\"")), "unknown_tag") << context;
    EXPECT_EQ(error_code(count_request(s, "\"" + kPhone + "\"")), "unknown_tag") << context;
    EXPECT_EQ(listed_tags(s), (std::set<std::string>{"seg:a", "seg:b", "seg:c", "seg:d"})) << context;
    EXPECT_EQ(count_of(s, "seg:a"), 1u) << context;
    EXPECT_EQ(count_of(s, "seg:b"), 2u) << context;
    EXPECT_EQ(count_of(s, "seg:c"), 1u) << context;
    EXPECT_EQ(count_of(s, "seg:d"), 1u) << context;
    EXPECT_EQ(count_of(s, "within(seg:b, " + day_text(today - 1) + ", " + day_text(today) + ")"), 1u) << context;
    EXPECT_EQ(count_of(s, "spend >= 5"), 1u) << context;
    // A saved crowd emptied by the erasure is still a saved crowd.
    EXPECT_EQ(s.get("/v1/crowds/ann").status, 200) << context;
    EXPECT_EQ(count_of(s, "@ann"), 0u) << context;
    EXPECT_EQ(count_of(s, "@b"), 2u) << context;
  };
  {
    ServerProcess s(args);
    ASSERT_TRUE(s.ok()) << s.log();
    const std::string ndjson =
        json{{"id", 1}, {"tags", {kEmail, "seg:a"}}, {"events", {{{"tag", kPhone}, {"day", day_text(today)}}}}}
            .dump() + "\n" +
        json{{"id", 2}, {"tags", {"seg:a", "seg:b"}}, {"values", {{"spend", 7}}}}.dump() + "\n" +
        json{{"id", 3}, {"events", {{{"tag", "seg:b"}, {"day", day_text(today)}}}}}.dump() + "\n";
    ASSERT_EQ(s.post("/v1/ingest", ndjson, "application/x-ndjson").status, 200);
    // Its definition names no personal tag: a saved crowd's definition is
    // kept as written (security.md), so one that quotes a name keeps it.
    ASSERT_EQ(s.request("PUT", "/v1/crowds/ann", R"({"q": "seg:a AND NOT seg:b"})").status, 201);
    ASSERT_EQ(s.request("PUT", "/v1/crowds/b", R"({"q": "seg:b"})").status, 201);
    ASSERT_EQ(s.post("/v1/admin/snapshot", "").status, 200);
    ASSERT_FALSE(files_holding(data, "ann@example.com").empty());  // the search finds it before

    ASSERT_EQ(s.request("DELETE", "/v1/users/1").status, 200);
    // Erased, but the names stay: listed with count 0.
    EXPECT_EQ(listed_tags(s).count(kEmail), 1u);
    EXPECT_EQ(count_of(s, "\"" + kEmail + "\""), 0u);

    const auto r = s.post("/v1/admin/tags/prune", "");
    ASSERT_EQ(r.status, 200) << r.body;
    // kEmail, kPhone and kPhone's one day: nothing else is empty.
    EXPECT_EQ(body_json(r)["dropped"], 3) << r.body;
    EXPECT_EQ(body_json(r)["snapshot"], true) << r.body;
    EXPECT_EQ(body_json(s.post("/v1/admin/tags/prune", ""))["dropped"], 0);  // nothing left to drop

    // Writes after the prune: new tags get ids in the renumbered dictionary
    // and are replayed from the log onto the prune's snapshot.
    ASSERT_EQ(s.post("/v1/assign", R"({"add": [{"id": 4, "tags": ["seg:c"]}, {"id": 5, "tags": ["seg:d"]}]})").status,
              200);
    check_after(s, "after the prune");
    EXPECT_EQ(files_holding(data, "ann@example.com"), std::vector<std::string>{});
    EXPECT_EQ(files_holding(data, "13800138000"), std::vector<std::string>{});
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  {
    ServerProcess s(args);  // the prune's snapshot, then the log
    ASSERT_TRUE(s.ok()) << s.log();
    check_after(s, "after a restart");
    ASSERT_EQ(s.post("/v1/admin/snapshot", "").status, 200);
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  ServerProcess s(args);
  ASSERT_TRUE(s.ok()) << s.log();
  check_after(s, "after a second snapshot and restart");
  EXPECT_EQ(s.stop(), 0) << s.log();
  EXPECT_EQ(files_holding(data, "ann@example.com"), std::vector<std::string>{});
  // Audited.
  const auto audit = read_file(dir + "/audit.jsonl");
  EXPECT_NE(audit.find("/v1/admin/tags/prune"), std::string::npos) << audit;
  std::filesystem::remove_all(dir);
}

// One misspelt tag nobody holds, removed by name (issue 17, item 7): listed
// as empty first, then gone from every answer and from the data directory,
// also after a restart; a tag someone holds is refused, and stays.
TEST(TagPrune, OneEmptyTagIsDeletedByNameAndStaysDeleted) {
  const auto dir = temp_dir("crowd-tag-delete");
  const std::string data = dir + "/data";
  const std::vector<std::string> args = {"--data-dir", data, "--threads", "2"};
  {
    ServerProcess s(args);
    ASSERT_TRUE(s.ok()) << s.log();
    ASSERT_EQ(s.post("/v1/ingest", "{\"id\": 1, \"tags\": [\"city:hangzhou\", \"city:hangzho\"]}\n",
                     "application/x-ndjson")
                  .status,
              200);
    ASSERT_EQ(s.post("/v1/assign", R"({"remove": [{"id": 1, "tags": ["city:hangzho"]}]})").status, 200);
    const auto empty = body_json(s.get("/v1/tags?prefix=city:&empty=true"));
    ASSERT_EQ(empty["tags"].size(), 1u) << empty;
    EXPECT_EQ(empty["tags"][0]["tag"], "city:hangzho");
    const auto held = s.request("DELETE", "/v1/tags/city:hangzhou");
    EXPECT_EQ(held.status, 409) << held.body;
    EXPECT_EQ(error_code(held), "tag_not_empty");
    const auto deleted = s.request("DELETE", "/v1/tags/city:hangzho");
    ASSERT_EQ(deleted.status, 200) << deleted.body;
    EXPECT_EQ(body_json(deleted)["snapshot"], true);
    EXPECT_EQ(listed_tags(s), (std::set<std::string>{"city:hangzhou"}));
    EXPECT_EQ(s.request("DELETE", "/v1/tags/city:hangzho").status, 404);
    EXPECT_EQ(s.stop(), 0);
  }
  // The misspelt name is a prefix of the kept one: every occurrence left in
  // the data directory must be the kept tag's.
  const auto occurrences = [](const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
  };
  for (const auto& e : std::filesystem::recursive_directory_iterator(data)) {
    if (!e.is_regular_file()) continue;
    const auto text = read_file(e.path().string());
    EXPECT_EQ(occurrences(text, "city:hangzho"), occurrences(text, "city:hangzhou")) << e.path();
  }
  ServerProcess s(args);
  ASSERT_TRUE(s.ok()) << s.log();
  EXPECT_EQ(listed_tags(s), (std::set<std::string>{"city:hangzhou"}));
  EXPECT_EQ(error_code(count_request(s, "city:hangzho")), "unknown_tag");
  EXPECT_EQ(count_of(s, "city:hangzhou"), 1u);
  EXPECT_EQ(s.stop(), 0);
}

}  // namespace
}  // namespace crowd::test
