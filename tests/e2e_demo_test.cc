// The demo data set served by crowdd, checked against an independent
// evaluation: the test regenerates the same synthetic population in-process
// (it is deterministic in its seed), evaluates random queries user by user
// over plain sets of tag names (user()'s tags and the plain tags of facts()'
// events), and compares counts and exported ID lists; numeric values and
// dated snapshots likewise from facts(). And crowd-gen's NDJSON, ingested into
// an empty server, must give the same index as --demo.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "data/synthetic_population.h"
#include "tests/support/e2e_util.h"
#include "tests/support/server_process.h"
#include "tests/support/tool_process.h"

namespace crowd::test {
namespace {

using json = nlohmann::json;
using TagSet = std::set<std::string>;

constexpr uint64_t kUsers = 20000;
constexpr uint64_t kSeed = 7;

// A random query: its text (fully parenthesised) and a predicate over a
// user's tags that says whether the user is in the crowd.
struct RandomQuery {
  std::string text;
  std::function<bool(const TagSet&)> matches;
};

std::string quote(const std::string& tag) {
  std::string out = "\"";
  for (const char c : tag) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

RandomQuery random_query(std::mt19937_64& rng, const std::vector<std::string>& tags, int depth) {
  const auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  if (depth == 0 || pick(4) == 0) {
    const auto kind = pick(10);
    if (kind == 0) return {"ALL", [](const TagSet&) { return true; }};
    const std::string tag = tags[pick(tags.size())];
    if (kind == 1) {
      // A prefix: the field and part of the value, cut at a UTF-8 character
      // boundary (the query must be valid UTF-8).
      auto cut = std::min(tag.size(), tag.find(':') + 1 + pick(3));
      while (cut < tag.size() && (static_cast<unsigned char>(tag[cut]) & 0xC0) == 0x80) --cut;
      const std::string prefix = tag.substr(0, cut);
      return {quote(prefix) + "*", [prefix](const TagSet& s) {
                const auto it = s.lower_bound(prefix);
                return it != s.end() && it->compare(0, prefix.size(), prefix) == 0;
              }};
    }
    return {quote(tag), [tag](const TagSet& s) { return s.count(tag) > 0; }};
  }
  const auto op = pick(5);
  if (op == 0) {
    auto inner = random_query(rng, tags, depth - 1);
    return {"NOT (" + inner.text + ")", [m = inner.matches](const TagSet& s) { return !m(s); }};
  }
  const std::size_t n = 2 + pick(3);
  std::vector<RandomQuery> parts;
  for (std::size_t i = 0; i < n; ++i) parts.push_back(random_query(rng, tags, depth - 1));
  const bool conj = op <= 2;
  std::string text = "(";
  for (std::size_t i = 0; i < n; ++i) {
    if (i) text += conj ? " AND " : " OR ";
    text += parts[i].text;
  }
  text += ")";
  std::vector<std::function<bool(const TagSet&)>> ms;
  for (auto& p : parts) ms.push_back(std::move(p.matches));
  return {text, [ms, conj](const TagSet& s) {
            for (const auto& m : ms) {
              if (m(s) != conj) return !conj;
            }
            return conj;
          }};
}

TEST(DemoDataTest, CountsAndIdsEqualAnIndependentEvaluation) {
  ServerProcess server({"--demo", std::to_string(kUsers), "--seed", std::to_string(kSeed)});
  ASSERT_TRUE(server.ok()) << server.log();

  // The same population, regenerated here: user -> set of tag names (an
  // event sets its plain tag too).
  const synth::Population population(synth::PopulationOptions{kUsers, kSeed});
  const auto& vocabulary = population.vocabulary();
  std::map<uint64_t, TagSet> users;
  std::set<std::string> used;
  std::vector<uint32_t> tag_ids;
  synth::UserFacts facts;
  for (uint64_t i = 0; i < kUsers; ++i) {
    UserId id = 0;
    population.user(i, id, tag_ids);
    population.facts(i, tag_ids, facts);
    for (const auto& e : facts.events) tag_ids.push_back(e.tag);
    auto& set = users[id];
    for (const auto t : tag_ids) {
      set.insert(vocabulary[t]);
      used.insert(vocabulary[t]);
    }
  }
  const auto health = json::parse(server.get("/healthz").body);
  ASSERT_EQ(health["users"], users.size());
  ASSERT_EQ(health["tags"], used.size());

  // Mostly tags that exist, some that do not (lenient makes them empty).
  std::vector<std::string> pool(used.begin(), used.end());
  pool.push_back("no:such:tag");
  std::mt19937_64 rng(99);
  for (int n = 0; n < 300; ++n) {
    const auto q = random_query(rng, pool, 1 + static_cast<int>(rng() % 3));
    std::set<uint64_t> expected;
    for (const auto& [id, tags] : users) {
      if (q.matches(tags)) expected.insert(id);
    }
    const auto r = server.post("/v1/count", json{{"q", q.text}, {"lenient", true}}.dump());
    ASSERT_EQ(r.status, 200) << q.text << ": " << r.body;
    ASSERT_EQ(json::parse(r.body)["count"], expected.size()) << q.text;
    if (n % 10 == 0) {
      const auto csv = server.get("/v1/ids?format=csv&lenient=true&q=" + url_encode(q.text));
      ASSERT_EQ(csv.status, 200);
      std::set<uint64_t> got;
      std::istringstream in(csv.body);
      for (std::string line; std::getline(in, line);) got.insert(std::stoull(line));
      ASSERT_EQ(got, expected) << q.text;
    }
  }
  EXPECT_EQ(server.stop(), 0);
}

// Comparisons on the values and within() on the snapshot days, against
// facts() evaluated here user by user.
TEST(DemoDataTest, ValuesAndSnapshotsEqualAnIndependentEvaluation) {
  // A fixed today: the dated behaviour counts back from it.
  const int64_t as_of = civil_day(2026, 12, 1);
  ServerProcess server({"--demo", std::to_string(kUsers), "--seed", std::to_string(kSeed), "--as-of", "2026-12-01"});
  ASSERT_TRUE(server.ok()) << server.log();
  const synth::Population population(synth::PopulationOptions{kUsers, kSeed});
  const auto& vocabulary = population.vocabulary();
  namespace world = synth::world;
  std::vector<synth::UserFacts> facts(kUsers);
  for (uint64_t i = 0; i < kUsers; ++i) population.facts(i, facts[i]);
  const auto count = [&](const std::string& q) {
    const auto r = server.post("/v1/count", json{{"q", q}}.dump());
    EXPECT_EQ(r.status, 200) << q << ": " << r.body;
    return r.status == 200 ? json::parse(r.body)["count"].get<uint64_t>() : ~uint64_t{0};
  };

  // Values: a user without a value matches no comparison.
  struct Compare {
    int attribute;
    const char* op;
    int64_t bound;
  };
  for (const Compare& c : {Compare{1, ">=", 1000}, Compare{1, "=", 0}, Compare{1, ">", 0}, Compare{0, ">=", 10},
                           Compare{0, "<", 3}, Compare{2, "<=", 30}, Compare{2, ">", 180}, Compare{3, ">=", 5000},
                           Compare{3, "!=", 0}, Compare{0, ">=", -1}}) {
    uint64_t expected = 0;
    for (const auto& f : facts) {
      if (!f.has_values) continue;
      const int64_t v = f.values[c.attribute];
      const std::string_view op = c.op;
      expected += op == ">=" ? v >= c.bound
                  : op == ">" ? v > c.bound
                  : op == "<=" ? v <= c.bound
                  : op == "<"  ? v < c.bound
                  : op == "="  ? v == c.bound
                               : v != c.bound;
    }
    const std::string q = std::string(world::kAttributeNames[c.attribute]) + " " + c.op + " " + std::to_string(c.bound);
    EXPECT_EQ(count(q), expected) << q;
  }

  // Snapshots: within() on each day and across both, for some brands' states.
  for (const std::string brand : {"brand_x", "beibei", "jixing"}) {
    for (const char state : std::string_view("AIPL")) {
      const std::string tag = "aipl_daily:" + brand + ":" + state;
      std::array<uint64_t, 2> on_day{};
      uint64_t either = 0;
      for (const auto& f : facts) {
        std::array<bool, 2> held{};
        for (const auto& e : f.events) {
          if (vocabulary[e.tag] == tag) held[e.snapshot] = true;
        }
        on_day[0] += held[0];
        on_day[1] += held[1];
        either += held[0] || held[1];
      }
      const auto& d = world::kSnapshotDays;
      const std::string d0(d[0].date), d1(d[1].date);
      EXPECT_EQ(count("within(" + tag + ", " + d0 + ", " + d0 + ")"), on_day[0]) << tag;
      EXPECT_EQ(count("within(" + tag + ", " + d1 + ", " + d1 + ")"), on_day[1]) << tag;
      EXPECT_EQ(count("within(" + tag + ", " + d0 + ", " + d1 + ")"), either) << tag;
      EXPECT_EQ(count(tag), either) << tag;
      // The later day is the current state.
      EXPECT_EQ(count("within(" + tag + ", " + d1 + ", " + d1 + ")"), count("aipl:" + brand + ":" + state)) << tag;
    }
  }

  // Dated behaviour (issue 17, item 4): relative windows over the head
  // categories' tags, as of the server's today and as of other days, equal
  // the days facts() drew; a dated buy is never older than the user's
  // newest order.
  const auto window_of = [&](std::string_view prefix, int64_t end, int n) {
    uint64_t users = 0;
    for (const auto& f : facts) {
      users += std::any_of(f.behaviour.begin(), f.behaviour.end(), [&](const auto& b) {
        const int64_t day = as_of - b.days_ago;
        return vocabulary[b.tag].starts_with(prefix) && day <= end && day > end - n;
      });
    }
    return users;
  };
  const auto count_as_of = [&](const std::string& q, int64_t day) {
    const auto r = server.post("/v1/count", json{{"q", q}, {"as_of", day_text(day)}}.dump());
    EXPECT_EQ(r.status, 200) << q << ": " << r.body;
    return r.status == 200 ? json::parse(r.body)["count"].get<uint64_t>() : ~uint64_t{0};
  };
  uint64_t nonzero = 0;
  for (const std::string tag : {"cat:2520377:buy", "cat:2520377:pv", "cat:3607361:cart", "cat:4756105:fav"}) {
    for (const int n : {1, 7, 30, 180}) {
      const uint64_t expected = window_of(tag, as_of, n);
      nonzero += expected > 0;
      EXPECT_EQ(count("within(" + tag + ", " + std::to_string(n) + "d)"), expected) << tag << " " << n;
      EXPECT_EQ(count_as_of("within(" + tag + ", " + std::to_string(n) + "d)", as_of - 40), window_of(tag, as_of - 40, n))
          << tag << " " << n << " as of 40 days before";
    }
  }
  EXPECT_GT(nonzero, 10u) << "the windows should mostly hold users";
  EXPECT_EQ(count("within(cat:2520377:*, 30d)"), window_of("cat:2520377:", as_of, 30));
  EXPECT_EQ(count("within(cat:2520377:*, 180d)"), window_of("cat:2520377:", as_of, 180));
  EXPECT_EQ(count("within(cat:2520377:buy, 30d) AND recency_days >= 30"), 0u);
  EXPECT_GT(count("within(cat:2520377:buy, 30d)"), 0u);
  // Nothing is dated before the 180 days.
  EXPECT_EQ(count_as_of("within(cat:*, 181d)", as_of - 180), 0u);
  EXPECT_EQ(server.stop(), 0);
}

// crowd-gen's NDJSON ingested into an empty server builds the index --demo
// builds: same users, same tags, the same counts for queries over every kind
// of tag, and ingest's assignments equal the pairs crowd-gen --stats counts
// (tools/capacity_report.py checks the same at scale).
TEST(DemoDataTest, CrowdGenIngestedEqualsDemo) {
  const std::string gen = std::string(CROWD_BINARY_DIR) + "/crowd-gen";
  ASSERT_EQ(::access(gen.c_str(), X_OK), 0) << gen << " is built with every configuration (data/)";
  const ScratchDir scratch;
  const std::string path = scratch.path + "/demo.ndjson";
  const auto users = std::to_string(kUsers), seed = std::to_string(kSeed);
  const ToolRun written = run_tool({gen, "--users", users, "--seed", seed, "--as-of", "2026-12-01", "--out", path});
  ASSERT_EQ(written.exit_code, 0) << written.err;
  const ToolRun stats = run_tool({gen, "--users", users, "--seed", seed, "--stats"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  const auto at = stats.out.find("\nassignments");
  ASSERT_NE(at, std::string::npos) << stats.out;
  const uint64_t expected_pairs = std::stoull(stats.out.substr(stats.out.find_first_of("0123456789", at)));

  ServerProcess demo({"--demo", users, "--seed", seed, "--as-of", "2026-12-01"});
  ServerProcess ingested({"--threads", "2", "--as-of", "2026-12-01"});
  ASSERT_TRUE(demo.ok()) << demo.log();
  ASSERT_TRUE(ingested.ok()) << ingested.log();
  std::istringstream in(read_file(path));
  uint64_t lines = 0, pairs = 0;
  std::string body;
  const auto flush = [&] {
    const auto r = ingested.post("/v1/ingest", body, "application/x-ndjson");
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
    pairs += json::parse(r.body)["assignments"].get<uint64_t>();
    body.clear();
  };
  for (std::string line; std::getline(in, line);) {
    body += line + "\n";
    if (++lines % 5000 == 0) flush();
  }
  if (!body.empty()) flush();
  ASSERT_EQ(lines, kUsers);
  EXPECT_EQ(pairs, expected_pairs);

  const auto health_demo = json::parse(demo.get("/healthz").body);
  const auto health_ingested = json::parse(ingested.get("/healthz").body);
  EXPECT_EQ(health_ingested["users"], health_demo["users"]);
  EXPECT_EQ(health_ingested["tags"], health_demo["tags"]);
  for (const std::string q :
       {"ALL", "gender:female AND age:25-29", "aipl:brand_x:*", "aipl_daily:*", "aipl_daily:brand_x:P",
        "within(aipl_daily:brand_x:P, 2026-10-15, 2026-10-15)", "within(aipl_daily:brand_x:P, 2026-11-15, 2026-11-15)",
        "within(aipl_daily:brand_x:A, 2026-10-15, 2026-10-15) AND within(aipl_daily:brand_x:I, 2026-11-15, 2026-11-15)",
        "within(aipl_daily:beibei:L, 30d)", "within(cat:2520377:*, 30d)", "within(cat:3607361:buy, 7d)",
        "within(cat:*, 180d) AND NOT within(cat:*, 90d)", "spend_90d >= 1000", "spend_90d = 0", "orders_365d BETWEEN 5 AND 20",
        "recency_days < 30 AND clv >= 2000", "clv > 100000", "orders_365d >= 0", "cat:2520377:buy AND NOT spend_90d >= 0",
        "member:brand_x AND clv >= 5000"}) {
    const auto a = demo.post("/v1/count", json{{"q", q}}.dump());
    const auto b = ingested.post("/v1/count", json{{"q", q}}.dump());
    ASSERT_EQ(a.status, 200) << q << ": " << a.body;
    ASSERT_EQ(b.status, 200) << q << ": " << b.body;
    EXPECT_EQ(json::parse(a.body)["count"], json::parse(b.body)["count"]) << q;
  }
  EXPECT_EQ(demo.stop(), 0);
  EXPECT_EQ(ingested.stop(), 0);
}

}  // namespace
}  // namespace crowd::test
