// End-to-end tests of numeric values through the write routes of the real
// crowdd: "values" in NDJSON ingest and in /v1/assign add entries, clearing
// with "values": [names] in remove entries, user deletion, and every kind of
// malformed value refused atomically. Checked with `attr >= n` and `attr = n`
// counts against a plain in-test model (user -> attribute -> int64).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
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

const std::vector<std::string> kAttributes = {"spend_90d", "orders_365d", "recency_days", "clv"};
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

struct ValueModel {
  std::map<uint64_t, std::set<std::string>> tags;  // every user of the universe has an entry
  std::map<uint64_t, std::map<std::string, int64_t>> values;

  [[nodiscard]] uint64_t at_least(const std::string& attr, int64_t n) const {
    uint64_t c = 0;
    for (const auto& [id, vs] : values) {
      const auto it = vs.find(attr);
      c += it != vs.end() && it->second >= n ? 1 : 0;
    }
    return c;
  }
  [[nodiscard]] uint64_t equal(const std::string& attr, int64_t n) const {
    uint64_t c = 0;
    for (const auto& [id, vs] : values) {
      const auto it = vs.find(attr);
      c += it != vs.end() && it->second == n ? 1 : 0;
    }
    return c;
  }
  [[nodiscard]] uint64_t with_value(const std::string& attr) const { return at_least(attr, kMin); }
  void erase(uint64_t id) {
    tags.erase(id);
    values.erase(id);
  }
};

// A value from a mix: small, large, negative, the extremes, repeats.
int64_t random_value(std::mt19937_64& rng) {
  switch (rng() % 8) {
    case 0:
      return static_cast<int64_t>(rng() % 10);  // many repeats
    case 1:
      return -static_cast<int64_t>(rng() % 1000);
    case 2:
      return static_cast<int64_t>(rng() >> 1);  // large positive
    case 3:
      return -static_cast<int64_t>(rng() >> 2);
    case 4:
      return rng() % 2 == 0 ? kMin : kMax;
    default:
      return static_cast<int64_t>(rng() % 100000);
  }
}

// Thresholds worth asking about: every distinct value, its neighbours, the extremes.
std::vector<int64_t> thresholds(const ValueModel& m, const std::string& attr, std::mt19937_64& rng) {
  std::set<int64_t> out = {kMin, kMin + 1, -1, 0, 1, 5, 1000, kMax - 1, kMax};
  for (const auto& [id, vs] : m.values) {
    const auto it = vs.find(attr);
    if (it == vs.end() || rng() % 6 != 0) continue;
    out.insert(it->second);
    if (it->second != kMax) out.insert(it->second + 1);
    if (it->second != kMin) out.insert(it->second - 1);
  }
  return {out.begin(), out.end()};
}

class ValuesWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{"--threads", "2", "--max-body", "4000000"});
    ASSERT_TRUE(server_->ok()) << server_->log();
    // 500 users: some with tags only, some with values only, most with both.
    std::mt19937_64 rng(20261124);
    std::string ndjson;
    uint64_t pairs = 0;
    for (int i = 0; i < 500; ++i) {
      const uint64_t id = 10 + static_cast<uint64_t>(i) * 7;
      json line = json::object();
      line["id"] = id;
      const int kind = static_cast<int>(rng() % 5);
      model_.tags[id];
      if (kind != 0) {  // tags
        json tags = json::array();
        for (const std::string t : {"vip", "gender:female", "city:杭州"}) {
          if (rng() % 2 == 0) {
            tags.push_back(t);
            pairs += model_.tags[id].insert(t).second ? 1 : 0;
          }
        }
        if (tags.empty()) {
          tags.push_back("vip");
          pairs += model_.tags[id].insert("vip").second ? 1 : 0;
        }
        line["tags"] = tags;
      }
      if (kind != 1) {  // values
        json values = json::object();
        for (const auto& a : kAttributes) {
          if (rng() % 3 != 0) {
            const int64_t v = random_value(rng);
            values[a] = v;
            model_.values[id][a] = v;
          }
        }
        if (values.empty()) {
          values["clv"] = 42;
          model_.values[id]["clv"] = 42;
        }
        line["values"] = values;
      }
      ndjson += line.dump() + "\n";
    }
    const auto r = server_->post("/v1/ingest", ndjson, "application/x-ndjson");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(body_json(r)["users"], 500);
    // Values are not (user, tag) pairs.
    EXPECT_EQ(body_json(r)["assignments"], pairs);
  }
  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->stop(), 0) << server_->log();
    }
  }

  void expect_model_holds(const std::string& context, uint64_t seed = 1) {
    std::mt19937_64 rng(seed);
    for (const auto& a : kAttributes) {
      for (const int64_t n : thresholds(model_, a, rng)) {
        EXPECT_EQ(count_of(*server_, a + " >= " + std::to_string(n)), model_.at_least(a, n))
            << context << ": " << a << " >= " << n;
      }
      std::set<int64_t> probes = {0, 42, kMin, kMax};
      for (const auto& [id, vs] : model_.values) {
        if (const auto it = vs.find(a); it != vs.end() && rng() % 10 == 0) probes.insert(it->second);
      }
      for (const int64_t n : probes) {
        EXPECT_EQ(count_of(*server_, a + " = " + std::to_string(n)), model_.equal(a, n))
            << context << ": " << a << " = " << n;
      }
    }
    EXPECT_EQ(universe_of(*server_), model_.tags.size()) << context;
    uint64_t vip = 0;
    for (const auto& [id, t] : model_.tags) vip += t.contains("vip") ? 1 : 0;
    EXPECT_EQ(count_of(*server_, "vip"), vip) << context;
  }

  std::unique_ptr<ServerProcess> server_;
  ValueModel model_;
};

TEST_F(ValuesWriteTest, IngestedValuesMatchTheModel) {
  expect_model_holds("after ingest");
  // Values-only users are in the universe: ALL counts them, and a value
  // combines with tags.
  EXPECT_EQ(count_of(*server_, "ALL"), model_.tags.size());
  uint64_t expected = 0;
  for (const auto& [id, vs] : model_.values) {
    const auto it = vs.find("spend_90d");
    expected += it != vs.end() && it->second >= 0 && !model_.tags[id].contains("vip") ? 1 : 0;
  }
  EXPECT_EQ(count_of(*server_, "spend_90d >= 0 AND NOT vip"), expected);
}

TEST_F(ValuesWriteTest, ALaterIngestReplacesValues) {
  // Every other user with a value gets new ones; a user on two lines of one
  // batch keeps the last.
  std::mt19937_64 rng(99);
  std::string ndjson;
  int lines = 0;
  std::vector<uint64_t> ids;
  for (const auto& [id, vs] : model_.values) ids.push_back(id);
  for (std::size_t i = 0; i < ids.size(); i += 2) {
    json values = json::object();
    for (const auto& a : kAttributes) {
      if (rng() % 2 == 0) {
        const int64_t v = random_value(rng);
        values[a] = v;
        model_.values[ids[i]][a] = v;
      }
    }
    if (values.empty()) continue;
    json line = json::object();
    line["id"] = ids[i];
    line["values"] = values;
    ndjson += line.dump() + "\n";
    ++lines;
  }
  for (int k = 0; k < 2; ++k) {
    ndjson += R"({"id": 10, "values": {"orders_365d": )" + std::to_string(1000 + k) + "}}\n";
    ++lines;
  }
  model_.values[10]["orders_365d"] = 1001;
  model_.tags[10];
  const auto r = server_->post("/v1/ingest", ndjson, "application/x-ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r)["users"], lines);
  EXPECT_EQ(body_json(r)["assignments"], 0);
  expect_model_holds("after re-ingest", 2);
  EXPECT_EQ(count_of(*server_, "orders_365d = 1001"), model_.equal("orders_365d", 1001));
  EXPECT_EQ(count_of(*server_, "orders_365d = 1000"), model_.equal("orders_365d", 1000));
}

TEST_F(ValuesWriteTest, AssignSetsAndClearsValues) {
  std::vector<uint64_t> ids;
  for (const auto& [id, vs] : model_.values) ids.push_back(id);
  ASSERT_GT(ids.size(), 100u);
  // Set: existing users and a new one (values only: joins the universe).
  json add = json::array();
  for (std::size_t i = 0; i < 40; ++i) {
    json e = json::object();
    e["id"] = ids[i * 2];
    e["values"] = json{{"spend_90d", static_cast<int64_t>(i) * 100 - 500}};
    model_.values[ids[i * 2]]["spend_90d"] = static_cast<int64_t>(i) * 100 - 500;
    add.push_back(e);
  }
  add.push_back(json::parse(R"({"id": "18446744073709551615", "values": {"clv": -7}, "tags": ["vip"]})"));
  model_.values[UINT64_MAX]["clv"] = -7;
  model_.tags[UINT64_MAX].insert("vip");
  // Clear: some attributes of some users (present or not), then check.
  json remove = json::array();
  for (std::size_t i = 0; i < 30; ++i) {
    const uint64_t id = ids[ids.size() - 1 - i];
    json e = json::object();
    e["id"] = id;
    e["values"] = i % 2 == 0 ? json::array({"clv", "recency_days"}) : json::array({"orders_365d"});
    for (const auto& a : e["values"]) model_.values[id].erase(a.get<std::string>());
    remove.push_back(e);
  }
  // Clearing a value of an unknown user does nothing.
  remove.push_back(json::parse(R"({"id": 3, "values": ["clv"]})"));
  auto r = server_->post("/v1/assign", json{{"add", add}, {"remove", remove}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r)["added"], 1);  // only the (max, vip) pair is a tag pair
  EXPECT_EQ(body_json(r)["removed"], 0);
  expect_model_holds("after assign", 3);
  uint64_t minus7_vip = 0;
  for (const auto& [uid, vs] : model_.values) {
    const auto it = vs.find("clv");
    minus7_vip += it != vs.end() && it->second == -7 && model_.tags[uid].contains("vip") ? 1 : 0;
  }
  EXPECT_GE(minus7_vip, 1u);
  EXPECT_EQ(count_of(*server_, "clv = -7 AND vip"), minus7_vip);

  // A user whose every value was cleared stays in the universe.
  const uint64_t id = ids[ids.size() - 1];
  r = server_->post("/v1/assign", R"({"remove": [{"id": )" + std::to_string(id) +
                                      R"(, "values": ["spend_90d", "orders_365d", "recency_days", "clv"]}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  model_.values.erase(id);
  expect_model_holds("after clearing one user's every value", 4);

  // In one request, adds come before removes: set and cleared is cleared.
  r = server_->post("/v1/assign", R"({"add": [{"id": 10, "values": {"clv": 123456789}}],
                                     "remove": [{"id": 10, "values": ["clv"]}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  model_.values[10].erase("clv");
  EXPECT_EQ(count_of(*server_, "clv = 123456789"), 0u);
  expect_model_holds("after add+remove", 5);
}

TEST_F(ValuesWriteTest, DeletedUsersLoseTheirValues) {
  std::vector<uint64_t> gone;
  for (const auto& [id, vs] : model_.values) {
    if (vs.contains("spend_90d") && gone.size() < 10) gone.push_back(id);
  }
  for (const uint64_t id : gone) {
    ASSERT_EQ(server_->request("DELETE", "/v1/users/" + std::to_string(id)).status, 200);
    model_.erase(id);
  }
  expect_model_holds("after delete", 6);
  // Back with a tag only: the old values do not come back.
  ASSERT_EQ(
      server_->post("/v1/assign", R"({"add": [{"id": )" + std::to_string(gone[0]) + R"(, "tags": ["vip"]}]})").status,
      200);
  model_.tags[gone[0]].insert("vip");
  expect_model_holds("after return", 7);
}

TEST_F(ValuesWriteTest, BadValuesRejectTheWholeBatch) {
  struct Case {
    std::string line;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {R"({"id": 9, "values": {"spend_90d": 1.5}})", "values.spend_90d"},
      {R"({"id": 9, "values": {"spend_90d": "5"}})", "values.spend_90d"},
      {R"({"id": 9, "values": {"spend_90d": true}})", "values.spend_90d"},
      {R"({"id": 9, "values": {"spend_90d": null}})", "values.spend_90d"},
      {R"({"id": 9, "values": {"spend_90d": [1]}})", "values.spend_90d"},
      {R"({"id": 9, "values": {"spend_90d": 9223372036854775808}})", "values.spend_90d"},
      // Below INT64_MIN the JSON parser itself gives up ("not valid JSON"):
      // refused all the same, the message need not name the attribute.
      {R"({"id": 9, "values": {"spend_90d": -9223372036854775809}})", ""},
      {R"({"id": 9, "values": {"spend_90d": 1e3}})", "values.spend_90d"},
      {R"({"id": 9, "values": {"clv": 1, "1abc": 2}})", "values.1abc"},
      {R"({"id": 9, "values": {"a b": 2}})", "values.a b"},
      {R"({"id": 9, "values": {"": 2}})", "values."},
      {R"({"id": 9, "values": {"AND": 2}})", "values.AND"},
      {R"({"id": 9, "values": {"between": 2}})", "values.between"},
      {R"({"id": 9, "values": {"spend:90d": 2}})", "values.spend:90d"},
      {R"({"id": 9, "values": {"花费": 2}})", "values.花费"},
      {R"({"id": 9, "values": [["spend_90d", 2]]})", "values"},
      {R"({"id": 9, "values": 5})", "values"},
  };
  const auto universe = universe_of(*server_);
  for (const auto& c : cases) {
    // Line 3 is bad; lines 1-2 (a new value, a new user) must not be applied.
    const std::string body = std::string(R"({"id": 10, "values": {"spend_90d": 31337}})") + "\n" +
                             R"({"id": 999999, "tags": ["vip"], "values": {"clv": 31337}})" + "\n" + c.line + "\n";
    auto r = server_->post("/v1/ingest", body, "application/x-ndjson");
    EXPECT_EQ(r.status, 400) << c.line << ": " << r.body;
    EXPECT_EQ(error_code(r), "bad_line") << c.line;
    EXPECT_EQ(body_json(r)["error"]["line"], 3) << c.line << ": " << r.body;
    EXPECT_NE(error_message(r).find(c.mentions), std::string::npos) << c.line << ": " << r.body;

    r = server_->post("/v1/assign",
                      std::string(R"({"add": [{"id": 10, "values": {"spend_90d": 31337}}, )") + c.line + "]}");
    EXPECT_EQ(r.status, 400) << c.line << ": " << r.body;
    EXPECT_EQ(error_code(r), "bad_request") << c.line;
    if (!c.mentions.empty()) {
      EXPECT_NE(error_message(r).find("add[1]"), std::string::npos) << r.body;
    }
    EXPECT_NE(error_message(r).find(c.mentions), std::string::npos) << r.body;
  }
  // Remove entries take a list of names.
  const std::vector<Case> removes = {
      {R"({"id": 10, "values": {"spend_90d": 1}})", "values"},
      {R"({"id": 10, "values": "spend_90d"})", "values"},
      {R"({"id": 10, "values": ["clv", 7]})", "values[1]"},
      {R"({"id": 10, "values": ["clv", "1abc"]})", "values[1]"},
      {R"({"id": 10, "values": ["or"]})", "values[0]"},
      {R"({"id": 10, "values": ["clv"], "events": []})", "events"},
  };
  for (const auto& c : removes) {
    const auto r = server_->post("/v1/assign", std::string(R"({"add": [{"id": 10, "values": {"spend_90d": 31337}}],
                                                              "remove": [{"id": 12, "values": ["clv"]}, )") +
                                                   c.line + "]}");
    EXPECT_EQ(r.status, 400) << c.line << ": " << r.body;
    EXPECT_EQ(error_code(r), "bad_request") << c.line;
    EXPECT_NE(error_message(r).find("remove[1]"), std::string::npos) << r.body;
    EXPECT_NE(error_message(r).find(c.mentions), std::string::npos) << r.body;
  }
  // Nothing changed.
  EXPECT_EQ(count_of(*server_, "spend_90d = 31337"), model_.equal("spend_90d", 31337));
  EXPECT_EQ(count_of(*server_, "clv = 31337"), model_.equal("clv", 31337));
  EXPECT_EQ(universe_of(*server_), universe);
  expect_model_holds("after rejected batches", 8);
  // An attribute never written is unknown, not empty.
  const auto r = count_request(*server_, "vip AND nope_attr >= 1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "unknown_tag") << r.body;
  EXPECT_EQ(body_json(r)["error"]["position"], 8) << r.body;
}

// Values written and cleared through ingest and assign come back after a
// restart, through the log and through a snapshot.
TEST(ValuesPersistenceTest, ValuesSurviveRestarts) {
  const auto dir = temp_dir("crowd-e2e-values");
  std::mt19937_64 rng(5);
  std::map<uint64_t, int64_t> spend;  // user -> spend_90d
  std::string ndjson;
  for (uint64_t id = 1; id <= 300; ++id) {
    const int64_t v = random_value(rng);
    spend[id] = v;
    ndjson += R"({"id": )" + std::to_string(id) + R"(, "values": {"spend_90d": )" + std::to_string(v) + "}}\n";
  }
  const auto check = [&](const ServerProcess& s, const std::string& context) {
    for (const int64_t n : {kMin, int64_t{-1000}, int64_t{0}, int64_t{7}, int64_t{50000}, kMax}) {
      uint64_t expected = 0;
      for (const auto& [id, v] : spend) expected += v >= n ? 1 : 0;
      EXPECT_EQ(count_of(s, "spend_90d >= " + std::to_string(n)), expected) << context << " >= " << n;
    }
    EXPECT_EQ(universe_of(s), 300u) << context;
  };
  {
    ServerProcess s({"--data-dir", dir, "--threads", "2"});
    ASSERT_TRUE(s.ok()) << s.log();
    ASSERT_EQ(s.post("/v1/ingest", ndjson, "application/x-ndjson").status, 200);
    ASSERT_EQ(s.post("/v1/assign", R"({"add": [{"id": 1, "values": {"spend_90d": 7}}],
                                       "remove": [{"id": 2, "values": ["spend_90d"]}]})")
                  .status,
              200);
    spend[1] = 7;
    spend.erase(2);
    check(s, "before restart");
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  {
    ServerProcess s({"--data-dir", dir, "--threads", "2"});
    ASSERT_TRUE(s.ok()) << s.log();
    check(s, "after restart (log)");
    ASSERT_EQ(s.post("/v1/admin/snapshot", "").status, 200);
    ASSERT_EQ(s.post("/v1/assign", R"({"remove": [{"id": 3, "values": ["spend_90d"]}]})").status, 200);
    spend.erase(3);
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  ServerProcess s({"--data-dir", dir, "--threads", "2"});
  ASSERT_TRUE(s.ok()) << s.log();
  check(s, "after restart (snapshot + log)");
  EXPECT_EQ(s.stop(), 0) << s.log();
}

}  // namespace
}  // namespace crowd::test
