// The tag library over HTTP (issue 17, items 5 and 8): field metadata
// defined, listed, searched and persisted; an exclusive field refused while
// users hold two values, then replacing values on every write path against
// an independent model; bad bodies change nothing.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/support/e2e_util.h"
#include "tests/support/server_process.h"

namespace crowd::test {
namespace {

using json = nlohmann::json;

const std::vector<std::string> kColours = {"colour:red", "colour:green", "colour:blue"};

std::map<std::string, json> by_field(const ServerProcess& s) {
  std::map<std::string, json> out;
  const json body = body_json(s.get("/v1/fields"));
  for (const auto& f : body["fields"]) out[f["field"].get<std::string>()] = f;
  return out;
}

std::vector<std::string> tag_names(const json& listing) {
  std::vector<std::string> out;
  for (const auto& t : listing["tags"]) out.push_back(t["tag"].get<std::string>());
  return out;
}

TEST(TagLibrary, MetadataIsListedSearchedAndSurvivesRestarts) {
  const auto dir = temp_dir("crowd-e2e-taglib");
  const std::string meta = R"({"label": "颜色 Colour", "description": "the colour a user likes",
    "values": {"red": "红色", "green": {"label": "绿色", "parent": "palette:warm"}}})";
  {
    ServerProcess s({"--data-dir", dir, "--threads", "2"});
    ASSERT_TRUE(s.ok()) << s.log();
    std::string ndjson;
    for (int u = 1; u <= 60; ++u) {
      ndjson += R"({"id": )" + std::to_string(u) + R"(, "tags": [")" + kColours[u % 3] + R"(", "vip"])";
      if (u % 4 == 0) ndjson += R"(, "values": {"spend": )" + std::to_string(u) + "}";
      if (u % 5 == 0) ndjson += R"(, "events": [{"tag": "colour:red", "day": "2020-01-01"}])";
      ndjson += "}\n";
    }
    ASSERT_EQ(s.post("/v1/ingest", ndjson, "application/x-ndjson").status, 200);
    const auto put = s.request("PUT", "/v1/fields/colour", meta);
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_EQ(body_json(put)["label"], "颜色 Colour");
    EXPECT_EQ(s.post("/v1/admin/snapshot", "").status, 200);
    // A later change goes through the log only.
    ASSERT_EQ(s.request("PUT", "/v1/fields/vip", R"({"label": "会员"})").status, 200);
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  ServerProcess s({"--data-dir", dir, "--threads", "2"});
  ASSERT_TRUE(s.ok()) << s.log();
  auto fields = by_field(s);
  ASSERT_TRUE(fields.contains("colour"));
  EXPECT_EQ(fields["colour"]["label"], "颜色 Colour");
  EXPECT_EQ(fields["colour"]["description"], "the colour a user likes");
  EXPECT_EQ(fields["colour"]["kind"], "multi");
  EXPECT_EQ(fields["colour"]["users"], 60);
  EXPECT_DOUBLE_EQ(fields["colour"]["coverage"].get<double>(), 1.0);
  EXPECT_EQ(fields["colour"]["dated_tags"], 1);
  // Numeric attributes are listed with their own kind.
  ASSERT_TRUE(fields.contains("spend"));
  EXPECT_EQ(fields["spend"]["kind"], "numeric");
  EXPECT_EQ(fields["spend"]["users"], 15);

  // One field: values by coverage, with labels, parents and kinds.
  const auto colour = body_json(s.get("/v1/fields/colour"));
  ASSERT_EQ(colour["values"].size(), 3u);
  // Users u % 3 == 0 red (kColours[u % 3]), 1 green, 2 blue; u % 5 == 0 also
  // red, by their event.
  std::map<std::string, uint64_t> holders;
  for (int u = 1; u <= 60; ++u) {
    ++holders[kColours[u % 3]];
    if (u % 5 == 0 && u % 3 != 0) ++holders["colour:red"];
  }
  uint64_t previous = UINT64_MAX;
  for (const auto& v : colour["values"]) {
    EXPECT_LE(v["count"].get<uint64_t>(), previous);
    previous = v["count"].get<uint64_t>();
    EXPECT_EQ(v["count"], holders[v["tag"].get<std::string>()]) << v;
    if (v["tag"] == "colour:red") {
      EXPECT_EQ(v["label"], "红色");
      EXPECT_EQ(v["kind"], "dated");
    }
    if (v["tag"] == "colour:green") {
      EXPECT_EQ(v["parent"], "palette:warm");
    }
    if (v["tag"] == "colour:blue") {
      EXPECT_FALSE(v.contains("label"));
    }
  }
  // Search: labels and names, CJK as typed, ASCII in any case.
  EXPECT_EQ(tag_names(body_json(s.get("/v1/tags?search=" + url_encode("绿")))),
            std::vector<std::string>{"colour:green"});
  EXPECT_EQ(tag_names(body_json(s.get("/v1/tags?search=" + url_encode("颜色")))).size(), 3u);
  EXPECT_EQ(tag_names(body_json(s.get("/v1/tags?search=BLUE"))), std::vector<std::string>{"colour:blue"});
  EXPECT_EQ(tag_names(body_json(s.get("/v1/tags?search=" + url_encode("会员")))), std::vector<std::string>{"vip"});
  const auto by_coverage = tag_names(body_json(s.get("/v1/tags?sort=coverage")));
  ASSERT_FALSE(by_coverage.empty());
  EXPECT_EQ(by_coverage.front(), "vip");
  EXPECT_EQ(s.get("/v1/tags?sort=size").status, 400);

  // Forgetting the metadata keeps the tags.
  EXPECT_EQ(s.request("DELETE", "/v1/fields/colour").status, 200);
  EXPECT_EQ(s.request("DELETE", "/v1/fields/colour").status, 404);
  EXPECT_FALSE(by_field(s)["colour"].contains("label"));
  EXPECT_EQ(count_of(s, "colour:*"), 60u);
  EXPECT_EQ(s.stop(), 0) << s.log();
}

TEST(TagLibrary, BadDefinitionsAreRefusedAndChangeNothing) {
  ServerProcess s({"--threads", "2"});
  ASSERT_TRUE(s.ok()) << s.log();
  ASSERT_EQ(s.post("/v1/assign", R"({"add": [{"id": 1, "tags": ["colour:red"]}]})").status, 200);
  ASSERT_EQ(s.request("PUT", "/v1/fields/colour", R"({"label": "Colour"})").status, 200);
  for (const auto& [path, body] : std::vector<std::pair<std::string, std::string>>{
           {"/v1/fields/colour", "not json"},
           {"/v1/fields/colour", R"({"label": 7})"},
           {"/v1/fields/colour", R"({"kind": "single"})"},
           {"/v1/fields/colour", R"({"colour": "x"})"},
           {"/v1/fields/colour", R"({"values": {"red": {"label": "x", "size": 1}}})"},
           {"/v1/fields/colour", R"({"label": ")" + std::string(201, 'x') + R"("})"},
           {"/v1/fields/colour", "{\"label\": \"a\\u0001b\"}"},
           {"/v1/fields/col:our", R"({"label": "x"})"}}) {
    const auto r = s.request("PUT", path, body);
    EXPECT_EQ(r.status, 400) << body << ": " << r.body;
  }
  EXPECT_EQ(by_field(s)["colour"]["label"], "Colour");
  EXPECT_EQ(s.get("/v1/fields/nothing").status, 404);
  // A field described before (or after) it has tags is listed, empty.
  ASSERT_EQ(s.request("PUT", "/v1/fields/size", R"({"label": "尺码", "kind": "exclusive"})").status, 200);
  auto fields = by_field(s);
  ASSERT_TRUE(fields.contains("size"));
  EXPECT_EQ(fields["size"]["users"], 0);
  EXPECT_EQ(fields["size"]["kind"], "exclusive");
  EXPECT_EQ(s.request("DELETE", "/v1/fields/size").status, 200);
  EXPECT_FALSE(by_field(s).contains("size"));
  EXPECT_EQ(s.stop(), 0) << s.log();
}

// Users as sets of tags, colour exclusive once declared.
struct Model {
  std::map<uint64_t, std::set<std::string>> users;
  bool exclusive = false;
  void add(uint64_t u, const std::string& tag) {
    if (exclusive && tag.starts_with("colour:")) {
      std::erase_if(users[u], [](const std::string& t) { return t.starts_with("colour:"); });
    }
    users[u].insert(tag);
  }
  [[nodiscard]] uint64_t holders(const std::string& tag) const {
    uint64_t n = 0;
    for (const auto& [u, tags] : users) n += tags.contains(tag) ? 1 : 0;
    return n;
  }
};

TEST(TagLibrary, AnExclusiveFieldReplacesValuesOnEveryWritePath) {
  const auto dir = temp_dir("crowd-e2e-taglib-exclusive");
  Model m;
  std::mt19937_64 rng(17);
  {
    ServerProcess s({"--data-dir", dir, "--threads", "2"});
    ASSERT_TRUE(s.ok()) << s.log();
    // Two users with two colours: exclusive is refused, nothing changes.
    ASSERT_EQ(s.post("/v1/assign", R"({"add": [{"id": 1, "tags": ["colour:red", "colour:blue"]},
                                               {"id": 2, "tags": ["colour:red", "colour:green"]},
                                               {"id": 3, "tags": ["colour:red"]}]})")
                  .status,
              200);
    for (const auto& [u, t] : std::vector<std::pair<uint64_t, std::string>>{
             {1, "colour:red"}, {1, "colour:blue"}, {2, "colour:red"}, {2, "colour:green"}, {3, "colour:red"}}) {
      m.add(u, t);
    }
    auto r = s.request("PUT", "/v1/fields/colour", R"({"kind": "exclusive"})");
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_EQ(error_code(r), "field_not_exclusive");
    EXPECT_NE(error_message(r).find("2 users"), std::string::npos) << r.body;
    EXPECT_EQ(by_field(s)["colour"]["kind"], "multi");
    ASSERT_EQ(
        s.post("/v1/assign", R"({"remove": [{"id": 1, "tags": ["colour:blue"]}, {"id": 2, "tags": ["colour:green"]}]})")
            .status,
        200);
    m.users[1].erase("colour:blue");
    m.users[2].erase("colour:green");
    r = s.request("PUT", "/v1/fields/colour", R"({"kind": "exclusive", "label": "颜色"})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(body_json(r)["kind"], "exclusive");
    m.exclusive = true;
    // Random writes: ingest lines (grouped) and assigns with removes (in
    // order), several values of a user in one request: the last wins.
    for (int round = 0; round < 30; ++round) {
      std::string ndjson;
      json adds = json::array();
      const bool with_removes = round % 2 == 1;
      for (int k = 0; k < 20; ++k) {
        const uint64_t u = 1 + rng() % 25;
        std::vector<std::string> tags;
        for (int t = 0, n = 1 + static_cast<int>(rng() % 2); t < n; ++t) tags.push_back(kColours[rng() % 3]);
        if (rng() % 4 == 0) tags.push_back("vip");
        for (const auto& t : tags) m.add(u, t);
        if (with_removes) {
          adds.push_back(json{{"id", u}, {"tags", tags}});
        } else {
          ndjson += json{{"id", u}, {"tags", tags}}.dump() + "\n";
        }
      }
      if (with_removes) {
        const uint64_t u = 1 + rng() % 25;
        json body{{"add", adds}, {"remove", json::array({json{{"id", u}, {"tags", {"vip"}}}})}};
        ASSERT_EQ(s.post("/v1/assign", body.dump()).status, 200);
        // Removes apply after adds in an assign (api.md).
        if (m.users.contains(u)) m.users[u].erase("vip");
      } else {
        ASSERT_EQ(s.post("/v1/ingest", ndjson, "application/x-ndjson").status, 200);
      }
      for (const auto& t : kColours) ASSERT_EQ(count_of(s, t), m.holders(t)) << "round " << round << " " << t;
      ASSERT_EQ(count_of(s, "vip"), m.holders("vip")) << "round " << round;
    }
    uint64_t sum = 0;
    for (const auto& t : kColours) sum += m.holders(t);
    EXPECT_EQ(count_of(s, "colour:*"), sum) << "nobody holds two colours";
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  // The log replays the same replacements.
  ServerProcess s({"--data-dir", dir, "--threads", "2"});
  ASSERT_TRUE(s.ok()) << s.log();
  for (const auto& t : kColours) EXPECT_EQ(count_of(s, t), m.holders(t)) << t;
  EXPECT_EQ(by_field(s)["colour"]["kind"], "exclusive");
  EXPECT_EQ(by_field(s)["colour"]["label"], "颜色");
  EXPECT_EQ(s.stop(), 0) << s.log();
}

}  // namespace
}  // namespace crowd::test
