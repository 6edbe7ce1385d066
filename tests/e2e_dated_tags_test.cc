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
#include <tuple>
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
  // The analytics routes say so too, naming the query.
  for (const auto& [route, body] : std::vector<std::pair<std::string, std::string>>{
           {"/v1/overlap", R"x({"crowds": {"a": "within(vip, 30d)", "b": "vip"}})x"},
           {"/v1/funnel", R"x({"steps": ["vip", "within(vip, 30d)"]})x"},
           {"/v1/insight", R"x({"q": "within(vip, 30d) OR cat:1:buy", "fields": ["cat"]})x"},
           {"/v1/flow", R"x({"from": {"a": "within(vip, 30d)"}, "to": {"b": "vip"}})x"}}) {
    const auto r = server_->post(route, body);
    ASSERT_EQ(r.status, 200) << route << ": " << r.body;
    const auto answer = body_json(r);
    ASSERT_TRUE(answer.contains("warnings")) << route << ": " << r.body;
    EXPECT_NE(answer["warnings"][0].get<std::string>().find("'vip' has no dated events"), std::string::npos) << r.body;
  }
  EXPECT_FALSE(body_json(server_->post("/v1/overlap", R"({"crowds": {"a": "vip", "b": "cat:1:buy"}})")).contains("warnings"));
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

// Today by the test's own clock (UTC days since 1970-01-01), the day the
// server's windows, retention and event limits count from.
int64_t today_utc() {
  return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()).time_since_epoch().count();
}

// within(tag, Nd) is the N days ending on the as-of day: the request's
// "as_of", else the server's today -- never the newest day in the index
// (issue 17, item 1: one event dated today used to move every window).
TEST_F(DatedTagsTest, WithinLastDaysCountsBackFromTheAsOfDay) {
  const int64_t last = model_.newest_day();
  ASSERT_EQ(last, kFirst + kSpan - 1) << "the random data should reach the last day";
  const auto check_windows = [&](const std::string& context) {
    for (const int64_t as_of : {kFirst - 1, kFirst + 5, kFirst + 30, last, last + 4}) {
      for (const auto& t : kEventTags) {
        for (const int n : {1, 2, 7, 30, 59, 60, 1000}) {
          EXPECT_EQ(count_as_of(*server_, within_days_q(t, n), day_text(as_of)),
                    model_.within(t, as_of - n + 1, as_of).size())
              << context << ": " << within_days_q(t, n) << " as of " << day_text(as_of);
        }
      }
      // A prefix: the union of its tags' windows.
      std::set<uint64_t> cats;
      for (const auto& t : kEventTags) {
        if (t.starts_with("cat:")) cats.merge(model_.within(t, as_of - 29, as_of));
      }
      EXPECT_EQ(count_as_of(*server_, "within(cat:*, 30d)", day_text(as_of)), cats.size()) << context;
    }
  };
  check_windows("as loaded");
  // The answer names the day it counted back from, and GET takes it too.
  auto body = body_json(server_->post("/v1/count", R"x({"q": "within(cat:1:buy, 7d)", "as_of": ")x" +
                                                       day_text(kFirst + 30) + R"("})"));
  EXPECT_EQ(body["as_of"], day_text(kFirst + 30)) << body;
  EXPECT_EQ(body["count"], model_.within("cat:1:buy", kFirst + 24, kFirst + 30).size());
  body = body_json(server_->get("/v1/count?q=" + url_encode("within(cat:1:buy, 7d)") + "&as_of=" +
                                day_text(kFirst + 30)));
  EXPECT_EQ(body["count"], model_.within("cat:1:buy", kFirst + 24, kFirst + 30).size()) << body;
  // Without one: today by the server's clock. The data is years old, so a
  // week is empty and a window reaching back past kFirst holds everyone.
  const int64_t today = today_utc();
  body = body_json(count_request(*server_, "within(cat:1:buy, 7d)"));
  EXPECT_EQ(body["count"], 0) << body;
  EXPECT_EQ(body["as_of"], day_text(today)) << body;
  const int reach = static_cast<int>(today - kFirst + 1);
  EXPECT_EQ(count_of(*server_, within_days_q("cat:1:buy", reach)), model_.within("cat:1:buy", kFirst, last).size());
  // Fixed dates have no as-of day to report.
  EXPECT_FALSE(body_json(count_request(*server_, within_q("cat:1:buy", kFirst, last))).contains("as_of"));
  // A bad as_of is a 400 naming it.
  for (const std::string bad : {R"("2017-13-01")", R"("yesterday")", "20171125", "null"}) {
    const auto r = server_->post("/v1/count", R"x({"q": "within(cat:1:buy, 7d)", "as_of": )x" + bad + "}");
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_NE(error_message(r).find("as_of"), std::string::npos) << r.body;
  }
  EXPECT_EQ(server_->get("/v1/count?q=vip&as_of=2017-02-30").status, 400);

  // Events dated later than every window, and a new tag's, move nothing.
  for (const auto& [id, tag, day] : std::vector<std::tuple<uint64_t, std::string, int64_t>>{
           {1, "new:tag", last + 20}, {2, "cat:1:buy", last + 30}, {3, "old:tag", kFirst}}) {
    ASSERT_EQ(server_
                  ->post("/v1/assign", R"({"add": [{"id": )" + std::to_string(id) + R"(, "events": [{"tag": ")" + tag +
                                           R"(", "day": ")" + day_text(day) + R"("}]}]})")
                  .status,
              200);
    model_.event(id, tag, day);
  }
  check_windows("after later events");
  EXPECT_EQ(count_as_of(*server_, "within(new:tag, 1000d)", day_text(last)), 0u);
  EXPECT_EQ(count_as_of(*server_, "within(new:tag, 1d)", day_text(last + 20)), 1u);
  EXPECT_EQ(count_as_of(*server_, "within(old:tag, 1d)", day_text(kFirst)), 1u);
}

// Pages of a relative window are sealed to the day their first page counted
// back from: a walk keeps its as_of, and a cursor of one day is refused for
// another.
TEST_F(DatedTagsTest, PagesOfAWindowKeepTheirAsOfDay) {
  const int64_t as_of = kFirst + 40;
  const std::string q = "within(cat:*, 30d)";
  std::set<uint64_t> expected;
  for (const auto& t : kEventTags) {
    if (t.starts_with("cat:")) expected.merge(model_.within(t, as_of - 29, as_of));
  }
  ASSERT_GT(expected.size(), 20u);
  std::set<uint64_t> seen;
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    nlohmann::json req{{"q", q}, {"limit", 7}, {"as_of", day_text(as_of)}};
    if (!cursor.empty()) req["cursor"] = cursor;
    const auto r = server_->post("/v1/ids", req.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    const auto body = body_json(r);
    for (const auto& id : body["ids"]) seen.insert(json_user_id(id));
    if (body["cursor"].is_null()) break;
    cursor = body["cursor"].get<std::string>();
    if (page == 0) {
      nlohmann::json other{{"q", q}, {"limit", 7}, {"as_of", day_text(as_of + 1)}, {"cursor", cursor}};
      const auto refused = server_->post("/v1/ids", other.dump());
      EXPECT_EQ(refused.status, 400) << refused.body;
      EXPECT_EQ(error_code(refused), "bad_cursor");
    }
  }
  EXPECT_EQ(seen, expected);
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

// --retention-days N keeps today and the N-1 days before it (the server's
// clock, UTC); the plain tags stay; the same after restarts through the log
// and through a snapshot. The history is written without retention (events
// older than the horizon are refused at the door), then retention is turned
// on: dropping 50 of 60 days is more than a run may drop unasked, so it is
// forced.
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
  // The old days really had users (else the test proves nothing).
  ASSERT_GT(unpruned.within("cat:1:buy", first, today - kKeep).size(), 20u);
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
    ServerProcess s({"--data-dir", dir, "--threads", "2"});
    ASSERT_TRUE(s.ok()) << s.log();
    const auto r = s.post("/v1/ingest", ndjson, "application/x-ndjson");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(body_json(r)["assignments"], pairs);
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  const std::vector<std::string> args = {"--data-dir", dir, "--retention-days", std::to_string(kKeep), "--threads",
                                         "2"};
  {
    auto forced = args;
    forced.push_back("--retention-force");
    ServerProcess s(forced);
    ASSERT_TRUE(s.ok()) << s.log();
    check(s, "after the forced start");

    // Tomorrow (inside --max-future-days 1) is taken and moves nothing: the
    // horizon is the clock's, not the newest event's.
    ASSERT_EQ(s.post("/v1/assign", R"({"add": [{"id": 3, "events": [{"tag": "cat:1:buy", "day": ")" +
                                       day_text(today + 1) + R"("}]}]})")
                  .status,
              200);
    m.event(3, "cat:1:buy", today + 1);
    check(s, "after an event dated tomorrow");
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  {
    // Through the write-ahead log; nothing left to drop, so no force.
    ServerProcess s(args);
    ASSERT_TRUE(s.ok()) << s.log();
    check(s, "after restart (log)");
    ASSERT_EQ(s.post("/v1/admin/snapshot", "").status, 200);
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  ServerProcess s(args);
  ASSERT_TRUE(s.ok()) << s.log();
  check(s, "after restart (snapshot)");
  EXPECT_EQ(s.stop(), 0) << s.log();
}

// A change of --retention-days: --retention-dry-run says what it would drop
// and changes nothing; a run that would drop more than a quarter of the dated
// days refuses to start (nothing dropped) until forced; one within the share
// applies at start.
TEST(DatedRetentionTest, ARetentionChangeIsShownFirstAndNeedsForceBeyondAShare) {
  const auto dir = temp_dir("crowd-e2e-retention2");
  const int64_t today = today_utc();
  const int64_t first = today - kSpan + 1;
  DatedModel m;
  uint64_t pairs = 0;
  const std::string ndjson = random_events(m, 31337, 300, first, kSpan, pairs);
  ASSERT_EQ(m.newest_day(), today);
  std::set<int64_t> dated;
  for (const auto& [id, u] : m.users) {
    for (const auto& [t, days] : u.days) dated.insert(days.begin(), days.end());
  }
  ASSERT_EQ(dated.size(), static_cast<std::size_t>(kSpan)) << "every day should have an event";
  const auto check = [&](const ServerProcess& s, const DatedModel& expected, const std::string& context) {
    for (const auto& t : kEventTags) {
      const std::string quoted = t.find(' ') == std::string::npos ? t : "\"" + t + "\"";
      EXPECT_EQ(count_of(s, quoted), expected.holders(t)) << context << " " << t;
      EXPECT_EQ(csv_ids(s, within_q(t, first, today)), expected.within(t, first, today)) << context << " " << t;
    }
  };
  {
    ServerProcess s({"--data-dir", dir, "--threads", "2"});  // keeps every day
    ASSERT_TRUE(s.ok()) << s.log();
    ASSERT_EQ(s.post("/v1/ingest", ndjson, "application/x-ndjson").status, 200);
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  // 50 days: drops 10 of 60 (a sixth), within the share.
  {
    ServerProcess s({"--data-dir", dir, "--retention-days", "50", "--threads", "2"});
    ASSERT_TRUE(s.ok()) << s.log();
    m.forget_before(today - 49);
    check(s, m, "--retention-days 50");
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  // 5 days: 45 of the 50 left. The dry run says so and exits.
  {
    ServerProcess s({"--data-dir", dir, "--retention-days", "5", "--retention-dry-run", "--threads", "2"});
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.exit_status(), 0) << s.log();
    EXPECT_NE(s.log().find("would drop 45 of 50 dated days (" + day_text(today - 49) + " .. " + day_text(today - 5) +
                           ")"),
              std::string::npos)
        << s.log();
    EXPECT_NE(s.log().find("nothing was changed"), std::string::npos) << s.log();
  }
  {
    ServerProcess s({"--data-dir", dir, "--retention-days", "5", "--threads", "2"});
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.exit_status(), 0) << s.log();
    EXPECT_NE(s.log().find("retention refused: it would drop 45 of 50 dated days"), std::string::npos) << s.log();
    EXPECT_NE(s.log().find("nothing was dropped"), std::string::npos) << s.log();
  }
  {
    // Nothing was dropped by the dry run or the refusal.
    ServerProcess s({"--data-dir", dir, "--threads", "2"});
    ASSERT_TRUE(s.ok()) << s.log();
    check(s, m, "after the dry run and the refusal");
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  ServerProcess s({"--data-dir", dir, "--retention-days", "5", "--retention-force", "--threads", "2"});
  ASSERT_TRUE(s.ok()) << s.log();
  m.forget_before(today - 4);
  check(s, m, "--retention-days 5 forced");
  EXPECT_EQ(count_of(s, within_q("cat:1:buy", first, today - 5)), 0u);
  EXPECT_EQ(s.stop(), 0) << s.log();
}

// An event older than the retention keeps is refused with its line, as one
// before --min-event-date is: accepting it would drop it at once.
TEST(DatedRetentionTest, EventsBeforeTheFloorAreRefused) {
  ServerProcess s({"--retention-days", "7", "--threads", "2"});
  ASSERT_TRUE(s.ok()) << s.log();
  const int64_t today = today_utc();
  const auto ingest = [&](uint64_t id, int64_t day) {
    return s.post("/v1/ingest",
                  R"({"id": )" + std::to_string(id) + R"(, "events": [{"tag": "t", "day": ")" + day_text(day) +
                      "\"}]}\n",
                  "application/x-ndjson");
  };
  ASSERT_EQ(ingest(1, today).status, 200);
  ASSERT_EQ(ingest(2, today - 6).status, 200);  // the oldest day kept
  const auto r = ingest(3, today - 7);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(error_code(r), "bad_line");
  EXPECT_NE(error_message(r).find(day_text(today - 7) + " is before " + day_text(today - 6)), std::string::npos)
      << r.body;
  EXPECT_NE(error_message(r).find("--retention-days 7"), std::string::npos) << r.body;
  EXPECT_EQ(count_of(s, "t"), 2u);
  EXPECT_EQ(count_of(s, "within(t, 7d)"), 2u);
  EXPECT_EQ(s.stop(), 0) << s.log();

  // Without retention the floor is --min-event-date (2000-01-01 by default).
  ServerProcess plain({"--threads", "2"});
  ASSERT_TRUE(plain.ok()) << plain.log();
  auto old = plain.post("/v1/assign", R"({"add": [{"id": 1, "events": [{"tag": "t", "day": "1999-12-31"}]}]})");
  EXPECT_EQ(old.status, 400) << old.body;
  EXPECT_NE(error_message(old).find("1999-12-31 is before 2000-01-01"), std::string::npos) << old.body;
  EXPECT_NE(error_message(old).find("--min-event-date"), std::string::npos) << old.body;
  EXPECT_EQ(plain.post("/v1/assign", R"({"add": [{"id": 1, "events": [{"tag": "t", "day": "2000-01-01"}]}]})").status,
            200);
  EXPECT_EQ(plain.stop(), 0) << plain.log();
  ServerProcess older({"--min-event-date", "1990-01-01", "--threads", "2"});
  ASSERT_TRUE(older.ok()) << older.log();
  EXPECT_EQ(older.post("/v1/assign", R"({"add": [{"id": 1, "events": [{"tag": "t", "day": "1999-12-31"}]}]})").status,
            200);
  EXPECT_EQ(older.stop(), 0) << older.log();
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

// Issue 17's wipe, reproduced on the demo: with --retention-days 60, one
// event mistyped as 2027-11-11 used to wipe both AIPL snapshot days. The
// clock is fixed (--as-of 2026-12-01) so the snapshot days (2026-10-15 and
// 2026-11-15) are inside the 60 days whatever the calendar says. The event is
// refused; the snapshots, and every dated day, are all there, also after a
// restart.
TEST(DatedRetentionTest, OneMistypedEventWipesNothingOnTheDemo) {
  const auto dir = temp_dir("crowd-e2e-retention-wipe");
  const std::vector<std::string> args = {"--data-dir",     dir,  "--demo",          "20000", "--as-of",
                                         "2026-12-01",     "--retention-days", "60",    "--retention-force",
                                         "--threads",      "2"};
  const std::vector<std::string> queries = {"within(aipl_daily:*, 2026-10-15, 2026-10-15)",
                                            "within(aipl_daily:*, 2026-11-15, 2026-11-15)",
                                            "within(aipl_daily:brand_x:P, 60d)", "within(cat:*, 60d)"};
  std::vector<uint64_t> before;
  {
    ServerProcess s(args);
    ASSERT_TRUE(s.ok()) << s.log();
    for (const auto& q : queries) before.push_back(count_of(s, q));
    ASSERT_GT(before[0], 1000u);
    ASSERT_GT(before[1], 1000u);
    const auto r = s.post("/v1/ingest", R"({"id": 7, "events": [{"tag": "cat:2520377:buy", "day": "2027-11-11"}]})" "\n",
                          "application/x-ndjson");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(error_message(r).find("2027-11-11 is after 2026-12-02"), std::string::npos) << r.body;
    for (std::size_t k = 0; k < queries.size(); ++k) EXPECT_EQ(count_of(s, queries[k]), before[k]) << queries[k];
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  ServerProcess s(args);
  ASSERT_TRUE(s.ok()) << s.log();
  for (std::size_t k = 0; k < queries.size(); ++k) EXPECT_EQ(count_of(s, queries[k]), before[k]) << queries[k];
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
    // Nd counts back from the request's as_of: the sample's last day here.
    for (const int n : {1, 3, 30}) {
      EXPECT_EQ(count_as_of(s, within_days_q(tag, n), "2017-12-03"), sample.within(tag, newest - n + 1, newest))
          << tag << " " << n;
    }
    EXPECT_EQ(count_as_of(s, within_days_q(tag, 3), "2017-11-30"), sample.within(tag, newest - 5, newest - 3))
        << tag;
    // Outside the window: nothing (out-of-window rows have no day).
    EXPECT_EQ(count_of(s, within_q(tag, civil_day(1970, 1, 1), civil_day(2017, 11, 24))), 0u) << tag;
  }
  EXPECT_GE(nonzero, 5u) << "the picked categories should mostly have buyers in the range";
  EXPECT_EQ(s.stop(), 0) << s.log();
}

// Replaying the 2017 sample as of its last day: --as-of is today for
// windows and retention, so --retention-days 3 keeps 2017-12-01 .. 12-03 and
// drops the six days before (forced: two thirds of the dated days); the
// plain tags stay. Without --as-of the wall clock's retention would drop
// every day, and refuses to start.
TEST(DatedTaobaoTest, RetentionCountsFromTheAsOfDay) {
  TaobaoSample sample;
  ASSERT_TRUE(sample.read()) << sample.path;
  const auto picked = sample.pick();
  ASSERT_GE(picked.size(), 8u);
  {
    ServerProcess refused({"--load-taobao", sample.path, "--retention-days", "3", "--threads", "2"});
    EXPECT_FALSE(refused.ok());
    EXPECT_NE(refused.log().find("would drop 9 of 9 dated days"), std::string::npos) << refused.log();
  }
  ServerProcess s({"--load-taobao", sample.path, "--as-of", "2017-12-03", "--retention-days", "3",
                   "--retention-force", "--threads", "2"});
  ASSERT_TRUE(s.ok()) << s.log();
  uint64_t dropped = 0;
  uint64_t kept = 0;
  for (const auto& tag : picked) {
    dropped += sample.within(tag, civil_day(2017, 11, 25), civil_day(2017, 11, 30));
    kept += sample.within(tag, civil_day(2017, 12, 1), civil_day(2017, 12, 3));
    EXPECT_EQ(count_of(s, "within(" + tag + ", 2017-11-25, 2017-11-30)"), 0u) << tag;
    EXPECT_EQ(count_of(s, "within(" + tag + ", 2017-12-01, 2017-12-03)"),
              sample.within(tag, civil_day(2017, 12, 1), civil_day(2017, 12, 3)))
        << tag;
    // The server's today is 2017-12-03: 3d without an as_of is those days.
    EXPECT_EQ(count_of(s, within_days_q(tag, 3)), sample.within(tag, civil_day(2017, 12, 1), civil_day(2017, 12, 3)))
        << tag;
    EXPECT_EQ(count_of(s, tag), sample.ever.at(tag).size()) << tag;
  }
  EXPECT_GT(dropped, 0u) << "the old days should have had users";
  EXPECT_GT(kept, 0u) << "the kept days should have users";
  EXPECT_EQ(s.stop(), 0) << s.log();
}

}  // namespace
}  // namespace crowd::test
