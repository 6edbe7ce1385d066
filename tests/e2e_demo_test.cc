// The demo data set served by crowdd, checked against an independent
// evaluation: the test regenerates the same synthetic population in-process
// (it is deterministic in its seed), evaluates random queries user by user
// over plain sets of tag names, and compares counts and exported ID lists.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "index/synthetic_population.h"
#include "tests/support/server_process.h"

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
      // A prefix: the field and part of the value.
      const auto cut = std::min(tag.size(), tag.find(':') + 1 + pick(3));
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

  // The same population, regenerated here: user -> set of tag names.
  const synth::Population population(synth::PopulationOptions{kUsers, kSeed});
  const auto& vocabulary = population.vocabulary();
  std::map<uint64_t, TagSet> users;
  std::set<std::string> used;
  std::vector<uint32_t> tag_ids;
  for (uint64_t i = 0; i < kUsers; ++i) {
    UserId id = 0;
    population.user(i, id, tag_ids);
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

}  // namespace
}  // namespace crowd::test
