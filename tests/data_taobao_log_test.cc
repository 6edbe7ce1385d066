// The Taobao UserBehavior loader: the real sample against an independent
// parse, day arithmetic in UTC+8, dirty timestamps kept, and every kind of
// malformed line refused with its line number.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "data/taobao_log.h"
#include "index/bulk_loader.h"
#include "index/index.h"
#include "index/system_view.h"

namespace crowd {
namespace {

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out(1);
  for (const char c : line) {
    if (c == sep) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

// Unix seconds of a UTC+8 wall-clock time, from the standard calendar.
int64_t china_time(int y, unsigned m, unsigned d, int hours = 0) {
  using namespace std::chrono;
  const sys_seconds utc_midnight = sys_days(year{y} / month{m} / day{d});
  return utc_midnight.time_since_epoch().count() + (hours - 8) * 3600;
}
int32_t days_since_epoch(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return static_cast<int32_t>(sys_days(year{y} / month{m} / day{d}).time_since_epoch().count());
}

struct Loaded {
  Index index;
  TaobaoStats stats;
  std::string error;
  bool ok = false;
};

std::unique_ptr<Loaded> load(const std::string& text) {
  auto l = std::make_unique<Loaded>();
  std::istringstream in(text);
  BulkLoader loader(l->index);
  l->ok = load_taobao(in, loader, l->stats, l->error);
  if (l->ok) loader.finish();
  return l;
}

uint64_t cardinality(const Index& index, const std::string& tag) {
  const auto view = index.view();
  const auto id = view->dictionary().find(tag);
  return id ? view->tag(*id).cardinality : 0;
}

TEST(TaobaoLog, WindowIsTheDataSetsUtcPlus8Days) {
  EXPECT_EQ(kTaobaoWindowFirst, china_time(2017, 11, 25));
  EXPECT_EQ(kTaobaoWindowLast, china_time(2017, 12, 4) - 1);
  EXPECT_EQ(taobao_day(kTaobaoWindowFirst), days_since_epoch(2017, 11, 25));
  EXPECT_EQ(taobao_day(kTaobaoWindowLast), days_since_epoch(2017, 12, 3));
  EXPECT_EQ(taobao_day(kTaobaoWindowFirst - 1), std::nullopt);
  EXPECT_EQ(taobao_day(kTaobaoWindowLast + 1), std::nullopt);
  // 2017-11-26 00:30 in China is still the 25th in UTC: the day is China's.
  EXPECT_EQ(taobao_day(china_time(2017, 11, 26) + 1800), days_since_epoch(2017, 11, 26));
  EXPECT_EQ(taobao_day(china_time(2017, 11, 26) - 1), days_since_epoch(2017, 11, 25));
}

TEST(TaobaoLog, ParsesARow) {
  TaobaoRow row;
  std::string error;
  ASSERT_TRUE(parse_taobao_row("1,2268318,2520377,pv,1511544070", row, error)) << error;
  EXPECT_EQ(row.user, 1u);
  EXPECT_EQ(row.item, 2268318u);
  EXPECT_EQ(row.category, 2520377u);
  EXPECT_EQ(row.behavior, TaobaoBehavior::kPv);
  EXPECT_EQ(row.timestamp, 1511544070);
  EXPECT_EQ(row.day, days_since_epoch(2017, 11, 25));
  ASSERT_TRUE(parse_taobao_row("18446744073709551615,0,007,buy,-86400\r", row, error)) << error;
  EXPECT_EQ(row.user, 18446744073709551615u);
  EXPECT_EQ(row.category, 7u);
  EXPECT_EQ(row.behavior, TaobaoBehavior::kBuy);
  EXPECT_EQ(row.timestamp, -86400);
  EXPECT_EQ(row.day, std::nullopt);
  EXPECT_EQ(taobao_tag(row.category, row.behavior), "cat:7:buy");
}

TEST(TaobaoLog, LoadsTheRealSampleLikeAnIndependentParse) {
  std::ifstream file(CROWD_SHARED_DATA "/taobao-userbehavior-sample.csv");
  ASSERT_TRUE(file) << "sample missing";
  std::stringstream text;
  text << file.rdbuf();

  // The independent reading: getline, split, count.
  uint64_t rows = 0, out_of_window = 0;
  std::set<std::string> users;
  std::map<std::string, uint64_t> behaviours;
  std::map<std::string, std::set<std::string>> holders;    // tag -> users
  std::vector<std::pair<std::string, std::string>> dirty;  // (user, tag) of out-of-window rows
  std::map<std::pair<std::string, long long>, std::set<std::string>> day_holders;  // (tag, China day) -> users
  {
    std::istringstream in(text.str());
    std::string line;
    while (std::getline(in, line)) {
      const auto f = split(line, ',');
      ASSERT_EQ(f.size(), 5u) << line;
      ++rows;
      users.insert(f[0]);
      ++behaviours[f[3]];
      const std::string tag = "cat:" + f[2] + ":" + f[3];
      holders[tag].insert(f[0]);
      const long long ts = std::stoll(f[4]);
      if (ts < china_time(2017, 11, 25) || ts >= china_time(2017, 12, 4)) {
        ++out_of_window;
        dirty.emplace_back(f[0], tag);
      } else {
        day_holders[{tag, (ts + 8 * 3600) / 86400}].insert(f[0]);
      }
    }
  }
  ASSERT_GT(rows, 4000u);
  ASSERT_GT(out_of_window, 0u) << "the sample is documented to hold rows outside the window";

  const auto l = load(text.str());
  ASSERT_TRUE(l->ok) << l->error;
  EXPECT_EQ(l->stats.rows, rows);
  EXPECT_EQ(l->stats.users, users.size());
  EXPECT_EQ(l->stats.out_of_window, out_of_window);
  EXPECT_EQ(l->stats.behaviors[static_cast<int>(TaobaoBehavior::kPv)], behaviours["pv"]);
  EXPECT_EQ(l->stats.behaviors[static_cast<int>(TaobaoBehavior::kBuy)], behaviours["buy"]);
  EXPECT_EQ(l->stats.behaviors[static_cast<int>(TaobaoBehavior::kCart)], behaviours["cart"]);
  EXPECT_EQ(l->stats.behaviors[static_cast<int>(TaobaoBehavior::kFav)], behaviours["fav"]);
  uint64_t pairs = 0;
  for (const auto& [tag, who] : holders) pairs += who.size();
  EXPECT_EQ(l->stats.assignments, pairs) << "the sample is grouped by user";

  const auto view = l->index.view();
  EXPECT_EQ(view->universe().cardinality, users.size());
  EXPECT_EQ(view->dictionary().user_tag_count(), holders.size());
  for (const auto& [tag, who] : holders) EXPECT_EQ(cardinality(l->index, tag), who.size()) << tag;
  // Each in-window row's day is kept as its tag's day tag (China days).
  uint64_t dated = 0;
  for (const auto& [tag_day, who] : day_holders) {
    dated += who.size();
    const auto day = view->system().day(tag_day.first, tag_day.second);
    EXPECT_EQ(day ? view->tag(*day).cardinality : 0, who.size()) << tag_day.first;
  }
  EXPECT_EQ(l->stats.dated_assignments, dated);
  EXPECT_EQ(view->tag_count(), holders.size() + day_holders.size());
  // Out-of-window rows keep their tags.
  for (const auto& [user, tag] : dirty) {
    const auto ordinal = l->index.users().find(std::stoull(user));
    ASSERT_TRUE(ordinal.has_value());
    EXPECT_TRUE(view->tag(*view->dictionary().find(tag)).bits.contains(*ordinal)) << user << " " << tag;
  }
}

TEST(TaobaoLog, KeepsDirtyTimestampsAndUngroupedUsers) {
  const auto l = load(
      "5,1,100,pv,1511544070\n"
      "6,1,100,pv,0\n"           // 1970: out of window, tag kept
      "5,2,100,buy,-1\n"         // negative clock: out of window, tag kept
      "5,3,100,pv,1600000000\n"  // 2020
      "6,1,200,fav,1512316799\n");
  ASSERT_TRUE(l->ok) << l->error;
  EXPECT_EQ(l->stats.rows, 5u);
  EXPECT_EQ(l->stats.users, 2u);
  EXPECT_EQ(l->stats.out_of_window, 3u);
  EXPECT_EQ(cardinality(l->index, "cat:100:pv"), 2u);
  EXPECT_EQ(cardinality(l->index, "cat:100:buy"), 1u);
  EXPECT_EQ(cardinality(l->index, "cat:200:fav"), 1u);
  EXPECT_EQ(l->index.view()->universe().cardinality, 2u);
}

TEST(TaobaoLog, EmptyInputLoadsNothing) {
  const auto l = load("");
  ASSERT_TRUE(l->ok) << l->error;
  EXPECT_EQ(l->stats.rows, 0u);
  EXPECT_EQ(l->stats.users, 0u);
}

TEST(TaobaoLog, AcceptsCrlfLineEndings) {
  const auto l = load("1,2,3,pv,1511544070\r\n1,2,3,cart,1511544071\r\n");
  ASSERT_TRUE(l->ok) << l->error;
  EXPECT_EQ(cardinality(l->index, "cat:3:cart"), 1u);
}

TEST(TaobaoLog, RefusesMalformedLinesWithTheirLineNumber) {
  const std::string good = "1,2268318,2520377,pv,1511544070\n";
  // (bad line, what the message must mention)
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty line"},
      {"1,2,3,pv", "found 4"},
      {"1,2,3,pv,1511544070,9", "found 6"},
      {"1;2;3;pv;1511544070", "found 1"},
      {"abc,2,3,pv,1511544070", "user_id 'abc'"},
      {"-1,2,3,pv,1511544070", "user_id '-1'"},
      {"+1,2,3,pv,1511544070", "user_id '+1'"},
      {" 1,2,3,pv,1511544070", "user_id ' 1'"},
      {"18446744073709551616,2,3,pv,1511544070", "user_id '18446744073709551616'"},
      {"1,2x,3,pv,1511544070", "item_id '2x'"},
      {"1,2,,pv,1511544070", "category_id ''"},
      {"1,2,3,click,1511544070", "behavior_type 'click'"},
      {"1,2,3,PV,1511544070", "behavior_type 'PV'"},
      {"1,2,3,pv,1.5e9", "timestamp '1.5e9'"},
      {"1,2,3,pv,", "timestamp ''"},
      {"1,2,3,pv,-", "timestamp '-'"},
  };
  for (const auto& [bad, mention] : cases) {
    const auto l = load(good + good + bad + "\n" + good);
    EXPECT_FALSE(l->ok) << bad;
    EXPECT_EQ(l->error.rfind("line 3: ", 0), 0u) << bad << " -> " << l->error;
    EXPECT_NE(l->error.find(mention), std::string::npos) << bad << " -> " << l->error;
  }
  // A blank line at the very end is a line too.
  const auto trailing = load(good + "\n");
  EXPECT_FALSE(trailing->ok);
  EXPECT_EQ(trailing->error, "line 2: empty line");
}

}  // namespace
}  // namespace crowd
