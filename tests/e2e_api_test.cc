// End-to-end tests of every route against the real crowdd on a loopback port.
// Expectations come from a plain in-test model of the data we ingest (a map
// from user to its set of tags), never from the server's own code.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <roaring/roaring.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "tests/support/served_suite.h"
#include "tests/support/server_process.h"

namespace crowd::test {
namespace {

using json = nlohmann::json;
using Model = std::map<uint64_t, std::set<std::string>>;

const std::vector<std::string> kVocabulary = {"gender:female", "gender:male", "age:18-24", "age:25-29", "city:杭州",
                                              "city:shanghai", "cat:100:pv", "cat:100:buy", "cat:101:pv", "vip",
                                              "member:brand_x", "AND"};

std::set<uint64_t> users_with(const Model& m, const std::function<bool(const std::set<std::string>&)>& pred) {
  std::set<uint64_t> out;
  for (const auto& [id, tags] : m) {
    if (pred(tags)) out.insert(id);
  }
  return out;
}

uint64_t json_id(const json& v) { return v.is_string() ? std::stoull(v.get<std::string>()) : v.get<uint64_t>(); }

class ApiTest : public ServedSuite {
 protected:
  static void SetUpTestSuite() {
    ASSERT_NO_FATAL_FAILURE(start({"--threads", "2", "--max-body", "2000000"}));
    // 300 users, IDs spread out, a few above 2^53; each with random tags.
    std::mt19937_64 rng(20261122);
    std::string ndjson;
    for (int i = 0; i < 300; ++i) {
      const uint64_t id = i < 295 ? 1000 + static_cast<uint64_t>(i) * 7919 : (uint64_t{1} << 60) + i;
      json line;
      line["id"] = id > (uint64_t{1} << 53) ? json(std::to_string(id)) : json(id);
      line["tags"] = json::array();
      for (const auto& t : kVocabulary) {
        if (rng() % 3 == 0) {
          line["tags"].push_back(t);
          model_[id].insert(t);
        }
      }
      if (model_[id].empty()) {
        line["tags"].push_back("vip");
        model_[id].insert("vip");
      }
      ndjson += line.dump() + "\n";
    }
    ASSERT_NO_FATAL_FAILURE(load(ndjson));
    const auto body = json::parse(loaded_.body);
    ASSERT_EQ(body["users"], 300);
  }
  static uint64_t count(const std::string& q) {
    const auto r = server_->get("/v1/count?q=" + url_encode(q));
    EXPECT_EQ(r.status, 200) << q << ": " << r.body;
    return json::parse(r.body)["count"].get<uint64_t>();
  }
  static json error_of(const HttpResult& r) { return json::parse(r.body)["error"]; }

  static Model model_;
};
Model ApiTest::model_;

TEST_F(ApiTest, HealthReportsUsersAndTags) {
  const auto r = server_->get("/healthz");
  ASSERT_EQ(r.status, 200);
  const auto body = json::parse(r.body);
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["users"], model_.size());
  std::set<std::string> tags;
  for (const auto& [id, t] : model_) tags.insert(t.begin(), t.end());
  EXPECT_EQ(body["tags"], tags.size());
}

TEST_F(ApiTest, CountsMatchTheModel) {
  auto has = [](const std::string& t) { return [t](const std::set<std::string>& s) { return s.count(t) > 0; }; };
  const auto female = users_with(model_, has("gender:female"));
  EXPECT_EQ(count("gender:female"), female.size());
  EXPECT_EQ(count("gender:female AND city:杭州"),
            users_with(model_, [](const auto& s) { return s.count("gender:female") && s.count("city:杭州"); }).size());
  EXPECT_EQ(count("gender:female & !city:杭州"),
            users_with(model_, [](const auto& s) { return s.count("gender:female") && !s.count("city:杭州"); }).size());
  EXPECT_EQ(count("NOT vip"), users_with(model_, [](const auto& s) { return !s.count("vip"); }).size());
  EXPECT_EQ(count("cat:100:* OR age:18-24"),
            users_with(model_, [](const auto& s) {
              return s.count("cat:100:pv") || s.count("cat:100:buy") || s.count("age:18-24");
            }).size());
  EXPECT_EQ(count("\"AND\" and (gender:male | vip)"),
            users_with(model_, [](const auto& s) {
              return s.count("AND") && (s.count("gender:male") || s.count("vip"));
            }).size());
  EXPECT_EQ(count("ALL"), model_.size());

  // POST gives the same answer and the total.
  const auto r = server_->post("/v1/count", json{{"q", "gender:female"}}.dump());
  ASSERT_EQ(r.status, 200);
  const auto body = json::parse(r.body);
  EXPECT_EQ(body["count"], female.size());
  EXPECT_EQ(body["total"], model_.size());
  EXPECT_TRUE(body.contains("took_us"));
}

TEST_F(ApiTest, QueryErrorsHavePositionsAndSuggestions) {
  auto r = server_->get("/v1/count?q=" + url_encode("gender:female AND (vip"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r)["code"], "parse_error");
  EXPECT_TRUE(error_of(r).contains("position"));

  r = server_->get("/v1/count?q=" + url_encode("vip AND gender:femal"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r)["code"], "unknown_tag");
  EXPECT_EQ(error_of(r)["position"], 8);
  const auto suggestions = error_of(r)["suggestions"];
  ASSERT_TRUE(suggestions.is_array());
  EXPECT_LE(suggestions.size(), 3u);
  EXPECT_NE(std::find(suggestions.begin(), suggestions.end(), "gender:female"), suggestions.end());

  // The leftmost unknown tag is the one reported; a syntax error beats it.
  r = server_->get("/v1/count?q=" + url_encode("nope1 OR nope2"));
  EXPECT_EQ(error_of(r)["position"], 0);
  r = server_->get("/v1/count?q=" + url_encode("nope1 OR (nope2"));
  EXPECT_EQ(error_of(r)["code"], "parse_error");

  // A prefix matching nothing is unknown too, unless lenient.
  r = server_->get("/v1/count?q=" + url_encode("zzz:*"));
  EXPECT_EQ(error_of(r)["code"], "unknown_tag");
  r = server_->post("/v1/count", json{{"q", "vip OR nope"}, {"lenient", true}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["count"], count("vip"));

  // Too long a query.
  r = server_->post("/v1/count", json{{"q", std::string(70000, 'a')}}.dump());
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(error_of(r)["code"], "too_large");

  // Deep nesting is an error, not a crash; the server still answers.
  r = server_->post("/v1/count", json{{"q", std::string(100000, '(')}}.dump());
  EXPECT_EQ(r.status, 413);  // 100,000 bytes is over the 64 KiB limit
  r = server_->post("/v1/count", json{{"q", std::string(60000, '(') + "vip" + std::string(60000, ')')}}.dump());
  EXPECT_EQ(r.status, 413);
  r = server_->post("/v1/count", json{{"q", std::string(30000, '(') + "vip" + std::string(30000, ')')}}.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r)["code"], "parse_error");
  r = server_->post("/v1/count", json{{"q", std::string(64, '(') + "vip" + std::string(64, ')')}}.dump());
  EXPECT_EQ(r.status, 200);
}

TEST_F(ApiTest, BadRequestsAreRefused) {
  struct Case {
    std::string method, target, body, type;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"POST", "/v1/count", "{not json", "application/json", 400, "bad_request"},
      {"POST", "/v1/count", "[1,2]", "application/json", 400, "bad_request"},
      {"POST", "/v1/count", "{\"q\": 5}", "application/json", 400, "bad_request"},
      {"POST", "/v1/count", "{}", "application/json", 400, "bad_request"},
      {"POST", "/v1/count", "{\"q\": \"vip\", \"lenient\": \"yes\"}", "application/json", 400, "bad_request"},
      {"POST", "/v1/count", std::string("{\"q\": \"v\xff\"}"), "application/json", 400, "bad_request"},
      {"GET", "/v1/count", "", "", 400, "bad_request"},
      {"GET", "/v1/count?q=vip&lenient=maybe", "", "", 400, "bad_request"},
      {"GET", "/v1/nothing", "", "", 404, "not_found"},
      {"PUT", "/v1/count", "{}", "application/json", 405, "method_not_allowed"},
      {"POST", "/v1/ingest", "1,vip\n", "application/xml", 415, "unsupported_media_type"},
      {"POST", "/v1/ids", "{\"q\": \"vip\", \"limit\": 0}", "application/json", 400, "bad_request"},
      {"POST", "/v1/ids", "{\"q\": \"vip\", \"limit\": 1000001}", "application/json", 400, "bad_request"},
      {"POST", "/v1/ids", "{\"q\": \"vip\", \"cursor\": \"garbage\"}", "application/json", 400, "bad_cursor"},
      {"GET", "/v1/ids?q=vip&format=xml", "", "", 400, "bad_request"},
      {"GET", "/v1/tags?limit=100001", "", "", 400, "bad_request"},
      {"GET", "/v1/tags?limit=abc", "", "", 400, "bad_request"},
      {"DELETE", "/v1/users/abc", "", "", 400, "bad_request"},
      {"DELETE", "/v1/users/007", "", "", 400, "bad_request"},
      {"DELETE", "/v1/users/99", "", "", 404, "not_found"},
      {"POST", "/v1/admin/snapshot", "", "", 400, "bad_request"},
      {"POST", "/v1/assign", "{\"add\": 5}", "application/json", 400, "bad_request"},
      {"POST", "/v1/assign", "{\"add\": [{\"id\": -1, \"tags\": [\"x\"]}]}", "application/json", 400, "bad_request"},
      {"POST", "/v1/assign", "{\"add\": [{\"id\": 1.5, \"tags\": [\"x\"]}]}", "application/json", 400, "bad_request"},
      {"POST", "/v1/assign", "{\"add\": [{\"id\": \"01\", \"tags\": [\"x\"]}]}", "application/json", 400,
       "bad_request"},
      {"POST", "/v1/assign", "{\"add\": [{\"id\": 1, \"tags\": [\"\"]}]}", "application/json", 400, "bad_request"},
      {"POST", "/v1/assign", "{\"nope\": []}", "application/json", 400, "bad_request"},
  };
  for (const auto& c : cases) {
    const auto r = server_->request(c.method, c.target, c.body, c.type);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << " " << c.body << " -> " << r.body;
    ASSERT_TRUE(json::accept(r.body)) << r.body;
    EXPECT_EQ(error_of(r)["code"], c.code) << c.method << " " << c.target << " " << c.body;
    EXPECT_TRUE(error_of(r)["message"].is_string());
  }
  // The assign errors name their entry.
  const auto r = server_->post("/v1/assign", R"({"add": [{"id": 1, "tags": ["ok"]}, {"id": 2, "tags": ["x", 7]}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(error_of(r)["message"].get<std::string>().find("add[1].tags[1]"), std::string::npos) << r.body;
  // Nothing of the refused batch landed.
  EXPECT_EQ(server_->get("/v1/count?q=ok").status, 400);
  // Still healthy after all that.
  EXPECT_EQ(server_->get("/healthz").status, 200);
}

TEST_F(ApiTest, BodyLimitIs413) {
  const auto r = server_->post("/v1/ingest", std::string(2'500'000, ' '), "application/x-ndjson");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(error_of(r)["code"], "too_large");
  EXPECT_EQ(server_->get("/healthz").status, 200);
}

TEST_F(ApiTest, PagesWalkTheWholeCrowdOnce) {
  const std::string q = "gender:female OR vip";
  const auto expected =
      users_with(model_, [](const auto& s) { return s.count("gender:female") || s.count("vip"); });
  std::set<uint64_t> seen;
  std::string cursor;
  int pages = 0;
  while (true) {
    json req{{"q", q}, {"limit", 7}};
    if (!cursor.empty()) req["cursor"] = cursor;
    const auto r = server_->post("/v1/ids", req.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    const auto body = json::parse(r.body);
    EXPECT_EQ(body["count"], expected.size());
    EXPECT_LE(body["ids"].size(), 7u);
    for (const auto& id : body["ids"]) EXPECT_TRUE(seen.insert(json_id(id)).second) << "duplicate " << id;
    ++pages;
    if (body["cursor"].is_null()) break;
    cursor = body["cursor"];
    ASSERT_LT(pages, 1000);
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(pages, static_cast<int>((expected.size() + 6) / 7));

  // A cursor is tied to its query.
  const auto first = json::parse(server_->post("/v1/ids", json{{"q", q}, {"limit", 1}}.dump()).body);
  const auto r = server_->post("/v1/ids", json{{"q", "vip"}, {"cursor", first["cursor"]}}.dump());
  EXPECT_EQ(r.status, 400);

  // GET paging works too, and big IDs come back as strings.
  const auto g = server_->get("/v1/ids?q=ALL&limit=1000000");
  ASSERT_EQ(g.status, 200);
  const auto all = json::parse(g.body);
  EXPECT_EQ(all["ids"].size(), model_.size());
  for (const auto& id : all["ids"]) {
    if (id.is_string()) {
      EXPECT_GT(std::stoull(id.get<std::string>()), uint64_t{1} << 53);
    } else {
      EXPECT_LE(id.get<uint64_t>(), uint64_t{1} << 53);
    }
  }
}

TEST_F(ApiTest, CsvExportStreamsTheCrowd) {
  const auto r = server_->get("/v1/ids?q=" + url_encode("NOT gender:male") + "&format=csv");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.headers.at("content-type"), "text/csv");
  std::set<uint64_t> got;
  std::istringstream in(r.body);
  for (std::string line; std::getline(in, line);) got.insert(std::stoull(line));
  EXPECT_EQ(got, users_with(model_, [](const auto& s) { return !s.count("gender:male"); }));
}

TEST_F(ApiTest, RoaringExportDecodesToTheCrowd) {
  // Only small IDs: the 32-bit portable format, readable by CRoaring.
  auto r = server_->get("/v1/ids?q=" + url_encode("vip AND NOT member:brand_x") + "&format=roaring");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.at("content-type"), "application/octet-stream");
  std::set<uint64_t> expected =
      users_with(model_, [](const auto& s) { return s.count("vip") && !s.count("member:brand_x"); });
  const bool has_big = std::any_of(expected.begin(), expected.end(), [](uint64_t id) { return id >> 32; });
  auto decode32 = [](const std::string& bytes) {
    roaring_bitmap_t* b = roaring_bitmap_portable_deserialize_safe(bytes.data(), bytes.size());
    EXPECT_NE(b, nullptr);
    std::set<uint64_t> out;
    if (b == nullptr) return out;
    EXPECT_EQ(roaring_bitmap_portable_size_in_bytes(b), bytes.size());
    std::vector<uint32_t> v(roaring_bitmap_get_cardinality(b));
    roaring_bitmap_to_uint32_array(b, v.data());
    roaring_bitmap_free(b);
    out.insert(v.begin(), v.end());
    return out;
  };
  auto decode64 = [&](const std::string& bytes) {
    std::set<uint64_t> out;
    uint64_t buckets = 0;
    std::memcpy(&buckets, bytes.data(), 8);
    std::size_t pos = 8;
    for (uint64_t i = 0; i < buckets; ++i) {
      uint32_t high = 0;
      std::memcpy(&high, bytes.data() + pos, 4);
      pos += 4;
      roaring_bitmap_t* b = roaring_bitmap_portable_deserialize_safe(bytes.data() + pos, bytes.size() - pos);
      EXPECT_NE(b, nullptr);
      if (b == nullptr) return out;
      pos += roaring_bitmap_portable_size_in_bytes(b);
      std::vector<uint32_t> v(roaring_bitmap_get_cardinality(b));
      roaring_bitmap_to_uint32_array(b, v.data());
      roaring_bitmap_free(b);
      for (const auto low : v) out.insert((uint64_t{high} << 32) | low);
    }
    EXPECT_EQ(pos, bytes.size());
    return out;
  };
  EXPECT_EQ(has_big ? decode64(r.body) : decode32(r.body), expected);

  // The whole universe includes IDs >= 2^32: the 64-bit format.
  r = server_->get("/v1/ids?q=ALL&format=roaring");
  ASSERT_EQ(r.status, 200);
  std::set<uint64_t> all;
  for (const auto& [id, t] : model_) all.insert(id);
  EXPECT_EQ(decode64(r.body), all);

  // An empty crowd is an empty 32-bit bitmap.
  r = server_->get("/v1/ids?q=" + url_encode("vip AND NOT vip") + "&format=roaring");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(decode32(r.body).empty());
}

TEST_F(ApiTest, TagsAndFieldsListings) {
  auto r = server_->get("/v1/tags?prefix=" + url_encode("cat:") + "&limit=2&offset=1");
  ASSERT_EQ(r.status, 200);
  auto body = json::parse(r.body);
  EXPECT_EQ(body["total"], 3);  // cat:100:buy, cat:100:pv, cat:101:pv
  ASSERT_EQ(body["tags"].size(), 2u);
  EXPECT_EQ(body["tags"][0]["tag"], "cat:100:pv");
  EXPECT_EQ(body["tags"][1]["tag"], "cat:101:pv");
  EXPECT_EQ(body["tags"][0]["count"], users_with(model_, [](const auto& s) { return s.count("cat:100:pv"); }).size());

  r = server_->get("/v1/tags");
  body = json::parse(r.body);
  std::vector<std::string> names;
  for (const auto& t : body["tags"]) names.push_back(t["tag"]);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));  // std::string compares bytes

  r = server_->get("/v1/fields");
  ASSERT_EQ(r.status, 200);
  body = json::parse(r.body);
  bool saw_gender = false;
  for (const auto& f : body["fields"]) {
    if (f["field"] == "gender") {
      saw_gender = true;
      EXPECT_EQ(f["tags"], 2);
      EXPECT_EQ(f["users"], users_with(model_, [](const auto& s) {
                              return s.count("gender:female") || s.count("gender:male");
                            }).size());
    }
    if (f["field"] == "vip") {
      EXPECT_EQ(f["tags"], 1);  // a tag with no ':' is its own field
    }
  }
  EXPECT_TRUE(saw_gender);
}

TEST_F(ApiTest, MetricsAreExposed) {
  (void)server_->get("/healthz");
  const auto r = server_->get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("crowd_requests_total{route=\"/healthz\",status=\"200\"}"), std::string::npos);
  EXPECT_NE(r.body.find("crowd_request_duration_seconds_bucket{route=\"/v1/count\""), std::string::npos);
  EXPECT_NE(r.body.find("crowd_users "), std::string::npos);
  EXPECT_NE(r.body.find("crowd_bitmap_bytes "), std::string::npos);
  EXPECT_NE(r.body.find("crowd_wal_bytes "), std::string::npos);
}

// Writes use users and tags of their own, so the other tests' expectations
// hold whether or not these ran first (ctest runs each test in its own server).
TEST_F(ApiTest, IngestIsAtomic) {
  const uint64_t before = json::parse(server_->get("/healthz").body)["users"];
  const std::string body =
      "{\"id\": 900000001, \"tags\": [\"atomic:new\"]}\n"
      "\n"
      "{\"id\": 900000002, \"tags\": [\"atomic:new\"], \"extra\": 1}\n";
  auto r = server_->post("/v1/ingest", body, "application/x-ndjson");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r)["code"], "bad_line");
  EXPECT_EQ(error_of(r)["line"], 3);
  EXPECT_EQ(json::parse(server_->get("/healthz").body)["users"], before);
  EXPECT_EQ(server_->get("/v1/count?q=atomic:new").status, 400);  // the tag was never created

  r = server_->post("/v1/ingest", "900000001,atomic:csv\n900000002,atomic:csv\nnot-a-number,x\n", "text/csv");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r)["line"], 3);
  EXPECT_EQ(json::parse(server_->get("/healthz").body)["users"], before);

  r = server_->post("/v1/ingest", "900000001,atomic:csv\r\n900000002,atomic:csv,with comma\n", "text/csv; charset=utf-8");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["assignments"], 2);
  EXPECT_EQ(count("atomic:csv"), 1u);
  EXPECT_EQ(count("\"atomic:csv,with comma\""), 1u);
  // Re-ingesting sets nothing new.
  r = server_->post("/v1/ingest", "900000001,atomic:csv\n", "text/csv");
  EXPECT_EQ(json::parse(r.body)["assignments"], 0);
}

TEST_F(ApiTest, AssignAndDelete) {
  const uint64_t before = count("ALL");
  auto r = server_->post("/v1/assign", R"({"add": [{"id": 910000001, "tags": ["life:a", "life:b"]},
                                                    {"id": "910000002", "tags": ["life:a"]}],
                                           "remove": [{"id": 910000002, "tags": ["life:a", "life:zzz"]}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["added"], 3);
  EXPECT_EQ(json::parse(r.body)["removed"], 1);
  EXPECT_EQ(count("life:a"), 1u);
  // 910000002 lost its last tag but stays in the universe.
  EXPECT_EQ(count("ALL"), before + 2);

  r = server_->request("DELETE", "/v1/users/910000001");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(count("life:a OR life:b"), 0u);
  EXPECT_EQ(count("ALL"), before + 1);
  EXPECT_EQ(server_->request("DELETE", "/v1/users/910000001").status, 404);

  // A deleted user assigned again comes back with only the new tags.
  r = server_->post("/v1/assign", R"({"add": [{"id": 910000001, "tags": ["life:c"]}]})");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(count("life:c"), 1u);
  EXPECT_EQ(count("life:b"), 0u);
  EXPECT_EQ(count("ALL"), before + 2);
}

}  // namespace
}  // namespace crowd::test
