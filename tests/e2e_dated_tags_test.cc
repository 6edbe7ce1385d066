// End-to-end tests of dated tags against the real crowdd: "events" in ingest
// and /v1/assign, within(tag, first, last) and within(tag, Nd) queries, their
// errors, --retention-days (also across a restart), and the Taobao sample
// loaded with --load-taobao against an independent parse of the CSV.
// Expectations come from plain in-test models: user -> tag -> set of days
// (calendar arithmetic by std::chrono), never from the server's code.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/e2e_util.h"
#include "tests/support/server_process.h"

namespace crowd::test {
namespace {

using json = nlohmann::json;

// Per user: plain tags ("ever"), and the days each tag was had on.
struct DatedModel {
  struct User {
    std::set<std::string> tags;
    std::map<std::string, std::set<int64_t>> days;
  };
  std::map<uint64_t, User> users;

  // Returns whether the (user, tag) pair is new.
  bool tag(uint64_t id, const std::string& t) { return users[id].tags.insert(t).second; }
  bool event(uint64_t id, const std::string& t, int64_t day) {
    const bool fresh = tag(id, t);
    users[id].days[t].insert(day);
    return fresh;
  }
  void erase(uint64_t id) { users.erase(id); }
  // Day tags older than `horizon` forgotten; plain tags stay.
  void forget_before(int64_t horizon) {
    for (auto& [id, u] : users) {
      for (auto& [t, days] : u.days) days.erase(days.begin(), days.lower_bound(horizon));
    }
  }

  [[nodiscard]] uint64_t holders(const std::string& t) const {
    uint64_t n = 0;
    for (const auto& [id, u] : users) n += u.tags.contains(t) ? 1 : 0;
    return n;
  }
  [[nodiscard]] bool within(const User& u, const std::string& t, int64_t first, int64_t last) const {
    const auto it = u.days.find(t);
    if (it == u.days.end()) return false;
    const auto d = it->second.lower_bound(first);
    return d != it->second.end() && *d <= last;
  }
  [[nodiscard]] std::set<uint64_t> within(const std::string& t, int64_t first, int64_t last) const {
    std::set<uint64_t> out;
    for (const auto& [id, u] : users) {
      if (within(u, t, first, last)) out.insert(id);
    }
    return out;
  }
  [[nodiscard]] int64_t newest_day() const {
    int64_t newest = INT64_MIN;
    for (const auto& [id, u] : users) {
      for (const auto& [t, days] : u.days) {
        if (!days.empty()) newest = std::max(newest, *days.rbegin());
      }
    }
    return newest;
  }
};

json event(const std::string& tag, int64_t day) {
  json e = json::object();
  e["tag"] = tag;
  e["day"] = day_text(day);
  return e;
}
json entry(uint64_t id) {
  json e = json::object();
  e["id"] = id;
  return e;
}

const std::vector<std::string> kEventTags = {"cat:1:buy", "cat:1:pv", "cat:2:buy", "城市:杭州", "brand x"};
const std::vector<std::string> kPlainTags = {"vip", "gender:female", "cat:2:buy"};

// Random users: a few plain tags, a few events on days in [first, first+span).
// Some users appear on two lines. Returns the NDJSON; `pairs` gets the number
// of (user, tag) pairs newly set by the whole batch.
std::string random_events(DatedModel& m, uint64_t seed, int lines, int64_t first, int span, uint64_t& pairs) {
  std::mt19937_64 rng(seed);
  std::string ndjson;
  pairs = 0;
  for (int i = 0; i < lines; ++i) {
    const uint64_t id = 100 + (i % (lines - lines / 10)) * 101;  // the last tenth repeat earlier users
    json line = entry(id);
    json tags = json::array();
    for (const auto& t : kPlainTags) {
      if (rng() % 4 == 0) {
        tags.push_back(t);
        pairs += m.tag(id, t) ? 1 : 0;
      }
    }
    json events = json::array();
    const int n = static_cast<int>(rng() % 5);
    for (int e = 0; e < n; ++e) {
      const auto& t = kEventTags[rng() % kEventTags.size()];
      const int64_t day = first + static_cast<int64_t>(rng() % static_cast<uint64_t>(span));
      events.push_back(event(t, day));
      pairs += m.event(id, t, day) ? 1 : 0;
    }
    if (tags.empty() && events.empty()) {
      tags.push_back("vip");
      pairs += m.tag(id, "vip") ? 1 : 0;
    }
    if (!tags.empty()) line["tags"] = tags;
    if (!events.empty()) line["events"] = events;
    ndjson += line.dump() + "\n";
  }
  return ndjson;
}

std::string within_q(const std::string& tag, int64_t first, int64_t last) {
  const bool quote = tag.find(' ') != std::string::npos;
  return "within(" + (quote ? "\"" + tag + "\"" : tag) + ", " + day_text(first) + ", " + day_text(last) + ")";
}
std::string within_days_q(const std::string& tag, int days) {
  const bool quote = tag.find(' ') != std::string::npos;
  return "within(" + (quote ? "\"" + tag + "\"" : tag) + ", " + std::to_string(days) + "d)";
}

const int64_t kFirst = civil_day(2017, 10, 20);  // events span 2017-10-20 .. 2017-12-18
const int kSpan = 60;

class DatedTagsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{"--threads", "2", "--max-body", "4000000"});
    ASSERT_TRUE(server_->ok()) << server_->log();
    const std::string ndjson = random_events(model_, 20171125, 600, kFirst, kSpan, pairs_);
    const auto r = server_->post("/v1/ingest", ndjson, "application/x-ndjson");
    ASSERT_EQ(r.status, 200) << r.body;
    const auto body = body_json(r);
    EXPECT_EQ(body["users"], 600);
    // Pairs of users' tags, day bitmaps not counted.
    EXPECT_EQ(body["assignments"], pairs_);
  }
  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->stop(), 0) << server_->log();
    }
  }

  void expect_model_holds(const std::string& context) {
    for (const auto& t : kEventTags) {
      EXPECT_EQ(count_of(*server_, t.find(' ') == std::string::npos ? t : "\"" + t + "\""), model_.holders(t))
          << context << " " << t;
      for (const auto& [first, last] : std::vector<std::pair<int64_t, int64_t>>{{kFirst, kFirst + kSpan},
                                                                                {kFirst + 10, kFirst + 16},
                                                                                {kFirst + 30, kFirst + 30},
                                                                                {kFirst - 5, kFirst}}) {
        EXPECT_EQ(count_of(*server_, within_q(t, first, last)), model_.within(t, first, last).size())
            << context << " " << within_q(t, first, last);
      }
    }
    EXPECT_EQ(universe_of(*server_), model_.users.size()) << context;
  }

  std::unique_ptr<ServerProcess> server_;
  DatedModel model_;
  uint64_t pairs_ = 0;
};

TEST_F(DatedTagsTest, WithinDateRangesMatchTheModel) {
  std::mt19937_64 rng(42);
  for (const auto& t : kEventTags) {
    // The plain tag means "ever" (including users who had it only as an event).
    const std::string quoted = t.find(' ') == std::string::npos ? t : "\"" + t + "\"";
    EXPECT_EQ(count_of(*server_, quoted), model_.holders(t)) << t;
    // The whole span is every event holder; plain-only holders are not in it.
    EXPECT_EQ(csv_ids(*server_, within_q(t, kFirst, kFirst + kSpan - 1)), model_.within(t, kFirst, kFirst + kSpan - 1))
        << t;
    for (int k = 0; k < 12; ++k) {
      const int64_t a = kFirst - 3 + static_cast<int64_t>(rng() % (kSpan + 6));
      const int64_t b = a + static_cast<int64_t>(rng() % 15);
      EXPECT_EQ(count_of(*server_, within_q(t, a, b)), model_.within(t, a, b).size()) << within_q(t, a, b);
    }
    // Single days: both ends inclusive.
    for (int64_t d = kFirst + 20; d < kFirst + 25; ++d) {
      EXPECT_EQ(csv_ids(*server_, within_q(t, d, d)), model_.within(t, d, d)) << within_q(t, d, d);
    }
    // First after last: empty, not an error.
    EXPECT_EQ(count_of(*server_, within_q(t, kFirst + 40, kFirst + 10)), 0u);
    // Before and after every event.
    EXPECT_EQ(count_of(*server_, within_q(t, civil_day(2000, 1, 1), kFirst - 1)), 0u);
    EXPECT_EQ(count_of(*server_, within_q(t, kFirst + kSpan, civil_day(2030, 1, 1))), 0u);
  }
  // "cat:2:buy" is both a plain tag and an event tag: plain-only holders are
  // not within any range.
  EXPECT_LT(model_.within("cat:2:buy", INT64_MIN / 4, INT64_MAX / 4).size(), model_.holders("cat:2:buy"));

  // Combined with the rest of the language.
  const int64_t a = kFirst + 5;
  const int64_t b = kFirst + 25;
  const auto w1 = model_.within("cat:1:buy", a, b);
  const auto w2 = model_.within("城市:杭州", kFirst + 30, kFirst + 59);
  std::set<uint64_t> expected;
  for (const auto& [id, u] : model_.users) {
    if ((w1.contains(id) && !u.tags.contains("vip")) || (w2.contains(id) && u.tags.contains("gender:female"))) {
      expected.insert(id);
    }
  }
  const std::string q = within_q("cat:1:buy", a, b) + " AND NOT vip OR (" +
                        within_q("城市:杭州", kFirst + 30, kFirst + 59) + " & gender:female)";
  EXPECT_EQ(csv_ids(*server_, q), expected) << q;
  // Keywords are case-insensitive, whitespace free.
  EXPECT_EQ(count_of(*server_, "WITHIN(cat:1:buy," + day_text(a) + "," + day_text(b) + ")"), w1.size());

  // A prefix: every matching tag's days in the window (issue 17, item 3).
  for (const std::string prefix : {"cat:1:", "cat:", "城市:"}) {
    for (int k = 0; k < 6; ++k) {
      const int64_t first = kFirst - 3 + static_cast<int64_t>(rng() % (kSpan + 6));
      const int64_t last = first + static_cast<int64_t>(rng() % 20);
      std::set<uint64_t> union_of_windows;
      for (const auto& t : kEventTags) {
        if (t.starts_with(prefix)) union_of_windows.merge(model_.within(t, first, last));
      }
      const std::string window = "within(" + prefix + "*, " + day_text(first) + ", " + day_text(last) + ")";
      EXPECT_EQ(csv_ids(*server_, window), union_of_windows) << window;
    }
  }
  const auto unknown = count_request(*server_, "within(nope:*, 30d)");
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_EQ(error_code(unknown), "unknown_tag");

  // A window over a tag that was never dated is always empty: the answer
  // says why, rather than a silent 0 (issue 17, item 3). A dated tag with no
  // events in the window is an ordinary 0, without a warning.
  for (const std::string window : {"within(vip, 30d)", "within(gender:*, 2017-01-01, 2030-01-01)"}) {
    const auto r = count_request(*server_, window + " OR within(cat:1:buy, 30d)");
    ASSERT_EQ(r.status, 200) << r.body;
    const auto body = body_json(r);
    ASSERT_TRUE(body.contains("warnings")) << window << ": " << r.body;
    ASSERT_EQ(body["warnings"].size(), 1u) << r.body;
    EXPECT_NE(body["warnings"][0].get<std::string>().find("no dated events"), std::string::npos) << r.body;
  }
  const auto quiet =
      body_json(count_request(*server_, within_q("cat:1:buy", civil_day(2000, 1, 1), civil_day(2000, 1, 2))));
  EXPECT_EQ(quiet["count"], 0);
  EXPECT_FALSE(quiet.contains("warnings")) << quiet;
}

// The per-day bitmaps are the index's own: listings, /healthz, /v1/fields
// and prefixes see only the users' tags.
TEST_F(DatedTagsTest, DayBitmapsAreHidden) {
  std::set<std::string> tags;
  for (const auto& [id, u] : model_.users) tags.insert(u.tags.begin(), u.tags.end());
  const auto health = body_json(server_->get("/healthz"));
  EXPECT_EQ(health["tags"], tags.size());
  const auto listed = body_json(server_->get("/v1/tags?limit=100000"));
  EXPECT_EQ(listed["total"], tags.size());
  std::set<std::string> names;
  for (const auto& t : listed["tags"]) {
    names.insert(t["tag"].get<std::string>());
    EXPECT_EQ(t["count"], model_.holders(t["tag"].get<std::string>())) << t;
  }
  EXPECT_EQ(names, tags);
  const auto fields = body_json(server_->get("/v1/fields"));
  std::set<std::string> field_names;
  for (const auto& f : fields["fields"]) field_names.insert(f["field"].get<std::string>());
  EXPECT_EQ(field_names, (std::set<std::string>{"brand x", "cat", "gender", "vip", "城市"}));
  std::set<uint64_t> cat1;
  for (const auto& [id, u] : model_.users) {
    if (u.tags.contains("cat:1:buy") || u.tags.contains("cat:1:pv")) cat1.insert(id);
  }
  EXPECT_EQ(csv_ids(*server_, "cat:1:*"), cat1);
}

TEST_F(DatedTagsTest, WithinLastDaysCountsBackFromTheNewestDayInTheIndex) {
  const int64_t newest = model_.newest_day();
  ASSERT_EQ(newest, kFirst + kSpan - 1) << "the random data should reach the last day";
  for (const auto& t : kEventTags) {
    for (const int n : {1, 2, 7, 30, 59, 60, 1000}) {
      EXPECT_EQ(count_of(*server_, within_days_q(t, n)), model_.within(t, newest - n + 1, newest).size())
          << within_days_q(t, n);
    }
  }
  // The newest day of the whole index, not of the tag: a tag whose last
  // event is older.
  ASSERT_EQ(server_
                ->post("/v1/assign", R"({"add": [{"id": 1, "events": [{"tag": "old:tag", "day": ")" +
                                         day_text(newest - 10) + R"("}]}]})")
                .status,
            200);
  model_.event(1, "old:tag", newest - 10);
  EXPECT_EQ(count_of(*server_, "within(old:tag, 10d)"), 0u);
  EXPECT_EQ(count_of(*server_, "within(old:tag, 11d)"), 1u);
  // A newer event anywhere moves the window for every tag.
  const int64_t later = newest + 5;
  ASSERT_EQ(server_
                ->post("/v1/assign",
                       R"({"add": [{"id": 2, "events": [{"tag": "new:tag", "day": ")" + day_text(later) + R"("}]}]})")
                .status,
            200);
  model_.event(2, "new:tag", later);
  for (const auto& t : kEventTags) {
    EXPECT_EQ(count_of(*server_, within_days_q(t, 7)), model_.within(t, later - 6, later).size()) << t;
  }
  EXPECT_EQ(count_of(*server_, "within(old:tag, 15d)"), 0u);
  EXPECT_EQ(count_of(*server_, "within(old:tag, 16d)"), 1u);
  EXPECT_EQ(count_of(*server_, "within(new:tag, 1d)"), 1u);
  // And over a prefix: the union of its tags' windows.
  std::set<uint64_t> cats;
  for (const auto& t : kEventTags) {
    if (t.starts_with("cat:")) cats.merge(model_.within(t, later - 29, later));
  }
  EXPECT_EQ(count_of(*server_, "within(cat:*, 30d)"), cats.size());
}

TEST_F(DatedTagsTest, WithinErrors) {
  // Unknown tag: unknown_tag with its position, even if it has a day-like name.
  auto r = count_request(*server_, "vip OR within(nope:tag, 2017-11-25, 2017-12-01)");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(error_code(r), "unknown_tag");
  EXPECT_TRUE(body_json(r)["error"].contains("position"));
  r = count_request(*server_, "within(nope:tag, 30d)");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "unknown_tag");
  // Lenient: the empty set.
  EXPECT_EQ(count_of(*server_, "within(nope:tag, 30d) OR vip", true), model_.holders("vip"));
  // A known tag without events in range is empty, not unknown.
  EXPECT_EQ(count_of(*server_, "within(gender:female, 30d)"), 0u);

  // Syntax: 0 days, negative days, bad dates, missing arguments.
  for (const std::string q :
       {"within(cat:1:buy, 0d)", "within(cat:1:buy, -3d)", "within(cat:1:buy, 2017-02-30, 2017-03-01)",
        "within(cat:1:buy, 2017-11-25)", "within(cat:1:buy, 2017-11-25, 20171201)", "within(cat:1:buy, 30)",
        "within(cat:1:buy, 2017-11-25, 2017-12-01", "within(cat:1:buy)", "within(, 30d)",
        "within(cat:1:buy, 2017-1-25, 2017-12-01)", "within(cat:1:buy, 30d, 2017-12-01)"}) {
    r = count_request(*server_, q);
    EXPECT_EQ(r.status, 400) << q << ": " << r.body;
    EXPECT_EQ(error_code(r), "parse_error") << q << ": " << r.body;
  }
  // `lenient` makes unknown tags empty; it does not excuse a malformed query.
  r = count_request(*server_, "within(cat:1:buy, 0d)", true);
  EXPECT_EQ(error_code(r), "parse_error") << r.body;
}

// CONTRACT §2: "a syntax error is reported first; otherwise the leftmost
// unknown tag". within(tag, 0d) is a parse_error, so it must win over an
// unknown tag to its left, and over `lenient`.
TEST_F(DatedTagsTest, ZeroDaysIsAParseErrorBeforeAnyUnknownTag) {
  auto r = count_request(*server_, "nope:tag OR within(cat:1:buy, 0d)");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(error_code(r), "parse_error") << r.body;
  r = count_request(*server_, "within(nope:tag, 0d)", true);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(error_code(r), "parse_error") << r.body;
}

TEST_F(DatedTagsTest, AssignEventsAndDeletion) {
  // Events through /v1/assign: new pairs counted, day bitmaps not.
  const int64_t d = kFirst + 33;
  json add = json::array();
  uint64_t fresh = 0;
  std::vector<uint64_t> ids;
  for (const auto& [id, u] : model_.users) ids.push_back(id);
  for (std::size_t i = 0; i < ids.size(); i += 7) {
    json e = entry(ids[i]);
    e["events"] = json::array({event("cat:1:buy", d), event("cat:1:buy", d + 1)});
    add.push_back(e);
    fresh += model_.event(ids[i], "cat:1:buy", d) ? 1 : 0;
    model_.event(ids[i], "cat:1:buy", d + 1);
  }
  json e = entry(777777);
  e["events"] = json::array({event("fresh:tag", d)});
  e["tags"] = json::array({"vip"});
  add.push_back(e);
  fresh += model_.event(777777, "fresh:tag", d) ? 1 : 0;
  fresh += model_.tag(777777, "vip") ? 1 : 0;
  auto r = server_->post("/v1/assign", json{{"add", add}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r)["added"], fresh);
  EXPECT_EQ(body_json(r)["removed"], 0);
  expect_model_holds("after assign");
  EXPECT_EQ(count_of(*server_, within_q("fresh:tag", d, d)), 1u);
  EXPECT_EQ(count_of(*server_, within_q("cat:1:buy", d, d + 1)), model_.within("cat:1:buy", d, d + 1).size());

  // Removing a plain tag via assign: "removed" counts it.
  uint64_t victim = 0;
  for (const auto& [id, u] : model_.users) {
    if (u.tags.contains("gender:female")) victim = id;
  }
  ASSERT_NE(victim, 0u);
  r = server_->post("/v1/assign",
                    R"({"remove": [{"id": )" + std::to_string(victim) + R"(, "tags": ["gender:female"]}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r)["removed"], 1);
  model_.users[victim].tags.erase("gender:female");
  EXPECT_EQ(count_of(*server_, "gender:female"), model_.holders("gender:female"));

  // Deleting a user takes it out of every day.
  std::vector<uint64_t> gone;
  for (const auto& [id, u] : model_.users) {
    if (model_.within(u, "城市:杭州", kFirst, kFirst + kSpan) && gone.size() < 5) gone.push_back(id);
  }
  ASSERT_EQ(gone.size(), 5u);
  for (const uint64_t id : gone) {
    ASSERT_EQ(server_->request("DELETE", "/v1/users/" + std::to_string(id)).status, 200);
    model_.erase(id);
  }
  expect_model_holds("after delete");
  // Back with a plain tag only: no days come back with it.
  r = server_->post("/v1/assign", R"({"add": [{"id": )" + std::to_string(gone[0]) + R"(, "tags": ["城市:杭州"]}]})");
  ASSERT_EQ(r.status, 200);
  model_.tag(gone[0], "城市:杭州");
  expect_model_holds("after return");
}

TEST_F(DatedTagsTest, BadEventsRejectTheWholeBatch) {
  const std::string good = R"({"id": 5, "events": [{"tag": "cat:9:buy", "day": "2017-11-25"}]})";
  struct Case {
    std::string line;
    std::string mentions;  // part of the message
  };
  const std::vector<Case> cases = {
      {R"({"id": 6, "events": [{"tag": "cat:9:buy", "day": "2017-13-01"}]})", "events[0]"},
      {R"({"id": 6, "events": [{"tag": "cat:9:buy", "day": "2017-11-25"}, {"tag": "cat:9:buy", "day": "2017-02-29"}]})",
       "events[1]"},
      {R"({"id": 6, "events": [{"tag": "cat:9:buy", "day": "2017-2-01"}]})", "events[0]"},
      {R"({"id": 6, "events": [{"tag": "cat:9:buy", "day": "20171125"}]})", "events[0]"},
      {R"({"id": 6, "events": [{"tag": "cat:9:buy", "day": 20171125}]})", "events[0]"},
      {R"({"id": 6, "events": [{"tag": "cat:9:buy"}]})", "events[0]"},
      {R"({"id": 6, "events": [{"day": "2017-11-25"}]})", "events[0]"},
      {R"({"id": 6, "events": [{"tag": 7, "day": "2017-11-25"}]})", "events[0]"},
      {R"({"id": 6, "events": [{"tag": "", "day": "2017-11-25"}]})", "events[0]"},
      {R"({"id": 6, "events": [{"tag": "cat:9:buy", "day": "2017-11-25", "x": 1}]})", "events[0]"},
      {R"({"id": 6, "events": ["cat:9:buy"]})", "events[0]"},
      {R"({"id": 6, "events": {"tag": "cat:9:buy", "day": "2017-11-25"}})", "events"},
  };
  const uint64_t universe = universe_of(*server_);
  for (const auto& c : cases) {
    // The bad line is the third: the two good ones before it are not applied.
    const std::string body = good + "\n" + R"({"id": 8, "tags": ["cat:9:buy"]})" + "\n" + c.line + "\n";
    auto r = server_->post("/v1/ingest", body, "application/x-ndjson");
    EXPECT_EQ(r.status, 400) << c.line << ": " << r.body;
    EXPECT_EQ(error_code(r), "bad_line") << c.line;
    EXPECT_EQ(body_json(r)["error"]["line"], 3) << c.line << ": " << r.body;
    EXPECT_NE(error_message(r).find(c.mentions), std::string::npos) << c.line << ": " << r.body;

    // The same through /v1/assign: bad_request naming the entry.
    const std::string assign = R"({"add": [)" + good + ", " + c.line + "]}";
    r = server_->post("/v1/assign", assign);
    EXPECT_EQ(r.status, 400) << c.line << ": " << r.body;
    EXPECT_EQ(error_code(r), "bad_request") << c.line;
    EXPECT_NE(error_message(r).find("add[1]"), std::string::npos) << r.body;
    EXPECT_NE(error_message(r).find(c.mentions), std::string::npos) << r.body;
  }
  // Events cannot be removed (a day is history).
  auto r = server_->post("/v1/assign",
                         R"({"remove": [{"id": 100, "events": [{"tag": "cat:1:buy", "day": "2017-11-25"}]}]})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(error_code(r), "bad_request");
  EXPECT_NE(error_message(r).find("remove[0]"), std::string::npos) << r.body;

  // Nothing changed: the tag is still unknown, the universe the same.
  EXPECT_EQ(error_code(count_request(*server_, "cat:9:buy")), "unknown_tag");
  EXPECT_EQ(universe_of(*server_), universe);
  expect_model_holds("after rejected batches");
}

// Today by the test's own clock (UTC days since 1970-01-01), the day the
// server's retention counts back from and its event limit counts on from.
int64_t today_utc() {
  return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()).time_since_epoch().count();
}

// --retention-days N: days older than today - N + 1 (wall clock, UTC) go at
// start and after each write; the plain tags stay; the same after a restart.
TEST(DatedRetentionTest, OldDaysAreDroppedPlainTagsStay) {
  const auto dir = temp_dir("crowd-e2e-retention");
  const int kKeep = 10;
  const int64_t today = today_utc();
  const int64_t first = today - kSpan + 1;
  DatedModel m;
  uint64_t pairs = 0;
  const std::string ndjson = random_events(m, 777, 400, first, kSpan, pairs);
  ASSERT_EQ(m.newest_day(), today);
  const DatedModel unpruned = m;
  m.forget_before(today - kKeep + 1);

  const auto check = [&](const ServerProcess& s, const std::string& context) {
    for (const auto& t : kEventTags) {
      const std::string quoted = t.find(' ') == std::string::npos ? t : "\"" + t + "\"";
      EXPECT_EQ(count_of(s, quoted), m.holders(t)) << context << " " << t;
      // Old days: empty, though they had users.
      EXPECT_EQ(count_of(s, within_q(t, first, today - kKeep)), 0u) << context << " " << t;
      // Kept days: as sent.
      EXPECT_EQ(csv_ids(s, within_q(t, today - kKeep + 1, today + 1)), m.within(t, today - kKeep + 1, today + 1))
          << context << " " << t;
    }
  };
  {
    ServerProcess s({"--data-dir", dir, "--retention-days", std::to_string(kKeep), "--threads", "2"});
    ASSERT_TRUE(s.ok()) << s.log();
    const auto r = s.post("/v1/ingest", ndjson, "application/x-ndjson");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(body_json(r)["assignments"], pairs);
    // The old days really had users (else the test proves nothing).
    ASSERT_GT(unpruned.within("cat:1:buy", first, today - kKeep).size(), 20u);
    check(s, "after ingest");

    // Tomorrow (inside --max-future-days 1) is taken and moves nothing: the
    // horizon is the wall clock's, not the newest event's.
    ASSERT_EQ(s.post("/v1/assign", R"({"add": [{"id": 3, "events": [{"tag": "cat:1:buy", "day": ")" +
                                       day_text(today + 1) + R"("}]}]})")
                  .status,
              200);
    m.event(3, "cat:1:buy", today + 1);
    check(s, "after an event dated tomorrow");
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  {
    // Through the write-ahead log.
    ServerProcess s({"--data-dir", dir, "--retention-days", std::to_string(kKeep), "--threads", "2"});
    ASSERT_TRUE(s.ok()) << s.log();
    check(s, "after restart (log)");
    ASSERT_EQ(s.post("/v1/admin/snapshot", "").status, 200);
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  ServerProcess s({"--data-dir", dir, "--retention-days", std::to_string(kKeep), "--threads", "2"});
  ASSERT_TRUE(s.ok()) << s.log();
  check(s, "after restart (snapshot)");
  EXPECT_EQ(s.stop(), 0) << s.log();
}

// A restart with a shorter retention applies it at start.
TEST(DatedRetentionTest, AShorterRetentionAppliesAtStart) {
  const auto dir = temp_dir("crowd-e2e-retention2");
  const int64_t today = today_utc();
  const int64_t first = today - kSpan + 1;
  DatedModel m;
  uint64_t pairs = 0;
  const std::string ndjson = random_events(m, 31337, 300, first, kSpan, pairs);
  {
    ServerProcess s({"--data-dir", dir, "--threads", "2"});  // keeps every day
    ASSERT_TRUE(s.ok()) << s.log();
    ASSERT_EQ(s.post("/v1/ingest", ndjson, "application/x-ndjson").status, 200);
    EXPECT_EQ(count_of(s, within_q("cat:2:buy", first, today)), m.within("cat:2:buy", first, today).size());
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  ServerProcess s({"--data-dir", dir, "--retention-days", "5", "--threads", "2"});
  ASSERT_TRUE(s.ok()) << s.log();
  m.forget_before(today - 4);
  for (const auto& t : kEventTags) {
    const std::string quoted = t.find(' ') == std::string::npos ? t : "\"" + t + "\"";
    EXPECT_EQ(count_of(s, quoted), m.holders(t)) << t;
    EXPECT_EQ(count_of(s, within_q(t, first, today)), m.within(t, first, today).size()) << t;
    EXPECT_EQ(count_of(s, within_q(t, first, today - 5)), 0u) << t;
  }
  EXPECT_EQ(s.stop(), 0) << s.log();
}

// An old event written later goes with the write that set it, though the
// day has not changed since the last full pass.
TEST(DatedRetentionTest, AnOldEventWrittenLaterIsDroppedToo) {
  ServerProcess s({"--retention-days", "7", "--threads", "2"});
  ASSERT_TRUE(s.ok()) << s.log();
  const int64_t today = today_utc();
  ASSERT_EQ(s.post("/v1/ingest",
                   R"({"id": 1, "events": [{"tag": "t", "day": ")" + day_text(today) +
                       R"("}]})"
                       "\n",
                   "application/x-ndjson")
                .status,
            200);
  // 30 days ago: outside the 7 kept.
  const auto r = s.post("/v1/ingest",
                        R"({"id": 2, "events": [{"tag": "t", "day": ")" + day_text(today - 30) +
                            R"("}]})"
                            "\n",
                        "application/x-ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(count_of(s, "t"), 2u);  // the plain tag stays
  EXPECT_EQ(count_of(s, within_q("t", today - 40, today - 20)), 0u)
      << "a day older than the retention horizon is still queryable after the write that set it";
  EXPECT_EQ(count_of(s, "within(t, 7d)"), 1u);
  EXPECT_EQ(s.stop(), 0) << s.log();
}

// Issue 14, item 4: one event dated 9999-12-31 used to move the horizon past
// every real day — history cleared at once, at every restart, and each new
// event cleared on arrival. Now the line is refused with its number, and
// nothing changes, also across a restart.
TEST(DatedRetentionTest, AFarFutureEventIsRefusedAndHistoryStays) {
  const auto dir = temp_dir("crowd-e2e-retention-future");
  const int kKeep = 30;
  const int64_t today = today_utc();
  const int64_t first = today - kKeep + 1;  // every day inside the retention
  DatedModel m;
  uint64_t pairs = 0;
  const std::string history = random_events(m, 4242, 300, first, kKeep, pairs);
  const auto check = [&](const ServerProcess& s, const std::string& context) {
    for (const auto& t : kEventTags) {
      EXPECT_EQ(csv_ids(s, within_q(t, first, today)), m.within(t, first, today)) << context << " " << t;
    }
  };
  const std::vector<std::string> args = {"--data-dir", dir, "--retention-days", std::to_string(kKeep), "--threads",
                                         "2"};
  {
    ServerProcess s(args);
    ASSERT_TRUE(s.ok()) << s.log();
    ASSERT_EQ(s.post("/v1/ingest", history, "application/x-ndjson").status, 200);
    ASSERT_GT(m.within("cat:1:buy", first, today).size(), 20u);
    check(s, "after the history");

    // Line 2 carries the far-future event: the whole batch is refused.
    const std::string bad = R"({"id": 9001, "events": [{"tag": "cat:1:buy", "day": ")" + day_text(today) +
                            "\"}]}\n" + R"({"id": 9002, "events": [{"tag": "cat:1:buy", "day": "9999-12-31"}]})" "\n";
    auto r = s.post("/v1/ingest", bad, "application/x-ndjson");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(error_code(r), "bad_line");
    EXPECT_EQ(body_json(r)["error"]["line"], 2) << r.body;
    EXPECT_NE(error_message(r).find("9999-12-31"), std::string::npos) << r.body;
    // Through /v1/assign too, and the day after tomorrow (past the default
    // skew of one day).
    r = s.post("/v1/assign", R"({"add": [{"id": 9003, "events": [{"tag": "cat:1:buy", "day": ")" +
                                 day_text(today + 2) + R"("}]}]})");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(error_code(r), "bad_request");
    EXPECT_NE(error_message(r).find("add[0].events[0]: day: "), std::string::npos) << r.body;
    EXPECT_EQ(count_of(s, "cat:1:buy"), m.holders("cat:1:buy")) << "a refused batch changed the index";
    check(s, "after the refused events");

    // A new event still arrives and stays.
    ASSERT_EQ(s.post("/v1/assign", R"({"add": [{"id": 9004, "events": [{"tag": "cat:1:buy", "day": ")" +
                                       day_text(today) + R"("}]}]})")
                  .status,
              200);
    m.event(9004, "cat:1:buy", today);
    check(s, "after a new event");
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  ServerProcess s(args);
  ASSERT_TRUE(s.ok()) << s.log();
  check(s, "after restart");
  EXPECT_EQ(s.stop(), 0) << s.log();
}

// A data directory that already holds a far-future day (written before the
// limit; here with the limit opened wide) keeps its history when it starts
// with --retention-days, and says so in its log.
TEST(DatedRetentionTest, AFarFutureDayAlreadyStoredWipesNothingAtStart) {
  const auto dir = temp_dir("crowd-e2e-retention-stored");
  const int64_t today = today_utc();
  DatedModel m;
  uint64_t pairs = 0;
  const std::string history = random_events(m, 99, 200, today - 9, 10, pairs);
  {
    ServerProcess s({"--data-dir", dir, "--max-future-days", "3000000", "--threads", "2"});
    ASSERT_TRUE(s.ok()) << s.log();
    ASSERT_EQ(s.post("/v1/ingest", history, "application/x-ndjson").status, 200);
    ASSERT_EQ(s.post("/v1/ingest", R"({"id": 1, "events": [{"tag": "cat:1:buy", "day": "9999-12-31"}]})" "\n",
                     "application/x-ndjson")
                  .status,
              200);
    m.event(1, "cat:1:buy", civil_day(9999, 12, 31));
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  for (int run = 0; run < 2; ++run) {
    ServerProcess s({"--data-dir", dir, "--retention-days", "30", "--threads", "2"});
    ASSERT_TRUE(s.ok()) << s.log();
    EXPECT_NE(s.log().find("1 day tags are dated after"), std::string::npos) << s.log();
    for (const auto& t : kEventTags) {
      EXPECT_EQ(csv_ids(s, within_q(t, today - 9, today)), m.within(t, today - 9, today)) << "run " << run << " " << t;
    }
    EXPECT_EQ(count_of(s, within_q("cat:1:buy", civil_day(9999, 12, 31), civil_day(9999, 12, 31))), 1u);
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
}

// The Taobao sample parsed independently: per tag, each user's UTC+8 days
// inside the collection window (2017-11-25 .. 2017-12-03 China time), and
// every user that has the tag at all (rows outside the window included).
struct TaobaoSample {
  std::string path = std::string(CROWD_SHARED_DATA) + "/taobao-userbehavior-sample.csv";
  std::map<std::string, std::map<uint64_t, std::set<int64_t>>> days;
  std::map<std::string, std::map<uint64_t, std::set<int64_t>>> utc_days;  // the same, wrongly in UTC
  std::map<std::string, std::set<uint64_t>> ever;
  std::map<std::string, uint64_t> buy_rows;  // "cat:X:buy" -> rows
  std::set<uint64_t> users;
  int64_t newest = INT64_MIN;

  bool read() {
    std::ifstream file(path);
    if (!file) return false;
    const int64_t window_first_day = civil_day(2017, 11, 25);
    const int64_t window_last_day = civil_day(2017, 12, 3);
    std::string line;
    while (std::getline(file, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      std::vector<std::string> f;
      std::stringstream ss(line);
      std::string field;
      while (std::getline(ss, field, ',')) f.push_back(field);
      if (f.size() != 5) return false;
      const uint64_t user = std::stoull(f[0]);
      const std::string tag = "cat:" + std::to_string(std::stoull(f[2])) + ":" + f[3];
      const int64_t ts = std::stoll(f[4]);
      const auto day_of = [](int64_t t) { return t >= 0 ? t / 86400 : -((-t + 86399) / 86400); };
      const int64_t day = day_of(ts + 8 * 3600);
      const int64_t utc = day_of(ts);
      if (utc >= window_first_day && utc <= window_last_day) utc_days[tag][user].insert(utc);
      users.insert(user);
      ever[tag].insert(user);
      if (f[3] == "buy") ++buy_rows[tag];
      if (day >= window_first_day && day <= window_last_day) {
        days[tag][user].insert(day);
        newest = std::max(newest, day);
      }
    }
    return true;
  }

  [[nodiscard]] uint64_t within(const std::string& tag, int64_t first, int64_t last, bool in_utc = false) const {
    const auto& by_tag = in_utc ? utc_days : days;
    const auto t = by_tag.find(tag);
    if (t == by_tag.end()) return 0;
    uint64_t n = 0;
    for (const auto& [user, ds] : t->second) {
      const auto it = ds.lower_bound(first);
      n += it != ds.end() && *it <= last ? 1 : 0;
    }
    return n;
  }

  // The buy tags with the most rows, a few with the fewest, the pv tags of
  // the top three, and a few tags whose per-day counts differ between UTC+8
  // and UTC days (so that a server counting UTC days fails).
  [[nodiscard]] std::vector<std::string> pick() const {
    std::vector<std::pair<uint64_t, std::string>> by_rows;
    for (const auto& [tag, n] : buy_rows) by_rows.emplace_back(n, tag);
    std::sort(by_rows.rbegin(), by_rows.rend());
    std::vector<std::string> picked;
    if (by_rows.size() < 8) return picked;
    for (std::size_t i = 0; i < 5; ++i) picked.push_back(by_rows[i].second);
    for (std::size_t i = by_rows.size() - 3; i < by_rows.size(); ++i) picked.push_back(by_rows[i].second);
    for (std::size_t i = 0; i < 3; ++i) {
      std::string pv = by_rows[i].second;
      pv.replace(pv.size() - 3, 3, "pv");
      if (ever.contains(pv)) picked.push_back(pv);
    }
    std::size_t zone_sensitive = 0;
    for (const auto& [tag, holders] : days) {
      if (zone_sensitive == 4) break;
      if (std::find(picked.begin(), picked.end(), tag) != picked.end()) continue;
      for (int64_t d = civil_day(2017, 11, 25); d <= civil_day(2017, 12, 3); ++d) {
        if (within(tag, d, d) != within(tag, d, d, true)) {
          picked.push_back(tag);
          ++zone_sensitive;
          break;
        }
      }
    }
    return picked;
  }
};

// --load-taobao: within() over the sample's UTC+8 days equals an independent
// parse of the CSV.
TEST(DatedTaobaoTest, WithinMatchesAnIndependentParseOfTheSample) {
  TaobaoSample sample;
  ASSERT_TRUE(sample.read()) << sample.path;
  const auto picked = sample.pick();
  ASSERT_GE(picked.size(), 12u);
  ASSERT_EQ(sample.newest, civil_day(2017, 12, 3));

  ServerProcess s({"--load-taobao", sample.path, "--threads", "2"});
  ASSERT_TRUE(s.ok()) << s.log();
  EXPECT_EQ(universe_of(s), sample.users.size());
  const int64_t first = civil_day(2017, 11, 25);
  const int64_t last = civil_day(2017, 12, 1);
  const int64_t newest = sample.newest;
  uint64_t nonzero = 0;
  for (const auto& tag : picked) {
    const uint64_t expected = sample.within(tag, first, last);
    nonzero += expected > 0 ? 1 : 0;
    EXPECT_EQ(count_of(s, "within(" + tag + ", 2017-11-25, 2017-12-01)"), expected) << tag;
    EXPECT_EQ(count_of(s, tag), sample.ever.at(tag).size()) << tag;
    EXPECT_EQ(count_of(s, "within(" + tag + ", 2017-12-02, 2017-12-03)"),
              sample.within(tag, civil_day(2017, 12, 2), civil_day(2017, 12, 3)))
        << tag;
    for (int64_t d = first; d <= newest; ++d) {
      EXPECT_EQ(count_of(s, within_q(tag, d, d)), sample.within(tag, d, d)) << tag << " on " << day_text(d);
    }
    // Nd counts back from the newest day in the whole sample.
    EXPECT_EQ(count_of(s, within_days_q(tag, 1)), sample.within(tag, newest, newest)) << tag;
    EXPECT_EQ(count_of(s, within_days_q(tag, 3)), sample.within(tag, newest - 2, newest)) << tag;
    EXPECT_EQ(count_of(s, within_days_q(tag, 30)), sample.within(tag, newest - 29, newest)) << tag;
    // Outside the window: nothing (out-of-window rows have no day).
    EXPECT_EQ(count_of(s, within_q(tag, civil_day(1970, 1, 1), civil_day(2017, 11, 24))), 0u) << tag;
  }
  EXPECT_GE(nonzero, 5u) << "the picked categories should mostly have buyers in the range";
  EXPECT_EQ(s.stop(), 0) << s.log();
}

// --retention-days with --load-taobao: retention counts back from the wall
// clock, so the 2017 sample's days are all past it and go at start; the
// plain tags stay (data loaded in arrears runs without --retention-days).
TEST(DatedTaobaoTest, RetentionCountsFromTheWallClock) {
  TaobaoSample sample;
  ASSERT_TRUE(sample.read()) << sample.path;
  const auto picked = sample.pick();
  ASSERT_GE(picked.size(), 8u);
  ServerProcess s({"--load-taobao", sample.path, "--retention-days", "3", "--threads", "2"});
  ASSERT_TRUE(s.ok()) << s.log();
  uint64_t dropped = 0;
  for (const auto& tag : picked) {
    dropped += sample.within(tag, civil_day(2017, 11, 25), civil_day(2017, 12, 3));
    EXPECT_EQ(count_of(s, "within(" + tag + ", 2017-11-25, 2017-12-03)"), 0u) << tag;
    EXPECT_EQ(count_of(s, tag), sample.ever.at(tag).size()) << tag;
  }
  EXPECT_GT(dropped, 0u) << "the old days should have had users";
  EXPECT_EQ(s.stop(), 0) << s.log();
}

}  // namespace
}  // namespace crowd::test
