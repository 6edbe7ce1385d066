// End-to-end tests of numeric attributes against the real crowdd: values
// ingested as NDJSON ("values": {...}), POST /v1/stats and compare predicates
// in /v1/count, checked against a plain in-test model (a map from user to its
// tags and values) with sums, sorts and nearest-rank percentiles done here.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/support/served_suite.h"
#include "tests/support/server_process.h"

namespace crowd::test {
namespace {

using json = nlohmann::json;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

struct User {
  std::set<std::string> tags;
  std::map<std::string, int64_t> values;
};
using Model = std::map<uint64_t, User>;

// Exact sums in decimal: the server answers a JSON integer within int64 and a
// string of digits beyond.
__extension__ typedef __int128 Int128;
std::string decimal(Int128 x) {
  if (x == 0) return "0";
  __extension__ using Uint128 = unsigned __int128;
  Uint128 u = x < 0 ? Uint128(0) - static_cast<Uint128>(x) : static_cast<Uint128>(x);
  std::string s;
  for (; u != 0; u /= 10) s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
  return x < 0 ? "-" + s : s;
}
std::string decimal_of(const json& sum) {
  if (sum.is_string()) return sum.get<std::string>();
  return sum.is_number_unsigned() ? std::to_string(sum.get<uint64_t>()) : std::to_string(sum.get<int64_t>());
}

class StatsTest : public ServedSuite {
 protected:
  static void SetUpTestSuite() {
    ASSERT_NO_FATAL_FAILURE(start({"--threads", "2"}));
    // 400 users; spend_90d for ~60% (lognormal-ish, some negative refunds),
    // "extreme" for ~20% (INT64 extremes, so its sum overflows int64), one
    // user with "lonely", and every user some of three tags.
    std::mt19937_64 rng(20261201);
    std::string ndjson;
    for (int i = 0; i < 400; ++i) {
      const uint64_t id = 5000 + static_cast<uint64_t>(i) * 131;
      User& u = model_[id];
      json line;
      line["id"] = id;
      line["tags"] = json::array();
      for (const char* t : {"vip", "city:杭州", "new"}) {
        if (rng() % 3 == 0) {
          line["tags"].push_back(t);
          u.tags.insert(t);
        }
      }
      json values = json::object();
      if (rng() % 10 < 6) {
        std::lognormal_distribution<double> spend(5.0, 1.5);
        int64_t v = static_cast<int64_t>(spend(rng));
        if (rng() % 20 == 0) v = -v;  // a refund
        values["spend_90d"] = v;
        u.values["spend_90d"] = v;
      }
      if (rng() % 5 == 0) {
        const int64_t v = rng() % 3 == 0 ? kMin : kMax - static_cast<int64_t>(rng() % 3);
        values["extreme"] = v;
        u.values["extreme"] = v;
      }
      if (i == 77) {
        values["lonely"] = -42;
        u.values["lonely"] = -42;
      }
      if (!values.empty()) line["values"] = values;
      if (u.tags.empty() && values.empty()) {
        line["tags"].push_back("vip");
        u.tags.insert("vip");
      }
      ndjson += line.dump() + "\n";
    }
    ASSERT_NO_FATAL_FAILURE(load(ndjson));
  }
  static HttpResult stats(const json& request) { return server_->post("/v1/stats", request.dump()); }

  // The model's answer for the users that `in_crowd` accepts.
  template <typename Pred>
  static void expect_stats(const std::string& q, const std::string& attr, Pred in_crowd) {
    std::vector<int64_t> v;
    uint64_t crowd = 0;
    for (const auto& [id, u] : model_) {
      if (!in_crowd(u)) continue;
      ++crowd;
      if (const auto it = u.values.find(attr); it != u.values.end()) v.push_back(it->second);
    }
    std::sort(v.begin(), v.end());
    const auto r = stats({{"q", q}, {"attr", attr}});
    ASSERT_EQ(r.status, 200) << q << ": " << r.body;
    const json body = json::parse(r.body);
    const std::string label = attr + " over " + q;
    EXPECT_EQ(body["attr"], attr) << label;
    EXPECT_EQ(body["crowd"].get<uint64_t>(), crowd) << label;
    EXPECT_EQ(body["count"].get<uint64_t>(), v.size()) << label;
    EXPECT_TRUE(body["took_us"].is_number_unsigned()) << label;
    Int128 sum = 0;
    for (const int64_t x : v) sum += x;
    EXPECT_EQ(decimal_of(body["sum"]), decimal(sum)) << label;
    if (sum >= kMin && sum <= kMax) {
      EXPECT_TRUE(body["sum"].is_number_integer()) << label;
    } else {
      EXPECT_TRUE(body["sum"].is_string()) << label;
    }
    if (v.empty()) {
      for (const char* k : {"min", "max", "mean", "p50", "p90", "p99"}) EXPECT_TRUE(body[k].is_null()) << label << k;
      return;
    }
    EXPECT_EQ(body["min"].get<int64_t>(), v.front()) << label;
    EXPECT_EQ(body["max"].get<int64_t>(), v.back()) << label;
    // Nearest rank: the k-th smallest, k = ceil(p/100 * n), at least 1.
    const auto rank = [&](uint64_t percent) {
      const uint64_t k = std::max<uint64_t>(1, (percent * v.size() + 99) / 100);
      return v[k - 1];
    };
    EXPECT_EQ(body["p50"].get<int64_t>(), rank(50)) << label;
    EXPECT_EQ(body["p90"].get<int64_t>(), rank(90)) << label;
    EXPECT_EQ(body["p99"].get<int64_t>(), rank(99)) << label;
    const double mean = static_cast<double>(static_cast<long double>(sum) / static_cast<long double>(v.size()));
    EXPECT_NEAR(body["mean"].get<double>(), mean, std::abs(mean) * 1e-12) << label;
  }

  static uint64_t count(const std::string& q) {
    const auto r = server_->get("/v1/count?q=" + url_encode(q));
    EXPECT_EQ(r.status, 200) << q << ": " << r.body;
    return json::parse(r.body)["count"].get<uint64_t>();
  }

  static Model model_;
};

Model StatsTest::model_;

TEST_F(StatsTest, MatchesTheModelOverCrowds) {
  for (const std::string attr : {"spend_90d", "extreme", "lonely"}) {
    expect_stats("ALL", attr, [](const User&) { return true; });
    expect_stats("vip", attr, [](const User& u) { return u.tags.contains("vip"); });
    expect_stats("vip AND NOT city:杭州", attr,
                 [](const User& u) { return u.tags.contains("vip") && !u.tags.contains("city:杭州"); });
    expect_stats("new OR city:杭州", attr,
                 [](const User& u) { return u.tags.contains("new") || u.tags.contains("city:杭州"); });
  }
}

TEST_F(StatsTest, SumBeyondInt64IsADecimalString) {
  const auto r = stats({{"q", "ALL"}, {"attr", "extreme"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json::parse(r.body)["sum"].is_string()) << r.body;
}

TEST_F(StatsTest, CrowdWithoutValuesHasCountZeroAndNulls) {
  // A crowd whose users have no "lonely" value; the crowd size still counts.
  expect_stats("vip", "lonely", [](const User& u) { return u.tags.contains("vip"); });
  const auto r = stats({{"q", "spend_90d < -1000000000"}, {"attr", "spend_90d"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json body = json::parse(r.body);
  EXPECT_EQ(body["count"], 0);
  EXPECT_EQ(body["crowd"], 0);
  EXPECT_EQ(body["sum"], 0);
  EXPECT_TRUE(body["p50"].is_null());
}

TEST_F(StatsTest, ComparePredicatesInQueries) {
  std::vector<int64_t> spend;
  for (const auto& [id, u] : model_) {
    if (const auto it = u.values.find("spend_90d"); it != u.values.end()) spend.push_back(it->second);
  }
  ASSERT_FALSE(spend.empty());
  const int64_t v = spend[spend.size() / 2];
  const auto how_many = [&](auto pred) {
    return static_cast<uint64_t>(std::count_if(spend.begin(), spend.end(), pred));
  };
  const std::string n = std::to_string(v);
  EXPECT_EQ(count("spend_90d >= " + n), how_many([&](int64_t x) { return x >= v; }));
  EXPECT_EQ(count("spend_90d > " + n), how_many([&](int64_t x) { return x > v; }));
  EXPECT_EQ(count("spend_90d < " + n), how_many([&](int64_t x) { return x < v; }));
  EXPECT_EQ(count("spend_90d <= " + n), how_many([&](int64_t x) { return x <= v; }));
  EXPECT_EQ(count("spend_90d = " + n), how_many([&](int64_t x) { return x == v; }));
  // != leaves out the users without a value.
  EXPECT_EQ(count("spend_90d != " + n), how_many([&](int64_t x) { return x != v; }));
  EXPECT_EQ(count("spend_90d BETWEEN 0 AND " + n), how_many([&](int64_t x) { return 0 <= x && x <= v; }));
  EXPECT_EQ(count("spend_90d BETWEEN " + n + " AND 0"),
            v > 0 ? 0u : how_many([&](int64_t x) { return v <= x && x <= 0; }));
  // A stats crowd given by a predicate on the same attribute.
  expect_stats("spend_90d >= " + n, "spend_90d", [&](const User& u) {
    const auto it = u.values.find("spend_90d");
    return it != u.values.end() && it->second >= v;
  });
}

TEST_F(StatsTest, Errors) {
  const auto unknown = stats({{"q", "ALL"}, {"attr", "nope"}});
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(json::parse(unknown.body)["error"]["code"], "unknown_tag");
  EXPECT_EQ(json::parse(unknown.body)["error"]["message"], "unknown attribute nope");
  // A misspelt attribute in a query gets did-you-mean (issue 17, item 5).
  const auto misspelt = server_->post("/v1/count", R"({"q": "spend_9d >= 100"})");
  EXPECT_EQ(misspelt.status, 400);
  EXPECT_EQ(json::parse(misspelt.body)["error"]["message"], "unknown attribute spend_9d (did you mean: spend_90d)");
  EXPECT_EQ(json::parse(misspelt.body)["error"]["suggestions"], json::array({"spend_90d"})) << misspelt.body;
  // lenient covers the query's tags, not the attribute.
  const auto lenient = stats({{"q", "no_such_tag"}, {"attr", "nope"}, {"lenient", true}});
  EXPECT_EQ(lenient.status, 400);
  EXPECT_EQ(json::parse(lenient.body)["error"]["code"], "unknown_tag");
  const auto lenient_ok = stats({{"q", "no_such_tag OR vip"}, {"attr", "spend_90d"}, {"lenient", true}});
  EXPECT_EQ(lenient_ok.status, 200) << lenient_ok.body;
  // A tag is not an attribute.
  EXPECT_EQ(stats({{"q", "ALL"}, {"attr", "vip"}}).status, 400);
  // The query's errors come first.
  const auto parse = stats({{"q", "vip AND ("}, {"attr", "nope"}});
  EXPECT_EQ(parse.status, 400);
  EXPECT_EQ(json::parse(parse.body)["error"]["code"], "parse_error");
  const auto unknown_tag = stats({{"q", "no_such_tag"}, {"attr", "spend_90d"}});
  EXPECT_EQ(json::parse(unknown_tag.body)["error"]["code"], "unknown_tag");
  for (const std::string body : {R"({"attr": "spend_90d"})", R"({"q": "ALL"})", R"({"q": 1, "attr": "spend_90d"})",
                                 R"({"q": "ALL", "attr": 7})", R"({"q": "ALL", "attr": "spend_90d", "extra": 1})",
                                 R"({"q": "ALL", "attr": "spend_90d", "lenient": "yes"})", R"([1])", "not json"}) {
    const auto r = server_->post("/v1/stats", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(json::parse(r.body)["error"]["code"], "bad_request") << body;
  }
}

// Right to erasure: a deleted user's value leaves every figure. It changes
// the server's data, so it is defined last: a run of the whole binary (one
// server for the suite) does it after the others; ctest runs each test in
// its own process and server anyway.
TEST_F(StatsTest, ZDeletedUserLeavesTheStats) {
  const uint64_t lonely = 5000 + 77 * 131;
  ASSERT_EQ(server_->request("DELETE", "/v1/users/" + std::to_string(lonely)).status, 200);
  model_.erase(lonely);
  const auto r = stats({{"q", "ALL"}, {"attr", "lonely"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["count"], 0);
  expect_stats("ALL", "spend_90d", [](const User&) { return true; });
}

}  // namespace
}  // namespace crowd::test
