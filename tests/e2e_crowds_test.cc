// End-to-end tests of saved crowds (人群包) against the real crowdd:
// PUT/GET/DELETE /v1/crowds/{name}, GET /v1/crowds, POST .../refresh, `@name`
// in queries, name rules, and the promise that a saved crowd changes only on
// refresh or user deletion — checked over HTTP, across restarts through the
// write-ahead log and through a snapshot. Expectations come from a plain
// in-test model (user -> set of tags) of the random data we send.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/support/e2e_util.h"
#include "tests/support/server_process.h"

namespace crowd::test {
namespace {

using json = nlohmann::json;

const std::vector<std::string> kVocabulary = {"a:1", "a:2", "b:x", "b:y", "vip", "城市:杭州", "cat:7:buy"};

// user -> tags; a user with no tags is still in the universe.
struct Model {
  std::map<uint64_t, std::set<std::string>> users;

  void add(uint64_t id, const std::string& tag) { users[id].insert(tag); }
  void remove(uint64_t id, const std::string& tag) {
    if (auto it = users.find(id); it != users.end()) it->second.erase(tag);
  }
  [[nodiscard]] bool has(uint64_t id, const std::string& tag) const {
    const auto it = users.find(id);
    return it != users.end() && it->second.contains(tag);
  }
  template <class Pred>
  [[nodiscard]] std::set<uint64_t> where(Pred pred) const {
    std::set<uint64_t> out;
    for (const auto& [id, tags] : users) {
      if (pred(id)) out.insert(id);
    }
    return out;
  }
};

std::set<uint64_t> both(const std::set<uint64_t>& a, const std::set<uint64_t>& b) {
  std::set<uint64_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

// Random users with random tags; the NDJSON sent and the model.
std::string random_population(Model& m, uint64_t seed, int users, uint64_t first_id) {
  std::mt19937_64 rng(seed);
  std::string ndjson;
  for (int i = 0; i < users; ++i) {
    const uint64_t id = first_id + static_cast<uint64_t>(i) * 37 + rng() % 13;
    json line{{"id", id}, {"tags", json::array()}};
    for (const auto& t : kVocabulary) {
      if (rng() % 3 == 0) {
        line["tags"].push_back(t);
        m.add(id, t);
      }
    }
    if (line["tags"].empty()) {
      line["tags"].push_back("vip");
      m.add(id, "vip");
    }
    ndjson += line.dump() + "\n";
  }
  return ndjson;
}

// One /v1/assign entry.
json entry(uint64_t id, const std::vector<std::string>& tags) {
  json e = json::object();
  e["id"] = id;
  e["tags"] = tags;
  return e;
}

std::string crowd_path(const std::string& name) { return "/v1/crowds/" + url_encode(name); }

HttpResult put_crowd(const ServerProcess& s, const std::string& name, const std::string& q, bool lenient = false) {
  json body{{"q", q}};
  if (lenient) body["lenient"] = true;
  return s.request("PUT", crowd_path(name), body.dump());
}

const std::regex kIsoTime(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)");

class CrowdsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{"--threads", "2"});
    ASSERT_TRUE(server_->ok()) << server_->log();
    const auto r = server_->post("/v1/ingest", random_population(model_, 20261123, 400, 1000), "application/x-ndjson");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->stop(), 0) << server_->log();
    }
  }

  [[nodiscard]] uint64_t count(const std::string& q) const { return count_of(*server_, q); }

  std::unique_ptr<ServerProcess> server_;
  Model model_;
};

TEST_F(CrowdsTest, PutGetReplaceRefreshDelete) {
  const auto expected = model_.where([&](uint64_t id) { return model_.has(id, "a:1") && !model_.has(id, "vip"); });
  ASSERT_GT(expected.size(), 10u);

  // New: 201 with the whole definition and the size drawn.
  auto r = put_crowd(*server_, "buyers", "a:1 AND NOT vip");
  ASSERT_EQ(r.status, 201) << r.body;
  auto body = body_json(r);
  EXPECT_EQ(body["name"], "buyers");
  EXPECT_EQ(body["kind"], "query");
  EXPECT_EQ(body["q"], "a:1 AND NOT vip");
  EXPECT_EQ(body["lenient"], false);
  EXPECT_EQ(body["count"], expected.size());
  ASSERT_TRUE(body["created"].is_string());
  EXPECT_TRUE(std::regex_match(body["created"].get<std::string>(), kIsoTime)) << body;
  EXPECT_TRUE(std::regex_match(body["refreshed"].get<std::string>(), kIsoTime)) << body;
  EXPECT_TRUE(body["took_us"].is_number_unsigned()) << body;
  const auto created = body["created"].get<std::string>();

  // GET gives the same definition and size.
  r = server_->get(crowd_path("buyers"));
  ASSERT_EQ(r.status, 200) << r.body;
  body = body_json(r);
  EXPECT_EQ(body["name"], "buyers");
  EXPECT_EQ(body["kind"], "query");
  EXPECT_EQ(body["q"], "a:1 AND NOT vip");
  EXPECT_EQ(body["count"], expected.size());
  EXPECT_EQ(body["created"], created);

  // @name is the crowd; it composes with the rest of the language.
  EXPECT_EQ(count("@buyers"), expected.size());
  EXPECT_EQ(csv_ids(*server_, "@buyers"), expected);
  const auto with_b = both(expected, model_.where([&](uint64_t id) { return model_.has(id, "b:x"); }));
  EXPECT_EQ(count("@buyers AND b:x"), with_b.size());
  EXPECT_EQ(count("NOT @buyers"), model_.users.size() - expected.size());

  // Replaced: 200, the new definition, the first creation time kept.
  const auto replaced = model_.where([&](uint64_t id) { return model_.has(id, "a:2") || model_.has(id, "b:y"); });
  r = put_crowd(*server_, "buyers", "a:2 | b:y");
  ASSERT_EQ(r.status, 200) << r.body;
  body = body_json(r);
  EXPECT_EQ(body["q"], "a:2 | b:y");
  EXPECT_EQ(body["count"], replaced.size());
  EXPECT_EQ(body["created"], created);
  EXPECT_EQ(count("@buyers"), replaced.size());

  // A crowd defined from another crowd.
  r = put_crowd(*server_, "buyers_x", "@buyers AND b:x");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(body_json(r)["count"],
            both(replaced, model_.where([&](uint64_t id) { return model_.has(id, "b:x"); })).size());

  // Refresh of an unchanged index: same count, previous_count the old one.
  r = server_->post(crowd_path("buyers") + "/refresh", "");
  ASSERT_EQ(r.status, 200) << r.body;
  body = body_json(r);
  EXPECT_EQ(body["count"], replaced.size());
  EXPECT_EQ(body["previous_count"], replaced.size());
  EXPECT_EQ(body["name"], "buyers");
  EXPECT_EQ(body["created"], created);

  // Delete: the name and deleted; then it is gone everywhere.
  r = server_->request("DELETE", crowd_path("buyers"));
  ASSERT_EQ(r.status, 200) << r.body;
  body = body_json(r);
  EXPECT_EQ(body["name"], "buyers");
  EXPECT_EQ(body["deleted"], true);
  EXPECT_EQ(server_->get(crowd_path("buyers")).status, 404);
  r = server_->request("DELETE", crowd_path("buyers"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_code(r), "not_found");
  r = server_->post(crowd_path("buyers") + "/refresh", "");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_code(r), "not_found");
  r = count_request(*server_, "b:x OR @buyers");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "unknown_tag");
  EXPECT_EQ(body_json(r)["error"]["position"], 7) << r.body;  // the @
  // The crowd drawn from it is a materialised set: it stays.
  EXPECT_EQ(server_->get(crowd_path("buyers_x")).status, 200);
  // Lenient: an unknown crowd is the empty set.
  EXPECT_EQ(count_of(*server_, "b:x OR @buyers", true),
            model_.where([&](uint64_t id) { return model_.has(id, "b:x"); }).size());
  // Deleting a crowd does not touch the universe.
  EXPECT_EQ(universe_of(*server_), model_.users.size());
}

TEST_F(CrowdsTest, ListIsSortedByName) {
  // Byte order: upper case before lower case, UTF-8 after ASCII.
  const std::vector<std::string> names = {"zeta", "Alpha", "高潜", "a.b", "m-1", "a_b", "🎯target"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string q = kVocabulary[i % kVocabulary.size()];
    const auto r = put_crowd(*server_, names[i], q);
    ASSERT_EQ(r.status, 201) << names[i] << ": " << r.body;
    EXPECT_EQ(body_json(r)["name"], names[i]);
  }
  auto sorted = names;
  std::sort(sorted.begin(), sorted.end());
  const auto r = server_->get("/v1/crowds");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto body = body_json(r);
  ASSERT_TRUE(body["crowds"].is_array()) << body;
  std::vector<std::string> listed;
  for (const auto& c : body["crowds"]) {
    listed.push_back(c["name"].get<std::string>());
    const auto it = std::find(names.begin(), names.end(), listed.back());
    ASSERT_NE(it, names.end());
    const std::string q = kVocabulary[static_cast<std::size_t>(it - names.begin()) % kVocabulary.size()];
    EXPECT_EQ(c["q"], q);
    EXPECT_EQ(c["kind"], "query");
    EXPECT_EQ(c["count"], model_.where([&](uint64_t id) { return model_.has(id, q); }).size()) << q;
  }
  EXPECT_EQ(listed, sorted);

  // A UTF-8 name is usable in queries as is.
  EXPECT_EQ(count("@高潜 OR @zeta"),
            model_.where([&](uint64_t id) { return model_.has(id, kVocabulary[2]) || model_.has(id, kVocabulary[0]); })
                .size());
}

TEST_F(CrowdsTest, NamesAndBodiesAreChecked) {
  // Each character that `@name` could not spell is refused, as is a space.
  for (const std::string bad : {" ", "(", ")", "\"", "&", "|", "!", "*", ",", "@", "<", ">", "="}) {
    const std::string name = "x" + bad + "y";
    const auto r = put_crowd(*server_, name, "vip");
    EXPECT_EQ(r.status, 400) << "name '" << name << "': " << r.body;
    EXPECT_EQ(error_code(r), "bad_request") << name;
    EXPECT_EQ(server_->get(crowd_path(name)).status, 400) << name;
  }
  // Too long, control bytes, bad percent-encoding, bad UTF-8.
  EXPECT_EQ(put_crowd(*server_, std::string(129, 'n'), "vip").status, 400);
  EXPECT_EQ(put_crowd(*server_, std::string(128, 'n'), "vip").status, 201);
  EXPECT_EQ(put_crowd(*server_, "a\tb", "vip").status, 400);
  EXPECT_EQ(server_->request("PUT", "/v1/crowds/bad%zz", R"({"q": "vip"})").status, 400);
  EXPECT_EQ(server_->request("PUT", "/v1/crowds/bad%FF", R"({"q": "vip"})").status, 400);

  // Bodies: missing q, wrong types, unknown fields, not JSON.
  for (const std::string body : {R"({})", R"({"q": 5})", R"({"q": "vip", "lenient": "yes"})",
                                 R"({"q": "vip", "limit": 3})", "not json", R"(["vip"])"}) {
    const auto r = server_->request("PUT", crowd_path("c"), body);
    EXPECT_EQ(r.status, 400) << body << ": " << r.body;
    EXPECT_EQ(error_code(r), "bad_request") << body;
  }
  // Query errors are the query's own, and nothing is saved.
  auto r = put_crowd(*server_, "c", "vip AND (a:1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "parse_error");
  r = put_crowd(*server_, "c", "vip AND nope:tag");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "unknown_tag");
  EXPECT_EQ(body_json(r)["error"]["position"], 8);
  r = put_crowd(*server_, "c", "@c");  // not itself before it exists
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "unknown_tag");
  EXPECT_EQ(server_->get(crowd_path("c")).status, 404);
  EXPECT_EQ(body_json(server_->get("/v1/crowds"))["crowds"].size(), 1u);  // the 128-byte name

  // Lenient: unknown tags are empty sets, and the flag is kept.
  r = put_crowd(*server_, "c", "vip OR nope:tag", true);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(body_json(r)["lenient"], true);
  EXPECT_EQ(body_json(r)["count"], model_.where([&](uint64_t id) { return model_.has(id, "vip"); }).size());
  // Once the tag exists, a refresh picks it up.
  ASSERT_EQ(server_->post("/v1/assign", R"({"add": [{"id": 5, "tags": ["nope:tag"]}]})").status, 200);
  model_.add(5, "nope:tag");
  r = server_->post(crowd_path("c") + "/refresh", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r)["count"],
            model_.where([&](uint64_t id) { return model_.has(id, "vip") || model_.has(id, "nope:tag"); }).size());
  EXPECT_EQ(body_json(r)["previous_count"], model_.where([&](uint64_t id) { return model_.has(id, "vip"); }).size());

  // Methods.
  EXPECT_EQ(server_->request("POST", crowd_path("c"), "{}").status, 405);
  EXPECT_EQ(server_->request("GET", crowd_path("c") + "/refresh").status, 405);
  EXPECT_EQ(server_->request("POST", "/v1/crowds", "{}").status, 405);
}

TEST_F(CrowdsTest, ASavedCrowdStaysFrozenUntilRefreshed) {
  const auto is_member = [&](uint64_t id) { return model_.has(id, "a:1") || model_.has(id, "b:x"); };
  const auto frozen = model_.where(is_member);
  ASSERT_GT(frozen.size(), 60u);
  ASSERT_EQ(put_crowd(*server_, "s", "a:1 OR b:x").status, 201);
  std::string csv_before;
  EXPECT_EQ(csv_ids(*server_, "@s", &csv_before), frozen);
  const auto pages_before = paged_ids(*server_, "@s", 17);
  EXPECT_EQ(std::set<uint64_t>(pages_before.begin(), pages_before.end()), frozen);
  EXPECT_EQ(pages_before.size(), frozen.size());

  // Take the tags away from every other member, give them to some outsiders.
  std::mt19937_64 rng(7);
  json add = json::array();
  json remove = json::array();
  int i = 0;
  for (const uint64_t id : frozen) {
    if (i++ % 2 == 0) {
      remove.push_back(entry(id, {"a:1", "b:x"}));
      model_.remove(id, "a:1");
      model_.remove(id, "b:x");
    }
  }
  for (const auto& [id, tags] : model_.users) {
    if (!frozen.contains(id) && rng() % 4 == 0) {
      add.push_back(entry(id, {"a:1"}));
      model_.add(id, "a:1");
    }
  }
  auto r = server_->post("/v1/assign", json{{"add", add}, {"remove", remove}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const auto now = model_.where(is_member);
  ASSERT_NE(now, frozen);
  // The query changed (an independent check that the writes landed)...
  EXPECT_EQ(count("a:1 OR b:x"), now.size());
  // ...the saved crowd did not: count, GET, CSV and pages are as before.
  EXPECT_EQ(count("@s"), frozen.size());
  EXPECT_EQ(body_json(server_->get(crowd_path("s")))["count"], frozen.size());
  std::string csv_after;
  EXPECT_EQ(csv_ids(*server_, "@s", &csv_after), frozen);
  EXPECT_EQ(csv_after, csv_before);
  EXPECT_EQ(paged_ids(*server_, "@s", 17), pages_before);
  // Combined with live tags, the frozen set meets the current tags.
  EXPECT_EQ(count("@s AND a:1"), both(frozen, model_.where([&](uint64_t id) { return model_.has(id, "a:1"); })).size());

  // A refresh draws it again from the definition.
  r = server_->post(crowd_path("s") + "/refresh", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r)["count"], now.size());
  EXPECT_EQ(body_json(r)["previous_count"], frozen.size());
  EXPECT_EQ(csv_ids(*server_, "@s"), now);
}

TEST_F(CrowdsTest, DeletingAUserRemovesItFromEveryCrowd) {
  const auto members = model_.where([&](uint64_t id) { return model_.has(id, "b:y"); });
  ASSERT_GT(members.size(), 5u);
  ASSERT_EQ(put_crowd(*server_, "by", "b:y").status, 201);
  ASSERT_EQ(put_crowd(*server_, "all", "ALL").status, 201);
  const uint64_t gone = *std::next(members.begin(), static_cast<long>(members.size() / 2));
  ASSERT_EQ(server_->request("DELETE", "/v1/users/" + std::to_string(gone)).status, 200);
  auto expected = members;
  expected.erase(gone);
  EXPECT_EQ(count("@by"), expected.size());
  EXPECT_EQ(body_json(server_->get(crowd_path("by")))["count"], expected.size());
  EXPECT_EQ(csv_ids(*server_, "@by"), expected);
  EXPECT_EQ(count("@all"), model_.users.size() - 1);
  // Coming back with the same tags does not put the user back in the crowd.
  ASSERT_EQ(server_->post("/v1/assign", json{{"add", json::array({entry(gone, {"b:y"})})}}.dump()).status, 200);
  EXPECT_EQ(count("b:y"), members.size());
  EXPECT_EQ(csv_ids(*server_, "@by"), expected);
  EXPECT_EQ(count("@all"), model_.users.size() - 1);
  // Until refreshed.
  const auto r = server_->post(crowd_path("by") + "/refresh", "");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body_json(r)["count"], members.size());
  EXPECT_EQ(body_json(r)["previous_count"], expected.size());
}

// Crowds across restarts: through the log only, then through a snapshot plus
// the log; deletions (of crowds and of users) stay.
TEST(CrowdsPersistenceTest, CrowdsSurviveRestartsAndDeletionsStay) {
  const auto dir = temp_dir("crowd-e2e-crowds");
  Model m;
  const std::string ndjson = random_population(m, 99, 300, 50);
  const auto frozen_s = m.where([&](uint64_t id) { return m.has(id, "a:2") && !m.has(id, "vip"); });
  const auto frozen_t = m.where([&](uint64_t id) { return m.has(id, "城市:杭州"); });
  ASSERT_GT(frozen_s.size(), 10u);
  ASSERT_GT(frozen_t.size(), 10u);
  std::string created_s;
  std::string csv_s;
  uint64_t erased = 0;
  {
    ServerProcess s({"--data-dir", dir, "--threads", "2"});
    ASSERT_TRUE(s.ok()) << s.log();
    ASSERT_EQ(s.post("/v1/ingest", ndjson, "application/x-ndjson").status, 200);
    auto r = put_crowd(s, "s", "a:2 AND NOT vip");
    ASSERT_EQ(r.status, 201) << r.body;
    created_s = body_json(r)["created"];
    ASSERT_EQ(put_crowd(s, "高潜", "城市:杭州").status, 201);
    ASSERT_EQ(put_crowd(s, "doomed", "vip").status, 201);
    ASSERT_EQ(s.request("DELETE", crowd_path("doomed")).status, 200);
    // Change the tags underneath: the crowds must come back frozen, not redrawn.
    json remove = json::array();
    for (const uint64_t id : frozen_s) remove.push_back(entry(id, {"a:2"}));
    ASSERT_EQ(s.post("/v1/assign", json{{"remove", remove}}.dump()).status, 200);
    EXPECT_EQ(count_of(s, "a:2 AND NOT vip"), 0u);
    // And delete one member of 高潜.
    for (const uint64_t id : frozen_t) {
      if (!frozen_s.contains(id)) {
        erased = id;
        break;
      }
    }
    ASSERT_NE(erased, 0u);
    ASSERT_EQ(s.request("DELETE", "/v1/users/" + std::to_string(erased)).status, 200);
    EXPECT_EQ(csv_ids(s, "@s", &csv_s), frozen_s);
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  auto expected_t = frozen_t;
  expected_t.erase(erased);
  {
    // Restored through the write-ahead log only (no snapshot was taken).
    ServerProcess s({"--data-dir", dir, "--threads", "2"});
    ASSERT_TRUE(s.ok()) << s.log();
    auto r = s.get(crowd_path("s"));
    ASSERT_EQ(r.status, 200) << r.body;
    auto body = body_json(r);
    EXPECT_EQ(body["q"], "a:2 AND NOT vip");
    EXPECT_EQ(body["count"], frozen_s.size());
    EXPECT_EQ(body["created"], created_s);
    std::string csv;
    EXPECT_EQ(csv_ids(s, "@s", &csv), frozen_s);
    EXPECT_EQ(csv, csv_s);
    EXPECT_EQ(csv_ids(s, "@高潜"), expected_t);
    EXPECT_EQ(s.get(crowd_path("doomed")).status, 404);
    EXPECT_EQ(error_code(count_request(s, "@doomed")), "unknown_tag");

    // Snapshot, then more changes that live only in the log.
    ASSERT_EQ(s.post("/v1/admin/snapshot", "").status, 200);
    ASSERT_EQ(s.request("DELETE", crowd_path("高潜")).status, 200);  // deleted after the snapshot
    r = put_crowd(s, "late", "b:x AND a:1");
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  const auto late = m.where([&](uint64_t id) { return id != erased && m.has(id, "b:x") && m.has(id, "a:1"); });
  {
    ServerProcess s({"--data-dir", dir, "--threads", "2"});
    ASSERT_TRUE(s.ok()) << s.log();
    EXPECT_EQ(csv_ids(s, "@s"), frozen_s);
    EXPECT_EQ(body_json(s.get(crowd_path("s")))["created"], created_s);
    EXPECT_EQ(s.get(crowd_path("高潜")).status, 404);
    EXPECT_EQ(error_code(count_request(s, "@高潜")), "unknown_tag");
    EXPECT_EQ(s.get(crowd_path("doomed")).status, 404);
    EXPECT_EQ(csv_ids(s, "@late"), late);
    const auto list = body_json(s.get("/v1/crowds"))["crowds"];
    ASSERT_EQ(list.size(), 2u) << list;
    EXPECT_EQ(list[0]["name"], "late");
    EXPECT_EQ(list[1]["name"], "s");

    // Snapshot with the deletion in it, restart once more.
    ASSERT_EQ(s.post("/v1/admin/snapshot", "").status, 200);
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  ServerProcess s({"--data-dir", dir, "--threads", "2"});
  ASSERT_TRUE(s.ok()) << s.log();
  EXPECT_EQ(body_json(s.get("/v1/crowds"))["crowds"].size(), 2u);
  EXPECT_EQ(s.get(crowd_path("高潜")).status, 404);
  EXPECT_EQ(csv_ids(s, "@s"), frozen_s);
  // Refresh still works after restarts: the definition was restored too.
  const auto r = s.post(crowd_path("s") + "/refresh", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r)["count"], 0u);  // a:2 was removed from every member
  EXPECT_EQ(body_json(r)["previous_count"], frozen_s.size());
  EXPECT_EQ(s.stop(), 0);
}

}  // namespace
}  // namespace crowd::test
