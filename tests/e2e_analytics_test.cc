// End-to-end tests of the analytics routes /v1/insight, /v1/overlap,
// /v1/flow and /v1/funnel against the real crowdd on a loopback port.
// Expectations come from a plain in-test model of the ingested data (user ->
// set of tags) worked out by tests/support/analytics_model.h, never from the
// server's code.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/support/analytics_model.h"
#include "tests/support/served_suite.h"
#include "tests/support/server_process.h"

namespace crowd::test {
namespace {

// Ordered: the order of crowds and layers in a request is the order of the answer.
using json = nlohmann::ordered_json;

// Fields with dense and sparse tags, a bare tag (its own field), CJK.
const std::vector<std::pair<std::string, double>> kVocabulary = {
    {"gender:female", 0.5}, {"gender:male", 0.45}, {"age:18-24", 0.2}, {"age:25-29", 0.3},  {"age:30-34", 0.25},
    {"city:杭州", 0.1},     {"city:上海", 0.15},   {"city:北京", 0.05}, {"cat:1:pv", 0.4},   {"cat:1:buy", 0.05},
    {"cat:2:pv", 0.3},      {"cat:2:buy", 0.02},   {"vip", 0.1},        {"aipl:x:A", 0.3},   {"aipl:x:I", 0.15},
    {"aipl:x:P", 0.1},      {"aipl:y:A", 0.25},    {"aipl:y:I", 0.2},   {"aipl:y:P", 0.08},  {"member:x", 0.12}};

class AnalyticsTest : public ServedSuite {
 protected:
  static void SetUpTestSuite() {
    ASSERT_NO_FATAL_FAILURE(start({"--threads", "2", "--max-body", "4000000"}));
    std::mt19937_64 rng(20261123);
    std::uniform_real_distribution<double> unit(0, 1);
    std::string ndjson;
    for (int i = 0; i < 3000; ++i) {
      const uint64_t id = 10 + static_cast<uint64_t>(i) * 104729;
      json line;
      line["id"] = id;
      line["tags"] = json::array();
      for (const auto& [tag, p] : kVocabulary) {
        if (unit(rng) < p) {
          line["tags"].push_back(tag);
          holders_[tag].push_back(id);
        }
      }
      if (line["tags"].empty()) {
        line["tags"].push_back("vip");
        holders_["vip"].push_back(id);
      }
      universe_.push_back(id);
      ndjson += line.dump() + "\n";
    }
    for (auto& [tag, ids] : holders_) std::sort(ids.begin(), ids.end());
    std::sort(universe_.begin(), universe_.end());
    ASSERT_NO_FATAL_FAILURE(load(ndjson));
  }
  static const IdList& tag(const std::string& t) { return holders_.at(t); }
  static IdList both(const IdList& a, const IdList& b) {
    IdList out;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
  }
  static IdList minus(const IdList& a, const IdList& b) {
    IdList out;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
  }
  static IdList either(const IdList& a, const IdList& b) {
    IdList out;
    std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
  }

  static json post_ok(const std::string& route, const json& body) {
    const auto r = server_->post(route, body.dump());
    EXPECT_EQ(r.status, 200) << route << " " << body.dump() << ": " << r.body;
    return json::parse(r.body);
  }
  // Posts a raw body and expects a 400 with `code`; returns the error.
  static json post_error(const std::string& route, const std::string& body, const std::string& code = "bad_request") {
    const auto r = server_->post(route, body);
    EXPECT_EQ(r.status, 400) << route << " " << body << ": " << r.body;
    const auto parsed = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << r.body;
    if (parsed.is_discarded()) return json::object();
    EXPECT_EQ(parsed["error"]["code"], code) << route << " " << body << ": " << r.body;
    EXPECT_TRUE(parsed["error"]["message"].is_string());
    return parsed["error"];
  }

  // Checks one insight response field by field against the model.
  static void check_insight(const json& body, const IdList& crowd, const std::vector<std::string>& fields,
                            uint64_t min_count, std::size_t top, bool by_count) {
    EXPECT_EQ(body["crowd"], crowd.size());
    EXPECT_EQ(body["total"], universe_.size());
    EXPECT_TRUE(body["took_us"].is_number_unsigned());
    ASSERT_EQ(body["fields"].size(), fields.size()) << body.dump();
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const auto& f = body["fields"][i];
      EXPECT_EQ(f["field"], fields[i]);
      const auto want = model_insight_field(crowd, holders_, fields[i], min_count, top, by_count);
      EXPECT_EQ(f["tag_count"], model_insight_field(crowd, holders_, fields[i], 0, 0, false).size());
      ASSERT_EQ(f["tags"].size(), want.size()) << f.dump();
      for (std::size_t k = 0; k < want.size(); ++k) {
        const auto& row = f["tags"][k];
        EXPECT_EQ(row["tag"], want[k].tag) << fields[i] << " row " << k;
        EXPECT_EQ(row["count"], want[k].count) << want[k].tag;
        EXPECT_EQ(row["population"], want[k].population) << want[k].tag;
        const double share = static_cast<double>(want[k].count) / static_cast<double>(crowd.size());
        const double pop_share = static_cast<double>(want[k].population) / static_cast<double>(universe_.size());
        EXPECT_NEAR(row["share"].get<double>(), share, 1e-12);
        EXPECT_NEAR(row["population_share"].get<double>(), pop_share, 1e-12);
        EXPECT_NEAR(row["tgi"].get<double>(), 100 * share / pop_share, 1e-9);
      }
    }
  }

  static std::map<std::string, IdList> holders_;
  static IdList universe_;
};
std::map<std::string, IdList> AnalyticsTest::holders_;
IdList AnalyticsTest::universe_;

// ---- insight ----

TEST_F(AnalyticsTest, InsightOfEveryFieldMatchesTheModel) {
  const auto body = post_ok("/v1/insight", {{"q", "gender:female AND NOT age:18-24"}});
  const IdList crowd = minus(tag("gender:female"), tag("age:18-24"));
  check_insight(body, crowd, {"age", "aipl", "cat", "city", "gender", "member", "vip"}, 1, 0, false);
}

TEST_F(AnalyticsTest, InsightOptions) {
  const IdList crowd = either(tag("cat:1:buy"), tag("cat:2:buy"));
  auto body = post_ok("/v1/insight", {{"q", "cat:1:buy OR cat:2:buy"}, {"fields", {"city", "aipl", "city"}}, {"top", 3}});
  check_insight(body, crowd, {"city", "aipl"}, 1, 3, false);
  body = post_ok("/v1/insight",
                 {{"q", "cat:1:buy OR cat:2:buy"}, {"fields", {"aipl", "gender"}}, {"sort", "count"}, {"min_count", 20}});
  check_insight(body, crowd, {"aipl", "gender"}, 20, 0, true);
  body = post_ok("/v1/insight", {{"q", "cat:1:buy OR cat:2:buy"}, {"fields", {"vip"}}, {"sort", "tgi"}, {"min_count", 0}});
  check_insight(body, crowd, {"vip"}, 0, 0, false);
}

TEST_F(AnalyticsTest, InsightOfAnEmptyCrowdHasNullRatios) {
  const auto body =
      post_ok("/v1/insight", {{"q", "gender:female AND NOT gender:female"}, {"fields", {"gender"}}, {"min_count", 0}});
  EXPECT_EQ(body["crowd"], 0);
  ASSERT_EQ(body["fields"][0]["tags"].size(), 2u);
  for (const auto& row : body["fields"][0]["tags"]) {
    EXPECT_EQ(row["count"], 0);
    EXPECT_TRUE(row["tgi"].is_null()) << row.dump();
    EXPECT_TRUE(row["share"].is_null()) << row.dump();
    EXPECT_TRUE(row["population_share"].is_number());
  }
  // Default min_count 1: nothing to show.
  const auto trimmed = post_ok("/v1/insight", {{"q", "gender:female AND NOT gender:female"}});
  for (const auto& f : trimmed["fields"]) EXPECT_TRUE(f["tags"].empty()) << f.dump();
}

TEST_F(AnalyticsTest, InsightErrors) {
  post_error("/v1/insight", "{\"q\": ");
  post_error("/v1/insight", "[1, 2]");
  post_error("/v1/insight", R"({"fields": ["gender"]})");
  post_error("/v1/insight", R"({"q": 7})");
  post_error("/v1/insight", R"({"q": "vip", "fields": "gender"})");
  post_error("/v1/insight", R"({"q": "vip", "fields": [1]})");
  post_error("/v1/insight", R"({"q": "vip", "fields": []})");
  post_error("/v1/insight", R"({"q": "vip", "top": 0})");
  post_error("/v1/insight", R"({"q": "vip", "top": "3"})");
  post_error("/v1/insight", R"({"q": "vip", "top": 2.5})");
  post_error("/v1/insight", R"({"q": "vip", "min_count": -1})");
  post_error("/v1/insight", R"({"q": "vip", "sort": "name"})");
  post_error("/v1/insight", R"({"q": "vip", "lenient": "yes"})");
  post_error("/v1/insight", R"({"q": "vip", "limit": 3})");
  const auto unknown_field = post_error("/v1/insight", R"({"q": "vip", "fields": ["gender", "colour"]})");
  EXPECT_NE(unknown_field["message"].get<std::string>().find("colour"), std::string::npos) << unknown_field.dump();
  post_error("/v1/insight", R"({"q": "vip", "fields": ["gender:female"]})");
  const auto unknown_tag = post_error("/v1/insight", R"({"q": "vip AND nosuchtag"})", "unknown_tag");
  EXPECT_EQ(unknown_tag["position"], 8);
  post_error("/v1/insight", R"({"q": "vip AND ("})", "parse_error");
  // Lenient: the unknown tag is the empty set, so the crowd is empty.
  const auto lenient = post_ok("/v1/insight", json{{"q", "vip AND nosuchtag"}, {"lenient", true}});
  EXPECT_EQ(lenient["crowd"], 0);
  EXPECT_EQ(server_->get("/v1/insight?q=vip").status, 405);
}

// ---- overlap ----

TEST_F(AnalyticsTest, OverlapOfThreeCrowdsMatchesTheModel) {
  const std::vector<std::string> names = {"women", "buyers", "杭州"};
  const std::vector<IdList> sets = {tag("gender:female"), either(tag("cat:1:buy"), tag("cat:2:buy")),
                                    tag("city:杭州")};
  const auto body = post_ok(
      "/v1/overlap", {{"crowds", json::object({{"women", "gender:female"}, {"buyers", "cat:1:buy OR cat:2:buy"}, {"杭州", "city:杭州"}})}});
  ASSERT_EQ(body["crowds"].size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(body["crowds"][i]["name"], names[i]);
    EXPECT_EQ(body["crowds"][i]["count"], sets[i].size());
  }
  ASSERT_EQ(body["pairs"].size(), 3u);
  std::size_t p = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = i + 1; j < 3; ++j, ++p) {
      const auto& pair = body["pairs"][p];
      EXPECT_EQ(pair["a"], names[i]);
      EXPECT_EQ(pair["b"], names[j]);
      const auto inter = both(sets[i], sets[j]).size();
      const auto uni = either(sets[i], sets[j]).size();
      EXPECT_EQ(pair["intersection"], inter);
      EXPECT_EQ(pair["union"], uni);
      EXPECT_NEAR(pair["jaccard"].get<double>(), static_cast<double>(inter) / static_cast<double>(uni), 1e-12);
    }
  }
  EXPECT_EQ(body["union"], model_union_size(universe_, sets));
  const auto regions = model_regions(universe_, sets);
  ASSERT_EQ(body["regions"].size(), regions.size());
  for (std::size_t m = 1; m <= regions.size(); ++m) {
    const auto& region = body["regions"][m - 1];
    std::vector<std::string> members;
    for (std::size_t i = 0; i < 3; ++i) {
      if (m & (std::size_t{1} << i)) members.push_back(names[i]);
    }
    EXPECT_EQ(region["crowds"], members);
    EXPECT_EQ(region["count"], regions[m - 1]) << m;
  }
  EXPECT_EQ(body["total"], universe_.size());
}

TEST_F(AnalyticsTest, OverlapBeyondFourCrowdsHasNoRegionsAndEmptyPairsHaveNullJaccard) {
  json crowds = json::object();
  crowds["a"] = "vip";
  crowds["b"] = "member:x";
  crowds["c"] = "age:18-24";
  crowds["d"] = "age:25-29";
  crowds["e"] = "nosuch";
  const auto body = post_ok("/v1/overlap", {{"crowds", crowds}, {"lenient", true}});
  EXPECT_TRUE(body["regions"].is_null());
  EXPECT_EQ(body["pairs"].size(), 10u);
  EXPECT_EQ(body["crowds"][4]["count"], 0);
  EXPECT_EQ(body["pairs"][9]["b"], "e");
  EXPECT_EQ(body["union"], model_union_size(universe_, {tag("vip"), tag("member:x"), tag("age:18-24"),
                                                        tag("age:25-29")}));
  // Two empty crowds: the union is empty, Jaccard undefined.
  const auto empty = post_ok("/v1/overlap", {{"crowds", {{"x", "nosuch"}, {"y", "nosuch2"}}}, {"lenient", true}});
  EXPECT_TRUE(empty["pairs"][0]["jaccard"].is_null());
  EXPECT_EQ(empty["regions"].size(), 3u);
}

TEST_F(AnalyticsTest, OverlapErrors) {
  post_error("/v1/overlap", "not json");
  post_error("/v1/overlap", R"({})");
  post_error("/v1/overlap", R"({"crowds": {"a": "vip"}})");
  post_error("/v1/overlap", R"({"crowds": ["vip", "member:x"]})");
  post_error("/v1/overlap", R"({"crowds": {"a": "vip", "b": 3}})");
  post_error("/v1/overlap", R"({"crowds": {"a": "vip", "a": "member:x"}})");
  post_error("/v1/overlap", R"({"crowds": {"a": "vip", "b": "member:x"}, "top": 3})");
  json many = json::object();
  for (int i = 0; i < 17; ++i) many["c" + std::to_string(i)] = "vip";
  post_error("/v1/overlap", json{{"crowds", many}}.dump());
  many.erase("c0");
  post_ok("/v1/overlap", {{"crowds", many}});  // 16 is the limit
  const auto e = post_error("/v1/overlap", R"({"crowds": {"a": "vip", "bad": "nosuch"}})", "unknown_tag");
  EXPECT_NE(e["message"].get<std::string>().find("bad"), std::string::npos) << e.dump();
}

// ---- flow ----

TEST_F(AnalyticsTest, FlowMatrixAndMarginsMatchTheModel) {
  const std::vector<std::string> layers = {"A", "I", "P"};
  json from = json::object();
  json to = json::object();
  std::vector<IdList> from_sets;
  std::vector<IdList> to_sets;
  for (const auto& l : layers) {
    from[l] = "aipl:x:" + l;
    to[l] = "aipl:y:" + l;
    from_sets.push_back(tag("aipl:x:" + l));
    to_sets.push_back(tag("aipl:y:" + l));
  }
  to["member"] = "member:x";
  to_sets.push_back(tag("member:x"));
  const auto body = post_ok("/v1/flow", {{"from", from}, {"to", to}});
  ASSERT_EQ(body["from"].size(), 3u);
  ASSERT_EQ(body["to"].size(), 4u);
  const IdList from_any = either(either(from_sets[0], from_sets[1]), from_sets[2]);
  IdList to_any;
  for (const auto& t : to_sets) to_any = either(to_any, t);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(body["from"][i]["name"], layers[i]);
    EXPECT_EQ(body["from"][i]["count"], from_sets[i].size());
    EXPECT_EQ(body["from"][i]["left"], minus(from_sets[i], to_any).size());
    for (std::size_t j = 0; j < 4; ++j) EXPECT_EQ(body["matrix"][i][j], both(from_sets[i], to_sets[j]).size());
  }
  for (std::size_t j = 0; j < 4; ++j) {
    EXPECT_EQ(body["to"][j]["count"], to_sets[j].size());
    EXPECT_EQ(body["to"][j]["new"], minus(to_sets[j], from_any).size());
  }
  EXPECT_EQ(body["to"][3]["name"], "member");
  EXPECT_EQ(body["from_any"], from_any.size());
  EXPECT_EQ(body["to_any"], to_any.size());
  EXPECT_EQ(body["stayed"], both(from_any, to_any).size());
  EXPECT_EQ(body["total"], universe_.size());
}

TEST_F(AnalyticsTest, FlowErrors) {
  post_error("/v1/flow", R"({"from": {"a": "vip"}})");
  post_error("/v1/flow", R"({"to": {"a": "vip"}})");
  post_error("/v1/flow", R"({"from": {}, "to": {"a": "vip"}})");
  post_error("/v1/flow", R"({"from": {"a": "vip"}, "to": "vip"})");
  post_error("/v1/flow", R"({"from": {"a": "vip"}, "to": {"b": "vip"}, "x": 1})");
  post_error("/v1/flow", R"({"from": {"a": "vip"}, "to": {"b": "vip("}})", "parse_error");
  const auto e = post_error("/v1/flow", R"({"from": {"a": "vip"}, "to": {"b": "nosuch"}})", "unknown_tag");
  EXPECT_NE(e["message"].get<std::string>().find("to \"b\""), std::string::npos) << e.dump();
  const auto lenient = post_ok("/v1/flow", json::parse(R"({"from": {"a": "vip"}, "to": {"b": "nosuch"}, "lenient": true})"));
  EXPECT_EQ(lenient["from"][0]["left"], tag("vip").size());
}

// ---- funnel ----

TEST_F(AnalyticsTest, FunnelMatchesTheModel) {
  const std::vector<std::string> steps = {"cat:1:pv", "aipl:x:A OR aipl:x:I", "NOT age:18-24", "cat:1:buy", "member:x"};
  const std::vector<IdList> sets = {tag("cat:1:pv"), either(tag("aipl:x:A"), tag("aipl:x:I")),
                                    minus(universe_, tag("age:18-24")), tag("cat:1:buy"), tag("member:x")};
  const auto body = post_ok("/v1/funnel", {{"steps", steps}});
  const auto counts = model_funnel(sets);
  ASSERT_EQ(body["steps"].size(), counts.size());
  for (std::size_t k = 0; k < counts.size(); ++k) {
    const auto& s = body["steps"][k];
    EXPECT_EQ(s["count"], counts[k]) << k;
    const double prev = k == 0 ? 1.0 : static_cast<double>(counts[k]) / static_cast<double>(counts[k - 1]);
    EXPECT_NEAR(s["from_previous"].get<double>(), prev, 1e-12);
    EXPECT_NEAR(s["from_first"].get<double>(), static_cast<double>(counts[k]) / static_cast<double>(counts[0]),
                1e-12);
  }
  EXPECT_EQ(body["total"], universe_.size());
}

TEST_F(AnalyticsTest, FunnelThatEmptiesHasNullConversions) {
  const auto body = post_ok("/v1/funnel", {{"steps", {"vip", "nosuch", "gender:female"}}, {"lenient", true}});
  EXPECT_EQ(body["steps"][0]["count"], tag("vip").size());
  EXPECT_EQ(body["steps"][1]["count"], 0);
  EXPECT_EQ(body["steps"][2]["count"], 0);
  EXPECT_TRUE(body["steps"][2]["from_previous"].is_null());
  EXPECT_EQ(body["steps"][2]["from_first"], 0.0);
}

TEST_F(AnalyticsTest, FunnelErrors) {
  post_error("/v1/funnel", R"({"steps": []})");
  post_error("/v1/funnel", R"({"steps": "vip"})");
  post_error("/v1/funnel", R"({"steps": ["vip", 3]})");
  post_error("/v1/funnel", R"({"step": ["vip"]})");
  post_error("/v1/funnel", R"({})");
  json many = json::array();
  for (int i = 0; i < 17; ++i) many.push_back("vip");
  post_error("/v1/funnel", json{{"steps", many}}.dump());
  const auto e = post_error("/v1/funnel", R"({"steps": ["vip", "nosuch"]})", "unknown_tag");
  EXPECT_NE(e["message"].get<std::string>().find("step 2"), std::string::npos) << e.dump();
}

}  // namespace
}  // namespace crowd::test
