// POST /v1/lookalike end to end, against the real crowdd on a loopback port:
// the answer's shape and invariants checked against a plain in-test model of
// the ingested users (never the seed, exactly `size` users or every
// candidate, candidates respected), the features' shares recomputed from the
// model, and every request error.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <random>
#include <set>
#include <string>

#include "tests/support/served_suite.h"
#include "tests/support/server_process.h"

namespace crowd::test {
namespace {

using json = nlohmann::json;
using Model = std::map<uint64_t, std::set<std::string>>;

class LookalikeApiTest : public ServedSuite {
 protected:
  static void SetUpTestSuite() {
    ASSERT_NO_FATAL_FAILURE(start({"--threads", "2"}));
    // 2,000 users in two kinds: "buyers" lean to cat:1 and 兴趣:美妆.
    std::mt19937_64 rng(4242);
    std::uniform_real_distribution<double> u(0, 1);
    std::string ndjson;
    for (uint64_t i = 0; i < 2000; ++i) {
      const uint64_t id = 500 + i * 3;
      const bool kind = i % 5 == 0;
      auto maybe = [&](const std::string& tag, double p) {
        if (u(rng) < p) model_[id].insert(tag);
      };
      maybe("cat:1:pv", kind ? 0.8 : 0.1);
      maybe("cat:1:buy", kind ? 0.5 : 0.02);
      maybe("兴趣:美妆", kind ? 0.7 : 0.15);
      maybe("gender:female", kind ? 0.9 : 0.5);
      maybe("city:hz", 0.3);
      maybe("city:sh", 0.3);
      maybe("vip", 0.1);
      if (model_[id].empty()) model_[id].insert("vip");
      json line;
      line["id"] = id;
      line["tags"] = model_[id];
      ndjson += line.dump() + "\n";
    }
    ASSERT_NO_FATAL_FAILURE(load(ndjson));
  }
  static std::set<uint64_t> users_with(const std::string& tag) {
    std::set<uint64_t> out;
    for (const auto& [id, tags] : model_) {
      if (tags.contains(tag)) out.insert(id);
    }
    return out;
  }
  static std::set<uint64_t> ids(const std::string& q) {
    const auto r = server_->post("/v1/ids", json{{"q", q}, {"limit", 1000000}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    std::set<uint64_t> out;
    const auto body = json::parse(r.body);  // kept alive: the loop reads into it
    for (const auto& v : body["ids"]) out.insert(v.get<uint64_t>());
    return out;
  }
  static json error_of(const HttpResult& r) { return json::parse(r.body)["error"]; }

  static Model model_;
};
Model LookalikeApiTest::model_;

TEST_F(LookalikeApiTest, AnswersTheContractShape) {
  const auto r = server_->post("/v1/lookalike", R"({"seed": "cat:1:buy", "size": 300})");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto body = json::parse(r.body);
  EXPECT_EQ(body["count"], 300);
  EXPECT_TRUE(body["threshold"].is_number());
  EXPECT_TRUE(body["saved"].is_null());
  EXPECT_TRUE(body["took_us"].is_number_unsigned());
  const auto seed = users_with("cat:1:buy");
  EXPECT_EQ(body["seed_size"], seed.size());
  EXPECT_EQ(body["candidates"], model_.size() - seed.size());
  ASSERT_TRUE(body["features"].is_array());
  ASSERT_FALSE(body["features"].empty());
  double last_information = 1e300;
  for (const auto& f : body["features"]) {
    ASSERT_TRUE(f["tag"].is_string());
    ASSERT_TRUE(f["weight"].is_number());
    ASSERT_TRUE(f["lift"].is_number());
    // Shares recomputed from the model.
    const auto holders = users_with(f["tag"].get<std::string>());
    double a = 0, b = 0;
    for (const auto id : holders) (seed.contains(id) ? a : b) += 1;
    const double S = static_cast<double>(seed.size()), C = static_cast<double>(model_.size() - seed.size());
    EXPECT_NEAR(f["seed_share"].get<double>(), a / S, 1e-9) << f;
    EXPECT_NEAR(f["candidate_share"].get<double>(), b / C, 1e-9) << f;
    EXPECT_NEAR(f["lift"].get<double>(), (a / S) / ((b + 0.5) / (C + 1)), 1e-9) << f;
    // Most informative first: (p − q)·w never increases (p, q as reported, unsmoothed: close enough
    // to order the big ones).
    const double information = (a / S - b / C) * f["weight"].get<double>();
    EXPECT_LE(information, last_information + 0.05) << f;
    last_information = std::min(last_information, information);
  }
  // The seed's defining tag is held by no candidate, so it moves no
  // candidate's score: it is not listed as a reason (issue 17, item 9).
  for (const auto& f : body["features"]) {
    EXPECT_NE(f["tag"], "cat:1:buy");
    EXPECT_GT(f["candidate_share"].get<double>(), 0) << f;
  }
}

TEST_F(LookalikeApiTest, NeverTheSeedExactSizeAndCandidates) {
  const auto seed = ids("cat:1:buy");
  const auto everyone = ids("ALL");
  // size > candidates: every candidate.
  auto r = server_->post("/v1/lookalike", R"({"seed": "cat:1:buy", "size": 100000})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["count"], everyone.size() - seed.size());

  // With candidates: the count is min(size, |candidates − seed|).
  const auto hz = ids("city:hz");
  std::size_t allowed = 0;
  for (const auto id : hz) allowed += !seed.contains(id);
  r = server_->post("/v1/lookalike", R"({"seed": "cat:1:buy", "size": 100000, "candidates": "city:hz"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["count"], allowed);
  r = server_->post("/v1/lookalike", R"({"seed": "cat:1:buy", "size": 7, "candidates": "city:hz"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["count"], 7);

  // Fields restrict the features.
  r = server_->post("/v1/lookalike", R"({"seed": "cat:1:buy", "size": 50, "fields": ["city", "兴趣"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto restricted = json::parse(r.body);
  for (const auto& f : restricted["features"]) {
    const auto tag = f["tag"].get<std::string>();
    EXPECT_TRUE(tag.starts_with("city:") || tag.starts_with("兴趣:")) << tag;
  }
  // Same request twice: same answer (but took_us).
  auto a = json::parse(server_->post("/v1/lookalike", R"({"seed": "兴趣:美妆", "size": 123})").body);
  auto b = json::parse(server_->post("/v1/lookalike", R"({"seed": "兴趣:美妆", "size": 123})").body);
  a.erase("took_us");
  b.erase("took_us");
  EXPECT_EQ(a, b);
}

// save_as keeps the expansion as a saved crowd: the same users, never the
// seed, usable as @name, and a refresh expands the seed again (the same
// users here: nothing changed, and ties are deterministic).
TEST_F(LookalikeApiTest, SaveAsKeepsTheExpansion) {
  auto r = server_->post("/v1/lookalike", R"({"seed": "vip", "size": 25, "save_as": "vip_like"})");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto body = json::parse(r.body);
  EXPECT_EQ(body["saved"], "vip_like");
  const uint64_t count = body["count"];
  EXPECT_EQ(count, 25u);
  r = server_->get("/v1/crowds/vip_like");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto crowd = json::parse(r.body);
  EXPECT_EQ(crowd["kind"], "lookalike");
  EXPECT_EQ(crowd["seed"], "vip");
  EXPECT_EQ(crowd["size"], 25);
  EXPECT_EQ(crowd["count"], count);
  r = server_->post("/v1/count", R"({"q": "@vip_like AND vip"})");
  EXPECT_EQ(json::parse(r.body)["count"], 0) << r.body;
  r = server_->post("/v1/count", R"j({"q": "@vip_like OR lookalike(vip, 25)"})j");
  EXPECT_EQ(json::parse(r.body)["count"], count) << "the language's expansion is the same users: " << r.body;
  r = server_->post("/v1/crowds/vip_like/refresh", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["count"], count);
  EXPECT_EQ(json::parse(r.body)["previous_count"], count);
}

TEST_F(LookalikeApiTest, RequestErrors) {
  struct Case {
    std::string body;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"not json", 400, "bad_request"},
      {"[]", 400, "bad_request"},
      {R"({"size": 10})", 400, "bad_request"},                                   // no seed
      {R"({"seed": "vip"})", 400, "bad_request"},                                // no size
      {R"({"seed": "vip", "size": 0})", 400, "bad_request"},
      {R"({"seed": "vip", "size": -5})", 400, "bad_request"},
      {R"({"seed": "vip", "size": 100000001})", 400, "bad_request"},
      {R"({"seed": "vip", "size": 1.5})", 400, "bad_request"},
      {R"({"seed": "vip", "size": "10"})", 400, "bad_request"},
      {R"({"seed": 5, "size": 10})", 400, "bad_request"},
      {R"({"seed": "vip", "size": 10, "candidates": 3})", 400, "bad_request"},
      {R"({"seed": "vip", "size": 10, "fields": "city"})", 400, "bad_request"},
      {R"({"seed": "vip", "size": 10, "fields": [1]})", 400, "bad_request"},
      {R"({"seed": "vip", "size": 10, "fields": ["nosuchfield"]})", 400, "bad_request"},
      {R"({"seed": "vip", "size": 10, "bogus": 1})", 400, "bad_request"},
      {R"({"seed": "vip", "size": 10, "save_as": "x y"})", 400, "bad_request"},  // not a crowd name
      {R"({"seed": "vip", "size": 10, "save_as": 7})", 400, "bad_request"},
      {R"({"seed": "vip AND NOT vip", "size": 10})", 400, "bad_request"},        // empty seed
      {R"({"seed": "vip AND (", "size": 10})", 400, "parse_error"},
      {R"({"seed": "no:such:tag", "size": 10})", 400, "unknown_tag"},
      {R"({"seed": "vip", "size": 10, "candidates": "nope:x"})", 400, "unknown_tag"},
  };
  for (const auto& c : cases) {
    const auto r = server_->post("/v1/lookalike", c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    if (r.status >= 400) {
      EXPECT_EQ(error_of(r)["code"], c.code) << c.body << " -> " << r.body;
    }
  }
  // Lenient: an unknown seed tag is empty, and an empty seed is still an error.
  auto r = server_->post("/v1/lookalike", R"({"seed": "no:such:tag", "size": 10, "lenient": true})");
  EXPECT_EQ(r.status, 400) << r.body;
  // Lenient candidates that match nothing: nobody to choose.
  r = server_->post("/v1/lookalike", R"({"seed": "vip", "size": 10, "candidates": "nope:x", "lenient": true})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["count"], 0);
  EXPECT_TRUE(json::parse(r.body)["threshold"].is_null());
  // save_as null is the same as leaving it out.
  r = server_->post("/v1/lookalike", R"({"seed": "vip", "size": 10, "save_as": null})");
  EXPECT_EQ(r.status, 200) << r.body;
  // GET is not the method.
  EXPECT_EQ(server_->get("/v1/lookalike").status, 405);
}

}  // namespace
}  // namespace crowd::test
