// Start-time loads: --load-taobao on the real Taobao sample, --load of NDJSON
// and CSV files, and refusal to start on a bad line.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tests/support/server_process.h"

namespace crowd::test {
namespace {

using json = nlohmann::json;

uint64_t count(const ServerProcess& s, const std::string& q) {
  const auto r = s.get("/v1/count?q=" + url_encode(q));
  EXPECT_EQ(r.status, 200) << q << ": " << r.body;
  return json::parse(r.body)["count"];
}

TEST(LoadTest, TaobaoSampleMatchesAPlainReading) {
  const std::string path = std::string(CROWD_SHARED_DATA) + "/taobao-userbehavior-sample.csv";
  // Plain reading: distinct users per cat:<category>:<behaviour>.
  std::map<std::string, std::set<std::string>> expected;
  std::set<std::string> users;
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    ASSERT_EQ(f.size(), 5u) << line;
    expected["cat:" + f[2] + ":" + f[3]].insert(f[0]);
    users.insert(f[0]);
  }
  ServerProcess s({"--load-taobao", path});
  ASSERT_TRUE(s.ok()) << s.log();
  EXPECT_EQ(count(s, "ALL"), users.size());
  const auto tags = json::parse(s.get("/v1/tags?limit=100000").body);
  EXPECT_EQ(tags["total"], expected.size());
  for (const auto& t : tags["tags"]) {
    EXPECT_EQ(t["count"], expected.at(t["tag"].get<std::string>()).size()) << t["tag"];
  }
  EXPECT_NE(s.log().find("outside the collection window"), std::string::npos) << s.log();
  EXPECT_EQ(s.stop(), 0);
}

TEST(LoadTest, NdjsonAndCsvFiles) {
  const auto dir = temp_dir("crowd-load");
  {
    std::ofstream nd(dir + "/a.ndjson");
    nd << "{\"id\": 1, \"tags\": [\"x\", \"y\"]}\n{\"id\": 2, \"tags\": [\"x\"]}\n";
    std::ofstream csv(dir + "/b.csv");
    csv << "3,x\n1,z\n";
  }
  ServerProcess s({"--load", dir + "/a.ndjson", "--load", dir + "/b.csv"});
  ASSERT_TRUE(s.ok()) << s.log();
  EXPECT_EQ(count(s, "x"), 3u);
  EXPECT_EQ(count(s, "y AND z"), 1u);
  EXPECT_EQ(s.stop(), 0);
}

TEST(LoadTest, BadLineRefusesToStart) {
  const auto dir = temp_dir("crowd-load-bad");
  {
    std::ofstream nd(dir + "/bad.ndjson");
    nd << "{\"id\": 1, \"tags\": [\"x\"]}\n{\"id\": -4, \"tags\": [\"x\"]}\n";
  }
  ServerProcess s({"--load", dir + "/bad.ndjson"}, 20);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.log().find("bad.ndjson:2"), std::string::npos) << s.log();
}

}  // namespace
}  // namespace crowd::test
