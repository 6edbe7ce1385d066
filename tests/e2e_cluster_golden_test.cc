// The golden test of the cluster (issue 18): the same writes given to a
// local cluster through its routers (4 shards x 2 replicas, 2 routers) and
// to a single crowdd, then the same random queries -- the evaluator's
// model battery (tests/support/query_generator.h), unknown names included
// -- asked of both, route by route. Every answer must be identical but for
// took_us: sizes, errors and their positions, ID walks, overlaps, flows,
// funnels, profiles and numeric statistics. Counts are also checked against the naive model.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cluster/etcd_client.h"
#include "cluster/names.h"
#include "query/parser.h"
#include "tests/support/e2e_util.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/eventually.h"
#include "tests/support/local_cluster.h"
#include "tests/support/naive_model.h"
#include "tests/support/query_generator.h"
#include "tests/support/random_index.h"
#include "tests/support/server_process.h"

namespace crowd::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr uint64_t kSeed = 20261207;
constexpr std::size_t kUsers = 12'000;
constexpr std::size_t kTags = 32;

// An answer without its timing: what must be identical.
json comparable(const HttpResult& r) {
  json j = json::parse(r.body, nullptr, false);
  if (j.is_object()) j.erase("took_us");
  return json{{"status", r.status}, {"body", j}};
}

class ClusterGolden : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (find_program("nats-server").empty() || find_program("etcd").empty()) return;
    cluster_ = new LocalCluster();
    single_ = new ServerProcess({});
    names_ = new std::vector<std::string>(random_tag_names(kTags, kSeed));
    model_ = new NaiveModel();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    delete single_;
    delete names_;
    delete model_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    CROWD_NEED_PROGRAM("nats-server");
    CROWD_NEED_PROGRAM("etcd");
    ASSERT_TRUE(cluster_->ok()) << cluster_->output();
    ASSERT_TRUE(single_->ok()) << single_->log();
    routers_ = cluster_->named("router");
    ASSERT_EQ(routers_.size(), 2u);
  }

  // Sends one request to a router (alternating) and to the single crowdd;
  // returns both answers.
  std::pair<HttpResult, HttpResult> both(const std::string& method, const std::string& target,
                                         const std::string& body = "",
                                         const std::string& type = "application/json") {
    const ClusterProcess& router = routers_[turn_++ % routers_.size()];
    HttpResult via_router = HttpConnection(router.port()).request(method, target, body, type);
    HttpResult alone = single_->request(method, target, body, type);
    return {std::move(via_router), std::move(alone)};
  }
  // Both answers must be the same; returns the single crowdd's.
  HttpResult same(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::string& type = "application/json") {
    auto [via_router, alone] = both(method, target, body, type);
    EXPECT_EQ(comparable(via_router), comparable(alone)) << method << " " << target << " " << body.substr(0, 400);
    return alone;
  }

  // Waits until every replica of every shard has applied as far as the
  // furthest one: reads go to any replica, and a write is acknowledged once
  // one replica of each shard has it.
  void wait_for_replicas() {
    cluster::EtcdClient etcd(cluster_->etcd_endpoints());
    const bool settled = eventually(
        [&] {
          const auto members = etcd.get_prefix(cluster::etcd_prefix("local") + "members/");
          if (!members.ok()) return false;
          std::map<uint64_t, std::set<uint64_t>> positions;  // shard -> positions of its replicas
          std::size_t replicas = 0;
          for (const auto& kv : members->kvs) {
            const json v = json::parse(kv.value, nullptr, false);
            if (!v.is_object()) return false;
            positions[v.value("shard", uint64_t{0})].insert(v.value("position", uint64_t{0}));
            ++replicas;
          }
          if (replicas != 8) return false;
          // Equal, and at what the shard's replicas announced last (the
          // registered positions are refreshed every second or so).
          const json health = json::parse(HttpConnection(routers_[0].port()).get("/healthz").body, nullptr, false);
          if (!health.is_object()) return false;
          for (const auto& [shard, seen] : positions) {
            if (seen.size() != 1 || *seen.begin() != health["shards"][shard]["applied"].get<uint64_t>()) return false;
          }
          return true;
        },
        60s);
    ASSERT_TRUE(settled) << "replicas did not converge";
  }

  static LocalCluster* cluster_;
  static ServerProcess* single_;
  static std::vector<std::string>* names_;
  static NaiveModel* model_;
  std::vector<ClusterProcess> routers_;
  std::size_t turn_ = 0;
};

LocalCluster* ClusterGolden::cluster_ = nullptr;
ServerProcess* ClusterGolden::single_ = nullptr;
std::vector<std::string>* ClusterGolden::names_ = nullptr;
NaiveModel* ClusterGolden::model_ = nullptr;

// One test, in steps: the data are written once and then read many ways.
TEST_F(ClusterGolden, RouterAnswersAsOneCrowdd) {
  std::mt19937_64 rng(kSeed);
  const auto& names = *names_;
  // Densities from 0.5 down to 0.002, log-spaced and shuffled over names.
  std::vector<double> density(names.size());
  for (std::size_t t = 0; t < names.size(); ++t) {
    density[t] = 0.5 * std::pow(0.004, static_cast<double>(t) / static_cast<double>(names.size() - 1));
  }
  std::shuffle(density.begin(), density.end(), rng);
  // Users: small IDs, and some above 2^53 (written as JSON strings).
  std::vector<UserId> users;
  for (UserId id = 1; id <= kUsers * 5 / 6; ++id) users.push_back(id * 3);
  while (users.size() < kUsers) users.push_back((UserId{1} << 60) + rng() % (UserId{1} << 62));
  std::shuffle(users.begin(), users.end(), rng);

  // 1. Ingest, in four batches; answers (users, assignments) must agree.
  std::uniform_real_distribution<double> unit(0, 1);
  for (std::size_t b = 0; b < 4; ++b) {
    std::string body;
    for (std::size_t i = b * kUsers / 4; i < (b + 1) * kUsers / 4; ++i) {
      json tags = json::array();
      for (std::size_t t = 0; t < names.size(); ++t) {
        if (unit(rng) < density[t]) {
          tags.push_back(names[t]);
          model_->add(users[i], names[t]);
        }
      }
      if (tags.empty()) model_->touch(users[i]);
      json line = {{"tags", tags}, {"values", {{"spend", static_cast<int64_t>(rng() % 5000) - 100}}}};
      line["id"] = users[i] > (UserId{1} << 53) ? json(std::to_string(users[i])) : json(users[i]);
      body += line.dump() + "\n";
    }
    const auto r = same("POST", "/v1/ingest", body, "application/x-ndjson");
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // 2. Assigns that add and remove, including pairs that are no-ops.
  for (int k = 0; k < 8; ++k) {
    json add = json::array();
    json remove = json::array();
    for (int i = 0; i < 150; ++i) {
      const UserId u = users[rng() % users.size()];
      const std::string& t = names[rng() % names.size()];
      const json id = u > (UserId{1} << 53) ? json(std::to_string(u)) : json(u);
      if (i % 2 == 0) {
        add.push_back({{"id", id}, {"tags", {t}}});
      } else {
        remove.push_back({{"id", id}, {"tags", {t}}});
      }
    }
    // Adds apply before removes (a pair in both ends up cleared): so in the model.
    for (const auto& e : add) model_->add(json_user_id(e["id"]), e["tags"][0].get<std::string>());
    for (const auto& e : remove) model_->remove(json_user_id(e["id"]), e["tags"][0].get<std::string>());
    const auto r = same("POST", "/v1/assign", json{{"add", add}, {"remove", remove}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // 3. Deletes (and one of nobody: 404 from both), then some come back.
  for (int k = 0; k < 12; ++k) {
    const UserId u = users[static_cast<std::size_t>(k) * 97];
    ASSERT_EQ(same("DELETE", "/v1/users/" + std::to_string(u)).status, 200);
    model_->erase(u);
  }
  EXPECT_EQ(same("DELETE", "/v1/users/" + std::to_string(users[0])).status, 404);
  EXPECT_EQ(same("DELETE", "/v1/users/7").status, 404);  // never written: IDs are multiples of 3 or huge
  {
    std::string body;
    for (int k = 0; k < 3; ++k) {
      const UserId u = users[static_cast<std::size_t>(k) * 97];
      body += json{{"id", u > (UserId{1} << 53) ? json(std::to_string(u)) : json(u)}, {"tags", {names[0]}}}.dump();
      body += "\n";
      model_->add(u, names[0]);
    }
    ASSERT_EQ(same("POST", "/v1/ingest", body, "application/x-ndjson").status, 200);
  }
  // Idempotency-Key: a retry (same key, same body) is stored once; the same
  // key on another body is another write, never dropped as a retry.
  {
    const auto stream_messages = [&] {
      const json h = json::parse(HttpConnection(routers_[0].port()).get("/healthz").body);
      uint64_t n = 0;
      for (const auto& shard : h["shards"]) n += shard["applied"].get<uint64_t>();
      return n;
    };
    const auto keyed = [&](const std::string& body) {
      const std::vector<std::pair<std::string, std::string>> key = {{"Idempotency-Key", "golden-1"}};
      const auto r = HttpConnection(routers_[1].port()).request("POST", "/v1/ingest", body, "application/x-ndjson", key);
      EXPECT_EQ(r.status, 200) << r.body;
      EXPECT_EQ(single_->request("POST", "/v1/ingest", body, "application/x-ndjson", key).status, 200);
    };
    const std::string first = json{{"id", users[1]}, {"tags", {"keyed:a"}}}.dump() + "\n";
    const std::string second = json{{"id", users[1]}, {"tags", {"keyed:b"}}}.dump() + "\n";
    const uint64_t before = stream_messages();
    keyed(first);
    keyed(first);
    EXPECT_EQ(stream_messages(), before + 1) << "a retry is stored once";
    keyed(second);
    EXPECT_EQ(stream_messages(), before + 2) << "the same key on another body is another write";
    model_->add(users[1], "keyed:a");
    model_->add(users[1], "keyed:b");
  }
  // Bad writes: the same 400 from both, and nothing changes.
  same("POST", "/v1/ingest", "{\"id\": 1, \"tags\": [\"a\"]}\n{\"id\": -3}\n", "application/x-ndjson");
  same("POST", "/v1/assign", R"({"add": [{"id": 1, "tags": "x"}]})");
  same("DELETE", "/v1/users/abc");
  wait_for_replicas();

  // 4. Counts: random queries, strict and lenient, GET and POST.
  QueryGenerator generator(kSeed, names, /*unknowns=*/true);
  std::vector<std::string> queries;
  std::size_t unknown_errors = 0;
  for (int i = 0; i < 240; ++i) {
    const auto ast = generator.node(1 + i % 5);
    const std::string q = generator.render(ast);
    queries.push_back(q);
    const auto strict = same("POST", "/v1/count", json{{"q", q}}.dump());
    if (error_code(strict) == "unknown_tag") ++unknown_errors;
    const auto lenient = same("GET", "/v1/count?lenient=true&q=" + url_encode(q));
    ASSERT_EQ(lenient.status, 200) << q << ": " << lenient.body;
    EXPECT_EQ(json::parse(lenient.body)["count"].get<uint64_t>(), model_->evaluate(ast).size()) << q;
  }
  EXPECT_GT(unknown_errors, 10u) << "the battery did ask for unknown names";
  // Estimates: under 16 chunks a shard every count is exact, so the shards'
  // summed estimate must be the single crowdd's, field for field.
  for (std::size_t i = 0; i < 10; ++i) {
    same("GET", "/v1/count?lenient=true&estimate=true&q=" + url_encode(queries[i * 11 % queries.size()]));
  }
  same("POST", "/v1/count", R"({"q": "(a AND"})");
  same("POST", "/v1/count", R"({"q": 3})");
  same("GET", "/v1/count?q=ALL&as_of=2026-01-01");

  // 5. ID walks: every page through the routers (alternating), the cursor
  // carried over; the whole walk is the single crowdd's crowd.
  // `send` answers one page request.
  const auto walk = [](const std::string& q, const std::function<HttpResult(std::size_t, const std::string&)>& send) {
    std::set<uint64_t> walked;
    std::string cursor;
    for (std::size_t pages = 0;; ++pages) {
      json req = {{"q", q}, {"lenient", true}, {"limit", 997}};
      if (!cursor.empty()) req["cursor"] = cursor;
      const auto r = send(pages, req.dump());
      EXPECT_EQ(r.status, 200) << q << ": " << r.body;
      if (r.status != 200 || pages > 100) break;
      const json page = json::parse(r.body);
      for (const auto& id : page["ids"]) EXPECT_TRUE(walked.insert(json_user_id(id)).second) << "twice: " << id;
      if (page["cursor"].is_null()) break;
      cursor = page["cursor"].get<std::string>();
    }
    return walked;
  };
  for (std::size_t i = 0; i < 30; ++i) {
    const std::string& q = queries[i * 7 % queries.size()];
    const auto via_routers = walk(q, [&](std::size_t page, const std::string& body) {
      return HttpConnection(routers_[page % 2].port()).post("/v1/ids", body);
    });
    const auto alone = walk(q, [&](std::size_t, const std::string& body) { return single_->post("/v1/ids", body); });
    EXPECT_EQ(via_routers, alone) << q;
  }
  // A cursor changed in one character is refused.
  {
    const auto r = HttpConnection(routers_[0].port()).post("/v1/ids", json{{"q", "ALL"}, {"limit", 10}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    std::string cursor = json::parse(r.body)["cursor"].get<std::string>();
    cursor.back() = cursor.back() == '0' ? '1' : '0';
    const auto bad =
        HttpConnection(routers_[1].port()).post("/v1/ids", json{{"q", "ALL"}, {"cursor", cursor}}.dump());
    EXPECT_EQ(error_code(bad), "bad_cursor") << bad.body;
  }

  // 6. Analytics over several crowds.
  const auto pick_queries = [&](std::size_t n) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(queries[rng() % queries.size()]);
    return out;
  };
  for (int i = 0; i < 25; ++i) {
    const bool lenient = i % 3 != 0;
    json crowds = json::object();
    const auto qs = pick_queries(2 + static_cast<std::size_t>(i) % 4);
    for (std::size_t k = 0; k < qs.size(); ++k) crowds["c" + std::to_string(k)] = qs[k];
    same("POST", "/v1/overlap", json{{"crowds", crowds}, {"lenient", lenient}}.dump());
    same("POST", "/v1/funnel", json{{"steps", pick_queries(1 + static_cast<std::size_t>(i) % 4)}, {"lenient", lenient}}.dump());
    json from = json::object();
    json to = json::object();
    for (const auto& q : pick_queries(1 + static_cast<std::size_t>(i) % 3)) from["f" + std::to_string(from.size())] = q;
    for (const auto& q : pick_queries(2)) to["t" + std::to_string(to.size())] = q;
    same("POST", "/v1/flow", json{{"from", from}, {"to", to}, {"lenient", lenient}}.dump());
    json insight = {{"q", pick_queries(1)[0]}, {"lenient", lenient}};
    if (i % 2 == 0) insight["fields"] = {"age", "cat", "gender"};
    if (i % 3 == 0) insight["top"] = 1 + i % 5;
    if (i % 4 == 0) insight["sort"] = "count";
    if (i % 5 == 0) insight["min_count"] = i % 7;
    same("POST", "/v1/insight", insight.dump());
  }
  // Stats: sums add up, percentiles are found exactly by counts.
  for (int i = 0; i < 20; ++i) {
    const auto r = same("POST", "/v1/stats", json{{"q", pick_queries(1)[0]}, {"attr", "spend"}, {"lenient", true}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
  }
  same("POST", "/v1/stats", R"({"q": "ALL", "attr": "spend"})");
  same("POST", "/v1/stats", R"({"q": "ALL", "attr": "nope"})");
  same("POST", "/v1/stats", R"({"q": "nope:1 AND NOT nope:2", "attr": "spend", "lenient": true})");
  // The dictionary: counts summed per tag, the same order, filters and pages.
  for (const std::string params :
       {"", "?prefix=cat:", "?prefix=cat:1&limit=3&offset=2", "?sort=coverage&limit=7", "?empty=true",
        "?search=%E5%9F%8E", "?prefix=zz", "?limit=0", "?sort=size", "?offset=-1"}) {
    same("GET", "/v1/tags" + params);
  }
  same("GET", "/v1/fields");
  same("POST", "/v1/overlap", R"({"crowds": {"a": "ALL"}})");
  same("POST", "/v1/insight", R"({"q": "ALL", "top": 0})");
  same("POST", "/v1/insight", R"({"q": "ALL", "fields": ["colour"]})");
  same("POST", "/v1/funnel", R"({"steps": []})");

  // 7. The tag library: one field's values summed over the shards; its
  // metadata written to every shard, so that each answers alike.
  for (const std::string field : {"cat", "gender", "age", "城市", "lookalike", "nope"}) {
    same("GET", "/v1/fields/" + url_encode(field));
  }
  const std::string cat_meta =
      R"({"label": "类目 Category", "description": "leaf categories", "parent": "shopping",)"
      R"( "values": {"101": "女装", "102": {"label": "男装", "parent": "apparel"}}})";
  EXPECT_EQ(same("PUT", "/v1/fields/cat", cat_meta).status, 200);
  same("GET", "/v1/fields/cat");
  same("GET", "/v1/fields");
  same("GET", "/v1/tags?prefix=cat:10");
  // Exclusive is refused while users hold two values: the users summed over
  // the shards, and nothing changed on any of them.
  EXPECT_EQ(error_code(same("PUT", "/v1/fields/gender", R"({"kind": "exclusive", "label": "性别"})")),
            "field_not_exclusive");
  same("GET", "/v1/fields/gender");
  {  // a field no user holds two values of: exclusive, and then a new value replaces the old on every shard
    std::string body;
    for (std::size_t i = 0; i < 400; ++i) {
      body += json{{"id", users[i]}, {"tags", {i % 2 ? "solo:odd" : "solo:even"}}}.dump() + "\n";
    }
    ASSERT_EQ(same("POST", "/v1/ingest", body, "application/x-ndjson").status, 200);
    EXPECT_EQ(same("PUT", "/v1/fields/solo", R"({"kind": "exclusive"})").status, 200);
    json add = json::array();
    for (std::size_t i = 0; i < 100; i += 2) add.push_back({{"id", users[i]}, {"tags", {"solo:odd"}}});
    ASSERT_EQ(same("POST", "/v1/assign", json{{"add", add}}.dump()).status, 200);
    wait_for_replicas();
    const auto solo = same("GET", "/v1/fields/solo");
    EXPECT_EQ(body_json(solo)["values"][0]["count"], 250) << solo.body;  // 200 odd + the 50 moved
    same("POST", "/v1/count", R"({"q": "solo:odd AND solo:even"})");
  }
  EXPECT_EQ(same("DELETE", "/v1/fields/cat").status, 200);
  EXPECT_EQ(same("DELETE", "/v1/fields/cat").status, 404);
  EXPECT_EQ(same("DELETE", "/v1/fields/solo").status, 200);  // exclusive, no label: still metadata
  same("GET", "/v1/fields/cat");
  same("DELETE", "/v1/fields/never");
  same("PUT", "/v1/fields/a:b", "{}");
  same("PUT", "/v1/fields/cat", R"({"kind": 3})");
  same("PUT", "/v1/fields/cat", "not json");
}

}  // namespace
}  // namespace crowd::test
