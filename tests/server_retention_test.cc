// Retention and the day clock against an independent model (issue 17): over
// random days of writes -- events of any date, including far-future and
// long-past ones, the clock stepping a day or two and sometimes jumping a
// hundred -- the index holds exactly the model's days: every event the door
// accepted, minus the days a run was allowed to drop. A day is never lost
// because of an event's date.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "index/store.h"
#include "index/system_tags.h"
#include "index/system_view.h"
#include "server/event_days.h"
#include "server/retention.h"
#include "tests/support/index_test_util.h"

namespace crowd::server {
namespace {

constexpr uint32_t kKeep = 30;
const std::vector<std::string> kTags = {"cat:1:buy", "cat:2:pv", "click:c1"};

// The model: which users hold each (tag, day), and the rules written out
// again from docs/operations.md rather than taken from the code under test.
struct Model {
  std::map<std::pair<std::string, int64_t>, std::set<UserId>> days;

  // Events later than today + 1 or before max(2000-01-01, today - 29) are
  // refused.
  static bool accepted(int64_t day, int64_t today) {
    const int64_t floor = std::max<int64_t>(kDefaultEarliestEventDay, today - kKeep + 1);
    return day >= floor && day <= today + 1;
  }

  // A run drops the days before the horizon when that is one date or at
  // most a quarter of the dates held; else nothing. Returns whether it ran.
  bool run(int64_t today, bool force) {
    std::set<int64_t> held, old;
    for (const auto& [key, users] : days) {
      if (users.empty()) continue;
      held.insert(key.second);
      if (key.second < today - static_cast<int64_t>(kKeep) + 1) old.insert(key.second);
    }
    if (!force && old.size() > 1 && 4 * old.size() > held.size()) return false;
    std::erase_if(days, [&](const auto& kv) { return old.contains(kv.first.second); });
    return true;
  }
};

TEST(RetentionModel, NeverDropsADayItShouldKeep) {
  test::TempDir dir;
  std::string error;
  auto store = Store::open(StoreOptions{dir.path(), FsyncPolicy::kOff}, error);
  ASSERT_TRUE(store) << error;
  int64_t today = 20'000;  // 2024-10-04
  Retention retention(*store, kKeep, [&] { return today; });
  Model model;
  std::mt19937_64 rng(17);
  uint64_t refusals = 0, forced = 0, written = 0, refused_events = 0;

  const auto check = [&](const std::string& context) {
    const auto view = store->view();
    const SystemView system = view->system();
    uint64_t held = 0;
    for (const DayTag& d : system.all_days()) {
      if (view->tag(d.id).cardinality == 0) continue;
      ++held;
      const auto it = model.days.find({std::string(d.tag), d.day});
      ASSERT_NE(it, model.days.end()) << context << ": the index holds a day the model dropped";
      std::set<UserId> users;
      std::vector<uint32_t> ordinals(view->tag(d.id).cardinality);
      roaring_bitmap_to_uint32_array(view->tag(d.id).bits.get(), ordinals.data());
      for (const Ordinal o : ordinals) users.insert(view->external(o));
      ASSERT_EQ(users, it->second) << context << " " << d.tag << " day " << d.day;
    }
    uint64_t expected = 0;
    for (const auto& [key, users] : model.days) expected += users.empty() ? 0 : 1;
    ASSERT_EQ(held, expected) << context << ": a day the model keeps is gone";
  };

  for (int step = 0; step < 400; ++step) {
    // The clock: mostly the same day or the next, now and then a jump.
    const uint64_t r = rng() % 100;
    if (r < 2) {
      today += 100;
    } else if (r < 40) {
      today += 1 + static_cast<int64_t>(rng() % 2);
    }
    // A batch of events, of any date: recent, tomorrow, far future, old.
    const EventDayLimit limit = DayClock({today, 1, kDefaultEarliestEventDay, kKeep}).event_limit();
    WriteBatch batch;
    std::vector<std::tuple<std::string, int64_t, UserId>> events;
    bool refused = false;
    for (int e = 0; e < 4; ++e) {
      const std::string& tag = kTags[rng() % kTags.size()];
      int64_t day = today - static_cast<int64_t>(rng() % 33);                    // a few past the horizon
      if (rng() % 25 == 0) day = today + 1 + static_cast<int64_t>(rng() % 400);  // future
      if (rng() % 50 == 0) day = 9'000 + static_cast<int64_t>(rng() % 3'000);    // the 1990s
      const UserId user = 1 + rng() % 50;
      ASSERT_EQ(limit.problem(day).has_value(), !Model::accepted(day, today)) << "day " << day << " today " << today;
      if (limit.problem(day)) refused = true;  // the door refuses the whole batch
      const uint32_t names[] = {batch.intern(tag), batch.intern(system_tags::day(tag, day))};
      batch.add(user, std::span<const uint32_t>(names));
      events.emplace_back(tag, day, user);
    }
    if (refused) {
      ++refused_events;
    } else {
      WriteResult result;
      ASSERT_EQ(store->write(batch, result), WriteStatus::kOk);
      for (const auto& [tag, day, user] : events) model.days[{tag, day}].insert(user);
      ++written;
    }
    // The run after a write, as the server makes it.
    const bool force = rng() % 50 == 0;
    const bool ran = model.run(today, force);
    const auto cleared = retention.enforce(refused ? nullptr : &batch, error, force);
    if (!ran) {
      ASSERT_FALSE(cleared.has_value()) << "step " << step << ": a run over the share was not refused";
      ++refusals;
    } else {
      ASSERT_TRUE(cleared.has_value()) << "step " << step << ": " << error;
      forced += force ? 1 : 0;
    }
    check("step " + std::to_string(step));
    if (!ran) {
      // The operator forces it; nothing else changes the model.
      ASSERT_TRUE(model.run(today, true));
      ASSERT_TRUE(retention.enforce(nullptr, error, true).has_value()) << error;
      check("forced after step " + std::to_string(step));
    }
  }
  // The walk met every case it is about.
  EXPECT_GT(written, 100u);
  EXPECT_GT(refused_events, 20u);
  EXPECT_GT(refusals, 0u);
  EXPECT_EQ(retention.refused(), refusals);
}

// The dry run says what a run would drop, and changes nothing.
TEST(RetentionModel, ThePlanDropsNothing) {
  test::TempDir dir;
  std::string error;
  auto store = Store::open(StoreOptions{dir.path(), FsyncPolicy::kOff}, error);
  ASSERT_TRUE(store) << error;
  const int64_t today = 20'000;
  for (int64_t d = today - 59; d <= today; ++d) {
    WriteResult result;
    ASSERT_EQ(store->write(test::add_batch(static_cast<UserId>(d), {"t", system_tags::day("t", d)}), result),
              WriteStatus::kOk);
  }
  Retention retention(*store, 10, [&] { return today; });
  const RetentionPlan plan = retention.plan();
  EXPECT_EQ(plan.dates_held, 60u);
  EXPECT_EQ(plan.dates_dropped, 50u);
  EXPECT_EQ(plan.tags_dropped, 50u);
  EXPECT_EQ(plan.users_dropped, 50u);
  EXPECT_EQ(plan.first_dropped, today - 59);
  EXPECT_EQ(plan.last_dropped, today - 10);
  EXPECT_FALSE(plan.within_share());
  EXPECT_EQ(store->view()->system().days("t").size(), 60u);
  EXPECT_FALSE(retention.enforce(nullptr, error).has_value());
  EXPECT_NE(error.find("would drop 50 of 60 dated days"), std::string::npos) << error;
  EXPECT_EQ(store->view()->system().days("t").size(), 60u);
}

}  // namespace
}  // namespace crowd::server
