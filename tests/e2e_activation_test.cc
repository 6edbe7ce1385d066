// Activation end to end (issue 16): a real crowdd pushes a saved crowd to
// real receivers -- tools/push_receiver.py over HTTP, and a file destination
// applied by the same script's --apply-dir -- and what each receiver holds
// is compared, at every version, with the crowd this file computes itself
// from what it ingested (users, their tags and OAIDs). Through a SIGKILL of
// crowdd in the middle of a multi-chunk push, a receiver that fails its first
// attempts, and an erasure. Then the hold-out's stability across refreshes,
// and the report's figures against this file's own count of the events it
// sent. Every wait is bounded.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "query/date.h"
#include "tests/support/eventually.h"
#include "tests/support/push_receiver_process.h"
#include "tests/support/server_process.h"
#include "tests/support/tool_process.h"

namespace crowd::test {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string oaid(uint64_t uid) {
  std::string s = "oaid-";
  s += std::to_string(uid);
  return s;
}

// What this test ingested: each user's segment tags.
struct Population {
  std::map<uint64_t, std::set<std::string>> tags;

  [[nodiscard]] std::set<uint64_t> with(const std::string& tag) const {
    std::set<uint64_t> out;
    for (const auto& [uid, t] : tags) {
      if (t.contains(tag)) out.insert(uid);
    }
    return out;
  }
};

std::set<std::string> as_oaids(const std::set<uint64_t>& uids) {
  std::set<std::string> out;
  for (const uint64_t u : uids) out.insert(oaid(u));
  return out;
}

std::set<std::string> strings_of(const json& array) {
  std::set<std::string> out;
  for (const auto& v : array) out.insert(v.get<std::string>());
  return out;
}

json body_of(const HttpResult& r) { return json::parse(r.body.empty() ? "null" : r.body); }

// Ingests users [first, last) with seg:a when uid % 3 == 0, seg:b when
// uid % 5 == 0 (every user gets "all"), each with its OAID (the ID type
// defined first).
void ingest(const ServerProcess& server, Population& model, uint64_t first, uint64_t last) {
  const auto defined = server.request("PUT", "/v1/id-types/oaid", R"({"kind":"string"})");
  ASSERT_TRUE(defined.status == 200 || defined.status == 201) << defined.body;
  std::string body;
  for (uint64_t u = first; u < last; ++u) {
    std::set<std::string> t = {"all"};
    if (u % 3 == 0) t.insert("seg:a");
    if (u % 5 == 0) t.insert("seg:b");
    json line = {{"id", u}, {"ids", {{"oaid", oaid(u)}}}, {"tags", t}};
    body += line.dump() + "\n";
    model.tags[u] = t;
    if (body.size() > (4u << 20)) {
      ASSERT_EQ(server.post("/v1/ingest", body, "application/x-ndjson").status, 200);
      body.clear();
    }
  }
  if (!body.empty()) {
    ASSERT_EQ(server.post("/v1/ingest", body, "application/x-ndjson").status, 200);
  }
}

// Moves `n` users into seg:a and `n` out of it (an assign), as the model does.
void churn(const ServerProcess& server, Population& model, std::mt19937_64& rng, int n) {
  json add = json::array(), remove = json::array();
  std::vector<uint64_t> uids, ins, outs;
  for (const auto& [u, t] : model.tags) uids.push_back(u);
  for (int i = 0; i < n; ++i) {
    ins.push_back(uids[rng() % uids.size()]);
    outs.push_back(uids[rng() % uids.size()]);
    add.push_back({{"id", ins.back()}, {"tags", {"seg:a"}}});
    remove.push_back({{"id", outs.back()}, {"tags", {"seg:a"}}});
  }
  // Adds apply before removes (docs/api.md): a user in both ends without it.
  for (const auto u : ins) model.tags[u].insert("seg:a");
  for (const auto u : outs) model.tags[u].erase("seg:a");
  const auto r = server.post("/v1/assign", json{{"add", add}, {"remove", remove}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
}

// The push of `crowd` with id `id` as the history shows it.
json push_record(const ServerProcess& server, const std::string& crowd, const std::string& id) {
  const auto history = body_of(server.get("/v1/crowds/" + crowd + "/pushes"));
  for (const auto& p : history["pushes"]) {
    if (p["id"] == id) return p;
  }
  return json();
}

bool delivered(const ServerProcess& server, const std::string& crowd, const std::string& id) {
  const auto p = push_record(server, crowd, id);
  return p.is_object() && p["status"] == "delivered";
}

// The crowd seg:a pushed to a webhook in OAIDs: a SIGKILL of crowdd while
// the receiver holds the second chunk of the first (full) push; the restarted
// crowdd resends the same push, which the receiver applies once. Then deltas
// after churn, and an erasure that reaches the receiver as a remove.
TEST(ActivationE2e, AWebhookReceiverEqualsTheCrowdAtEveryVersionThroughAKill) {
  const ScratchDir dir("crowd-activation-e2e");
  const std::string data = dir.path + "/data";
  // A chunk is 50,000 lines: 60k users in seg:a make a full push of two
  // chunks, and the receiver hangs on the second.
  constexpr uint64_t kUsers = 180'000;
  Population model;
  PushReceiver receiver({"--hang-at", "2", "--hang-seconds", "30"});
  ASSERT_TRUE(receiver.ok()) << receiver.log();
  std::string push_id;
  {
    ServerProcess server({"--data-dir", data, "--fsync", "always"});
    ASSERT_TRUE(server.ok()) << server.log();
    ingest(server, model, 1, kUsers + 1);
    auto r = server.request("PUT", "/v1/destinations/hook",
                            json{{"kind", "webhook"},
                                 {"url", receiver.url()},
                                 {"id_type", "oaid"},
                                 {"headers", {{"Authorization", "Bearer hush-hush"}}},
                                 {"timeout_ms", 60000}}
                                .dump());
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(body_of(r)["headers"], json::array({"Authorization"})) << "header names only";
    EXPECT_EQ(r.body.find("hush-hush"), std::string::npos);
    EXPECT_EQ(r.body.find("from=crowd"), std::string::npos) << "the URL's query is not shown";
    r = server.request("PUT", "/v1/crowds/a", R"({"q":"seg:a"})");
    ASSERT_EQ(r.status, 201) << r.body;
    ASSERT_EQ(body_of(r)["count"], model.with("seg:a").size());
    ASSERT_EQ(body_of(r)["version"], 1);
    r = server.post("/v1/crowds/a/push", R"({"destination":"hook"})");
    ASSERT_EQ(r.status, 202) << r.body;
    push_id = body_of(r)["push"]["id"];
    EXPECT_EQ(body_of(r)["push"]["mode"], "full");
    // The receiver has staged chunk 1 and holds chunk 2: kill crowdd now.
    ASSERT_TRUE(eventually([&] { return receiver.state()["requests"].get<int>() >= 2; }, std::chrono::seconds(60))) << server.log();
    EXPECT_TRUE(receiver.state()["applied"].empty());
    ::kill(server.pid(), SIGKILL);
    server.stop();
  }
  ServerProcess server({"--data-dir", data, "--fsync", "always"});
  ASSERT_TRUE(server.ok()) << server.log();
  ASSERT_TRUE(eventually([&] { return delivered(server, "a", push_id); })) << server.log();
  auto state = receiver.state();
  EXPECT_EQ(state["applied"], json::array({push_id})) << "the same push, applied once";
  EXPECT_EQ(state["version"], 1);
  EXPECT_EQ(strings_of(state["ids"]), as_oaids(model.with("seg:a")));
  EXPECT_EQ(server.log().find("hush-hush"), std::string::npos) << "secrets never logged";

  // Deltas: each version's adds and removes, the receiver equal to the crowd.
  std::mt19937_64 rng(16);
  for (int round = 0; round < 3; ++round) {
    const auto before = model.with("seg:a");
    churn(server, model, rng, 500);
    const auto after = model.with("seg:a");
    auto r = server.post("/v1/crowds/a/refresh", "{}");
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(body_of(r)["count"], after.size());
    r = server.post("/v1/crowds/a/push", R"({"destination":"hook"})");
    ASSERT_EQ(r.status, 202) << r.body;
    const std::string id = body_of(r)["push"]["id"];
    EXPECT_EQ(body_of(r)["push"]["mode"], "delta");
    ASSERT_TRUE(eventually([&] { return delivered(server, "a", id); })) << server.log();
    uint64_t adds = 0, removes = 0;
    for (const auto u : after) adds += !before.contains(u);
    for (const auto u : before) removes += !after.contains(u);
    const auto p = push_record(server, "a", id);
    EXPECT_EQ(p["adds"], adds);
    EXPECT_EQ(p["removes"], removes);
    EXPECT_EQ(p["version"], round + 2);
    EXPECT_EQ(p["base_version"], round + 1);
    state = receiver.state();
    EXPECT_EQ(state["version"], round + 2);
    EXPECT_EQ(strings_of(state["ids"]), as_oaids(after)) << "round " << round;
  }

  // An erased member leaves the receiver with the next push, though the
  // crowd has no new version.
  const uint64_t erased = *model.with("seg:a").begin();
  ASSERT_EQ(server.request("DELETE", "/v1/users/oaid/" + oaid(erased)).status, 200);
  model.tags.erase(erased);
  auto r = server.post("/v1/crowds/a/push", R"({"destination":"hook"})");
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string erase_push = body_of(r)["push"]["id"];
  ASSERT_TRUE(eventually([&] { return delivered(server, "a", erase_push); })) << server.log();
  EXPECT_EQ(push_record(server, "a", erase_push)["removes"], 1);
  EXPECT_EQ(strings_of(receiver.state()["ids"]), as_oaids(model.with("seg:a")));

  // What the server keeps: for the one destination in step, the version it
  // holds; no older version; and the cohorts of the 4 versions pushed
  // (users first pushed with each; no hold-out, so no held-out cohorts).
  const auto metrics = server.get("/metrics").body;
  EXPECT_NE(metrics.find("\ncrowd_activation_kept_bitmaps 5\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\ncrowd_activation_outstanding_pushes 0\n"), std::string::npos) << metrics;
  EXPECT_EQ(server.stop(), 0);
}

// A receiver that fails: the push is retried (the same push id) until it
// lands, a new push request resending it first; the receiver applies it once.
TEST(ActivationE2e, AFailingReceiverGetsTheSamePushUntilItLands) {
  Population model;
  PushReceiver receiver({"--fail-first", "30"});
  ASSERT_TRUE(receiver.ok()) << receiver.log();
  ServerProcess server({});
  ASSERT_TRUE(server.ok()) << server.log();
  ingest(server, model, 1, 3001);
  auto r = server.request(
      "PUT", "/v1/destinations/flaky",
      json{{"kind", "webhook"}, {"url", receiver.url()}, {"format", "csv"}, {"timeout_ms", 500}, {"deadline_ms", 1000}}
          .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  ASSERT_EQ(server.request("PUT", "/v1/crowds/b", R"({"q":"seg:b"})").status, 201);
  r = server.post("/v1/crowds/b/push", R"({"destination":"flaky"})");
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string id = body_of(r)["push"]["id"];
  ASSERT_TRUE(eventually([&] { return push_record(server, "b", id)["status"] == "retrying"; }, std::chrono::seconds(30))) << server.log();
  const auto failed = push_record(server, "b", id);
  EXPECT_GT(failed["attempts"].get<int>(), 1);
  EXPECT_FALSE(failed["error"].is_null());
  EXPECT_EQ(failed["error"].get<std::string>().find("from=crowd"), std::string::npos);
  // Each request resends the outstanding push now, never a second one.
  int requests = 0;
  ASSERT_TRUE(eventually(
      [&] {
        if (delivered(server, "b", id)) return true;
        const auto again = server.post("/v1/crowds/b/push", R"({"destination":"flaky"})");
        ++requests;
        EXPECT_EQ(again.status, 202) << again.body;
        EXPECT_EQ(body_of(again)["push"]["id"], id);
        EXPECT_EQ(body_of(again)["resent"], true);
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        return false;
      },
      std::chrono::seconds(90)))
      << server.log();
  EXPECT_GT(requests, 0);
  const auto state = receiver.state();
  EXPECT_EQ(state["applied"], json::array({id}));
  std::set<std::string> uids;
  for (const auto u : model.with("seg:b")) uids.insert(std::to_string(u));
  EXPECT_EQ(strings_of(state["ids"]), uids);
  EXPECT_GE(state["requests"].get<int>(), 31);
  EXPECT_EQ(server.stop(), 0);
}

// Which of `members` (uids) the applied file pushes hold.
std::set<uint64_t> applied_uids(const json& state) {
  std::set<uint64_t> out;
  for (const auto& id : state["ids"]) out.insert(std::stoull(id.get<std::string>()));
  return out;
}

json apply_dir(const std::string& dir, const std::string& state_path) {
  const auto run = run_tool({python3_path(), std::string(CROWD_SOURCE_DIR) + "/tools/push_receiver.py", "--apply-dir",
                             dir, "--state", state_path});
  EXPECT_EQ(run.exit_code, 0) << run.err << run.out;
  return json::parse(read_file(state_path));
}

// A 10% hold-out pushed to a file destination: the same users are held out
// at every refresh; the report's figures per group equal this file's count
// of the events it sent, and the feedback's bad lines change nothing.
TEST(ActivationE2e, TheHoldoutIsStableAndTheReportCountsTheEvents) {
  const ScratchDir dir("crowd-activation-holdout");
  const std::string out = dir.path + "/out";
  Population model;
  ServerProcess server({});
  ASSERT_TRUE(server.ok()) << server.log();
  ingest(server, model, 1, 20001);
  auto r = server.request("PUT", "/v1/destinations/files", json{{"kind", "file"}, {"path", out}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  r = server.request("PUT", "/v1/crowds/h", R"({"q":"seg:a","holdout":10})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(body_of(r)["holdout"], 10.0);

  std::mt19937_64 rng(99);
  std::vector<std::set<uint64_t>> members, pushed;
  for (int version = 1; version <= 3; ++version) {
    if (version > 1) {
      churn(server, model, rng, 400);
      ASSERT_EQ(server.post("/v1/crowds/h/refresh", "{}").status, 200);
    }
    r = server.post("/v1/crowds/h/push", R"({"destination":"files"})");
    ASSERT_EQ(r.status, 202) << r.body;
    const std::string id = body_of(r)["push"]["id"];
    ASSERT_TRUE(eventually([&] { return delivered(server, "h", id); })) << server.log();
    members.push_back(model.with("seg:a"));
    pushed.push_back(applied_uids(apply_dir(out, dir.path + "/state.json")));
    const auto& m = members.back();
    const auto& p = pushed.back();
    for (const auto u : p) ASSERT_TRUE(m.contains(u)) << "pushed a non-member " << u;
    const double held_share = 1.0 - static_cast<double>(p.size()) / static_cast<double>(m.size());
    EXPECT_GT(held_share, 0.08);
    EXPECT_LT(held_share, 0.12);
    EXPECT_EQ(push_record(server, "h", id)["held_out"], m.size() - p.size());
  }
  // Stable: a user in two versions is pushed in both or held out of both.
  for (std::size_t v = 1; v < members.size(); ++v) {
    for (const auto u : members[v]) {
      if (members[v - 1].contains(u)) {
        ASSERT_EQ(pushed[v].contains(u), pushed[v - 1].contains(u)) << u;
      }
    }
  }

  // Events: by uid and by OAID, with repeats, unknown IDs and event ids.
  const int64_t today =
      std::chrono::duration_cast<std::chrono::days>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string day = query::format_day(today - 1);
  std::map<uint64_t, uint64_t> impressions, clicks, orders;
  std::map<uint64_t, int64_t> gmv_fen;
  std::string events;
  uint64_t sent = 0, unknown = 0, duplicates = 0;
  std::vector<uint64_t> uids;
  for (const auto& [u, t] : model.tags) uids.push_back(u);
  for (int i = 0; i < 6000; ++i) {
    const uint64_t u = uids[rng() % uids.size()];
    const int kind = static_cast<int>(rng() % 10);  // 7 impressions, 2 clicks, 1 order
    const bool by_oaid = rng() % 2 == 0;
    json e = {{"campaign", "c1"}, {"day", day}};
    if (by_oaid) {
      e["id_type"] = "oaid";
      e["id"] = oaid(u);
    } else {
      e["id_type"] = "uid";
      e["id"] = u;
    }
    if (kind < 7) {
      e["event"] = "impression";
      ++impressions[u];
    } else if (kind < 9) {
      e["event"] = "click";
      ++clicks[u];
    } else {
      e["event"] = "order";
      const int64_t fen = static_cast<int64_t>(rng() % 100'000);
      e["value"] = static_cast<double>(fen) / 100.0;
      e["event_id"] = "order-" + std::to_string(i);
      ++orders[u];
      gmv_fen[u] += fen;
      if (rng() % 5 == 0) {  // the same order again: a duplicate
        events += e.dump() + "\n";
        ++sent;
        ++duplicates;
      }
    }
    events += e.dump() + "\n";
    ++sent;
    if (i % 100 == 0) {
      events += json{{"id_type", "oaid"},
                     {"id", "nobody-" + std::to_string(i)},
                     {"event", "click"},
                     {"campaign", "c1"},
                     {"day", day}}
                    .dump() +
                "\n";
      ++sent;
      ++unknown;
    }
  }
  // A bad day refuses the request whole, naming the line.
  const std::string bad =
      events +
      json{{"id_type", "uid"}, {"id", 1}, {"event", "click"}, {"campaign", "c1"}, {"day", "2999-01-01"}}.dump() + "\n";
  r = server.post("/v1/feedback", bad, "application/x-ndjson");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(body_of(r)["error"]["line"], sent + 1);
  r = server.post("/v1/feedback", events, "application/x-ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r)["events"], sent);
  EXPECT_EQ(body_of(r)["unknown_ids"], unknown);
  EXPECT_EQ(body_of(r)["duplicates"], duplicates);
  // The same request again: only the orders (with event ids) are idempotent.
  r = server.post("/v1/feedback", events, "application/x-ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  uint64_t with_ids = 0;
  for (const auto& [u, n] : orders) with_ids += n;
  EXPECT_EQ(body_of(r)["duplicates"], with_ids + duplicates);
  for (auto& [u, n] : impressions) n *= 2;
  for (auto& [u, n] : clicks) n *= 2;

  // The report, against this file's own sums over its groups: treated =
  // every user ever pushed, held out = every member ever held out.
  std::set<uint64_t> treated, held;
  for (std::size_t v = 0; v < members.size(); ++v) {
    for (const auto u : members[v]) (pushed[v].contains(u) ? treated : held).insert(u);
  }
  for (const auto u : treated) ASSERT_FALSE(held.contains(u)) << "held out once, held out always: " << u;
  const auto expect = [&](const json& f, const std::set<uint64_t>& group, const std::string& what) {
    uint64_t reach = 0, imp = 0, clk = 0, ord = 0, buyers = 0;
    int64_t gmv = 0;
    for (const auto u : group) {
      if (impressions.contains(u)) ++reach, imp += impressions.at(u);
      if (clicks.contains(u)) clk += clicks.at(u);
      if (orders.contains(u)) ++buyers, ord += orders.at(u), gmv += gmv_fen.at(u);
    }
    EXPECT_EQ(f["users"], group.size()) << what;
    EXPECT_EQ(f["reach"], reach) << what;
    EXPECT_EQ(f["impressions"], imp) << what;
    EXPECT_EQ(f["clicks"], clk) << what;
    EXPECT_EQ(f["orders"], ord) << what;
    EXPECT_EQ(f["buyers"], buyers) << what;
    EXPECT_NEAR(f["gmv"].get<double>(), static_cast<double>(gmv) / 100.0, 0.005) << what;
  };
  r = server.get("/v1/crowds/h/report?campaign=c1");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto report = body_of(r);
  expect(report["treated"], treated, "treated");
  expect(report["holdout_group"], held, "held out");
  ASSERT_EQ(report["versions"].size(), 3u);
  const auto& lift = report["conversion_lift"];
  uint64_t tb = 0, hb = 0;
  for (const auto u : treated) tb += orders.contains(u);
  for (const auto u : held) hb += orders.contains(u);
  if (hb > 0) {
    const double pt = static_cast<double>(tb) / static_cast<double>(treated.size());
    const double ph = static_cast<double>(hb) / static_cast<double>(held.size());
    EXPECT_NEAR(lift["lift"].get<double>(), pt / ph - 1, 1e-9);
    EXPECT_LT(lift["ci95_low"].get<double>(), lift["lift"].get<double>());
    EXPECT_GT(lift["ci95_high"].get<double>(), lift["lift"].get<double>());
  }
  // Events are tags too: the loop closes in the query language.
  std::set<uint64_t> clickers;
  for (const auto& [u, n] : clicks) clickers.insert(u);
  r = server.get("/v1/count?q=" + url_encode("within(click:c1, " + day + ", " + day + ")"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r)["count"], clickers.size());
  EXPECT_EQ(server.stop(), 0);
}

// Bad input answers in words and changes nothing; the server goes on.
TEST(ActivationE2e, BadInputIsRefusedClearly) {
  const ScratchDir dir("crowd-activation-bad");
  ServerProcess server({});
  ASSERT_TRUE(server.ok()) << server.log();
  Population model;
  ingest(server, model, 1, 101);
  ASSERT_EQ(server.request("PUT", "/v1/crowds/c", R"({"q":"seg:a"})").status, 201);
  const auto status = [&](const std::string& method, const std::string& target, const std::string& body) {
    return server.request(method, target, body).status;
  };
  EXPECT_EQ(status("POST", "/v1/crowds/c/push", R"({"destination":"nowhere"})"), 404);
  EXPECT_EQ(status("POST", "/v1/crowds/nope/push", R"({"destination":"nowhere"})"), 404);
  EXPECT_EQ(status("PUT", "/v1/crowds/c", R"({"q":"seg:a","refresh":"every tuesday"})"), 400);
  EXPECT_EQ(status("PUT", "/v1/crowds/c", R"({"q":"seg:a","holdout":75})"), 400);
  EXPECT_EQ(status("PUT", "/v1/crowds/c", R"({"q":"seg:a","ttl":"30d","expires_at":"2030-01-01"})"), 400);
  EXPECT_EQ(status("PUT", "/v1/destinations/d", R"({"kind":"file","path":"/proc/crowd"})"), 400);
  EXPECT_EQ(status("PUT", "/v1/destinations/d", R"({"kind":"ftp","path":"/tmp"})"), 400);
  EXPECT_EQ(status("PUT", "/v1/destinations/d", R"({"kind":"webhook","url":"https://example.com/x"})"), 400);
  EXPECT_EQ(status("PUT", "/v1/destinations/bad%20name", R"({"kind":"file","path":"/tmp"})"), 400);
  EXPECT_EQ(status("PUT", "/v1/crowds/c", R"({"q":"seg:a","push_to":["nowhere"]})"), 400);
  // A floor the crowd is under refuses the push.
  ASSERT_EQ(
      status("PUT", "/v1/destinations/big", json{{"kind", "file"}, {"path", dir.path}, {"min_size", 2000}}.dump()),
      201);
  const auto r = server.post("/v1/crowds/c/push", R"({"destination":"big"})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(body_of(r)["error"]["code"], "push_refused");
  // An expired crowd is neither refreshed nor pushed.
  ASSERT_EQ(status("PATCH", "/v1/crowds/c", R"({"expires_at":"2020-01-01"})"), 200);
  EXPECT_EQ(status("POST", "/v1/crowds/c/refresh", "{}"), 409);
  EXPECT_EQ(status("POST", "/v1/crowds/c/push", R"({"destination":"big"})"), 409);
  EXPECT_EQ(body_of(server.get("/v1/crowds/c"))["expired"], true);
  EXPECT_EQ(status("GET", "/v1/count?q=%40c", ""), 200) << "an expired crowd is kept";
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace crowd::test
