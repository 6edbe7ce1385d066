// "estimate": true on /v1/count through the real handler (in process): the
// answer's shape, an interval that holds the exact count of the same query,
// exact answers where no sampling is needed, and bad values refused.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "index/bulk_loader.h"
#include "tests/server_support/api_harness.h"

namespace crowd::test {
namespace {

using boost::beast::http::verb;
using nlohmann::json;

// 1.5M users (23 chunks: more than the 16 sampled): "a" every 3rd user,
// "b" every 7th, "c" the first 100 of each chunk.
class EstimateRoute : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(h_.store().bulk_load(
        [](Index& index) {
          BulkLoader load(index);
          const uint32_t a = load.tag("a");
          const uint32_t b = load.tag("b");
          const uint32_t c = load.tag("c");
          std::vector<uint32_t> tags;
          for (UserId u = 0; u < 1'500'000; ++u) {
            tags.clear();
            if (u % 3 == 0) tags.push_back(a);
            if (u % 7 == 0) tags.push_back(b);
            if (u % 65536 < 100) tags.push_back(c);
            if (!load.add(u + 1, tags)) return;
          }
          load.finish();
        },
        error))
        << error;
  }
  json get(const std::string& target, int status = 200) {
    const auto r = h_.call(verb::get, target);
    EXPECT_EQ(r.status, status) << target << ": " << r.body;
    return json::parse(r.body);
  }
  ApiHarness h_;
};

TEST_F(EstimateRoute, IntervalHoldsTheExactCountOfTheSameQuery) {
  const json exact = get("/v1/count?q=a%20AND%20NOT%20b");
  const json est = get("/v1/count?q=a%20AND%20NOT%20b&estimate=true");
  // Multiples of 3 below 1.5M that are not multiples of 21, counted here.
  uint64_t expected = 0;
  for (uint64_t u = 0; u < 1'500'000; ++u) expected += (u % 3 == 0 && u % 7 != 0);
  ASSERT_EQ(exact["count"], expected);
  EXPECT_FALSE(exact.contains("estimate"));
  const json& e = est["estimate"];
  EXPECT_EQ(e["exact"], false);
  EXPECT_EQ(e["sampled_chunks"], 16);
  // 16 chunks; the last sampled is the partial 23rd (1.5M - 22 * 65,536 users).
  EXPECT_EQ(e["sampled_users"], 15 * 65536 + (1'500'000 - 22 * 65536));
  EXPECT_LE(e["low"].get<uint64_t>(), est["count"].get<uint64_t>());
  EXPECT_LE(est["count"].get<uint64_t>(), e["high"].get<uint64_t>());
  EXPECT_LE(e["low"].get<uint64_t>(), expected);
  EXPECT_GE(e["high"].get<uint64_t>(), expected);
  EXPECT_GT(e["relative_error"].get<double>(), 0.0);
  EXPECT_LT(e["relative_error"].get<double>(), 0.02);
  EXPECT_EQ(est["total"], 1'500'000);

  const auto posted = h_.call(verb::post, "/v1/count", R"({"q": "a AND NOT b", "estimate": true})");
  ASSERT_EQ(posted.status, 200) << posted.body;
  EXPECT_EQ(json::parse(posted.body)["count"], est["count"]) << "the same sample, the same estimate";
}

TEST_F(EstimateRoute, ATagAloneIsExact) {
  const json est = get("/v1/count?q=c&estimate=1");
  EXPECT_EQ(est["estimate"]["exact"], true);
  EXPECT_EQ(est["count"], 23 * 100);
  EXPECT_EQ(est["estimate"]["low"], est["count"]);
  EXPECT_EQ(est["estimate"]["high"], est["count"]);
  EXPECT_EQ(est["estimate"]["sampled_chunks"], 0);
}

TEST_F(EstimateRoute, BadValuesAreRefused) {
  EXPECT_EQ(get("/v1/count?q=a&estimate=maybe", 400)["error"]["code"], "bad_request");
  const auto r = h_.call(verb::post, "/v1/count", R"({"q": "a", "estimate": "yes"})");
  EXPECT_EQ(r.status, 400) << r.body;
  const auto ids = h_.call(verb::post, "/v1/ids", R"({"q": "a", "estimate": true})");
  EXPECT_EQ(ids.status, 400) << "an ID page takes no estimate: " << ids.body;
}

}  // namespace
}  // namespace crowd::test
