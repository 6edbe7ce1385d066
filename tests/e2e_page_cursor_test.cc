// /v1/ids page cursors end to end (issue 14, item 8d): a cursor is sealed
// (HMAC-SHA256 under a per-process key) and bound to the query, lenient and
// the caller's token. A cursor changed in any one character, made up, moved
// to another query or another token, or kept across a restart answers
// 400 bad_cursor; a real walk still visits every member once. The members
// come from the data the test sends.
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "tests/support/e2e_util.h"
#include "tests/support/server_process.h"

namespace crowd::test {
namespace {

using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

const std::string kAlice = "alice-export-token-0000000001";
const std::string kBob = "bob-export-token-000000000002";

class Cursors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("crowd-cursor");
    const std::string tokens = dir_ + "/tokens";
    std::ofstream(tokens) << "alice read,export,write " << kAlice << "\nbob read,export " << kBob << "\n";
    ::chmod(tokens.c_str(), 0600);
    args_ = {"--tokens", tokens, "--data-dir", dir_ + "/data", "--threads", "2"};
    start();
    std::string ndjson;
    for (uint64_t id = 1; id <= 50; ++id) {
      ndjson += json{{"id", id}, {"tags", id % 2 == 0 ? json{"even", "all"} : json{"all"}}}.dump() + "\n";
    }
    ASSERT_EQ(server_->request("POST", "/v1/ingest", ndjson, "application/x-ndjson", as(kAlice)).status, 200);
  }
  void start() {
    server_ = std::make_unique<ServerProcess>(args_);
    ASSERT_TRUE(server_->ok()) << server_->log();
  }
  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->stop(), 0) << server_->log();
    }
  }
  static Headers as(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }
  HttpResult page(const std::string& q, const std::string& cursor, const std::string& token = kAlice) const {
    json req{{"q", q}, {"limit", 7}};
    if (!cursor.empty()) req["cursor"] = cursor;
    return server_->request("POST", "/v1/ids", req.dump(), "application/json", as(token));
  }
  std::string dir_;
  std::vector<std::string> args_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(Cursors, AWalkVisitsEveryMemberOnce) {
  std::multiset<uint64_t> seen;
  std::string cursor;
  for (int pages = 0; pages < 100; ++pages) {
    const auto r = page("even", cursor);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto body = body_json(r);
    for (const auto& id : body["ids"]) seen.insert(json_user_id(id));
    if (body["cursor"].is_null()) break;
    cursor = body["cursor"].get<std::string>();
  }
  std::multiset<uint64_t> expected;
  for (uint64_t id = 2; id <= 50; id += 2) expected.insert(id);
  EXPECT_EQ(seen, expected);
}

TEST_F(Cursors, EveryOneCharacterChangeIsRefused) {
  const auto first = page("all", "");
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string cursor = body_json(first)["cursor"].get<std::string>();
  ASSERT_EQ(page("all", cursor).status, 200);
  const std::string alphabet = "0123456789abcdefABCDEF-xz";
  int tried = 0;
  for (std::size_t i = 0; i < cursor.size(); ++i) {
    for (const char c : alphabet) {
      if (c == cursor[i]) continue;
      std::string forged = cursor;
      forged[i] = c;
      const auto r = page("all", forged);
      ASSERT_EQ(r.status, 400) << "position " << i << " '" << c << "': " << forged << " " << r.body;
      ASSERT_EQ(error_code(r), "bad_cursor") << r.body;
      ++tried;
    }
  }
  EXPECT_GT(tried, 500);
  // Truncated, extended, made up.
  for (const std::string& forged : {cursor.substr(0, cursor.size() - 1), cursor + "0", std::string("0-0"),
                                   std::string("1-") + std::string(32, '0')}) {
    EXPECT_EQ(error_code(page("all", forged)), "bad_cursor") << forged;
  }
}

TEST_F(Cursors, ACursorIsBoundToItsQueryLenientAndToken) {
  const std::string cursor = body_json(page("all", ""))["cursor"].get<std::string>();
  EXPECT_EQ(error_code(page("even", cursor)), "bad_cursor");
  EXPECT_EQ(error_code(page("all ", cursor)), "bad_cursor");  // another text, the same crowd
  json lenient{{"q", "all"}, {"limit", 7}, {"cursor", cursor}, {"lenient", true}};
  EXPECT_EQ(error_code(server_->request("POST", "/v1/ids", lenient.dump(), "application/json", as(kAlice))),
            "bad_cursor");
  EXPECT_EQ(error_code(page("all", cursor, kBob)), "bad_cursor");
  EXPECT_EQ(page("all", cursor, kAlice).status, 200);
  // GET takes the same cursors.
  const auto g = server_->request("GET", "/v1/ids?q=all&limit=7&cursor=" + cursor, "", "application/json", as(kAlice));
  EXPECT_EQ(g.status, 200) << g.body;
}

TEST_F(Cursors, CursorsDoNotSurviveARestart) {
  const std::string cursor = body_json(page("all", ""))["cursor"].get<std::string>();
  ASSERT_EQ(page("all", cursor).status, 200);
  ASSERT_EQ(server_->stop(), 0);
  start();
  const auto r = page("all", cursor);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(error_code(r), "bad_cursor");
  EXPECT_NE(error_message(r).find("restart"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace crowd::test
