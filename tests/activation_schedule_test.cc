// activation/schedule.h: every accepted and refused text form, canonical
// printing, when refreshes fall due (midnight, exactly on time, after an
// outage), and UTC times checked against libc's own calendar (timegm,
// gmtime_r, strftime) rather than against std::chrono, which the code uses.
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <string>
#include <string_view>
#include <variant>

#include "activation/schedule.h"

namespace crowd::activation {
namespace {

constexpr int64_t kMinute = 60;
constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;
constexpr int64_t kLastSecondOf9999 = 253402300799;  // 9999-12-31T23:59:59Z

Schedule every(int64_t seconds) { return Schedule{.kind = Schedule::Kind::kInterval, .interval_seconds = seconds}; }
Schedule daily_at(int hour, int minute) {
  return Schedule{.kind = Schedule::Kind::kDaily, .minute_of_day = hour * 60 + minute};
}

// libc's calendar, independent of the code under test.
std::string libc_format(int64_t t) {
  const time_t tt = static_cast<time_t>(t);
  struct tm parts {};
  gmtime_r(&tt, &parts);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return buf;
}

int64_t at(std::string_view text) {
  const auto t = parse_utc_time(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(0);
}

TEST(Schedule, IntervalsParseToSecondsAndPrintInTheLargestExactUnit) {
  const struct {
    std::string_view text;
    int64_t seconds;
    std::string_view canonical;
  } cases[] = {
      {"5m", 5 * kMinute, "5m"},       {"0005m", 5 * kMinute, "5m"}, {"30m", 30 * kMinute, "30m"},
      {"90m", 90 * kMinute, "90m"},    {"120m", 2 * kHour, "2h"},    {"1h", kHour, "1h"},
      {"36h", 36 * kHour, "36h"},      {"24h", kDay, "1d"},          {"1440m", kDay, "1d"},
      {"7d", 7 * kDay, "7d"},          {"366d", 366 * kDay, "366d"}, {"8784h", 366 * kDay, "366d"},
      {"527040m", 366 * kDay, "366d"},
  };
  for (const auto& c : cases) {
    const auto parsed = parse_schedule(c.text);
    ASSERT_TRUE(std::holds_alternative<Schedule>(parsed)) << c.text << ": " << std::get<std::string>(parsed);
    EXPECT_EQ(std::get<Schedule>(parsed), every(c.seconds)) << c.text;
    EXPECT_EQ(schedule_text(std::get<Schedule>(parsed)), c.canonical) << c.text;
    EXPECT_EQ(std::get<Schedule>(parse_schedule(c.canonical)), every(c.seconds)) << c.canonical;
  }
}

TEST(Schedule, DailyTimesParseAndPrintWithTheirTime) {
  const struct {
    std::string_view text;
    Schedule schedule;
    std::string_view canonical;
  } cases[] = {
      {"daily", daily_at(0, 0), "daily@00:00"},         {"daily@00:00", daily_at(0, 0), "daily@00:00"},
      {"daily@03:00", daily_at(3, 0), "daily@03:00"},   {"daily@12:07", daily_at(12, 7), "daily@12:07"},
      {"daily@23:59", daily_at(23, 59), "daily@23:59"},
  };
  for (const auto& c : cases) {
    const auto parsed = parse_schedule(c.text);
    ASSERT_TRUE(std::holds_alternative<Schedule>(parsed)) << c.text << ": " << std::get<std::string>(parsed);
    EXPECT_EQ(std::get<Schedule>(parsed), c.schedule) << c.text;
    EXPECT_EQ(schedule_text(c.schedule), c.canonical);
  }
}

TEST(Schedule, EverythingElseIsRefusedWithTheAcceptedForms) {
  for (const std::string_view text : {"",
                                      "0m",
                                      "4m",
                                      "299s",
                                      "300s",
                                      "1s",
                                      "367d",
                                      "366d1m",
                                      "527041m",
                                      "8785h",
                                      "9999999999d",
                                      "1.5h",
                                      "-1h",
                                      "+1h",
                                      "1H",
                                      "1D",
                                      "1w",
                                      "1",
                                      "m",
                                      "h",
                                      " 1h",
                                      "1h ",
                                      "1 h",
                                      "1e3m",
                                      "0x10m",
                                      "daily@24:00",
                                      "daily@3:00",
                                      "daily@03:0",
                                      "daily@03:60",
                                      "daily@03-00",
                                      "daily@",
                                      "daily@03:00Z",
                                      "daily@03:00:00",
                                      "daily@ 03:00",
                                      "Daily",
                                      "DAILY",
                                      "daily ",
                                      "dailyx",
                                      "weekly",
                                      "daily@-1:00"}) {
    const auto parsed = parse_schedule(text);
    ASSERT_TRUE(std::holds_alternative<std::string>(parsed)) << '"' << text << "\" was accepted";
    const auto& error = std::get<std::string>(parsed);
    EXPECT_NE(error.find("5m to 366d"), std::string::npos) << error;
    EXPECT_NE(error.find("daily@HH:MM"), std::string::npos) << error;
  }
}

TEST(Schedule, DurationsRunFromOneMinuteToTenYears) {
  const struct {
    std::string_view text;
    int64_t seconds;
  } accepted[] = {{"1m", kMinute},    {"30m", 30 * kMinute},  {"12h", 12 * kHour},
                  {"90d", 90 * kDay}, {"3650d", 3650 * kDay}, {"87600h", 3650 * kDay}};
  for (const auto& c : accepted) {
    const auto parsed = parse_duration_seconds(c.text);
    ASSERT_TRUE(std::holds_alternative<int64_t>(parsed)) << c.text << ": " << std::get<std::string>(parsed);
    EXPECT_EQ(std::get<int64_t>(parsed), c.seconds) << c.text;
  }
  for (const std::string_view text :
       {"", "0m", "45s", "60s", "3651d", "87601h", "1.5h", "-1m", "+1m", "1M", "12", "d", "1 d", "daily"}) {
    const auto parsed = parse_duration_seconds(text);
    ASSERT_TRUE(std::holds_alternative<std::string>(parsed)) << '"' << text << "\" was accepted";
    EXPECT_NE(std::get<std::string>(parsed).find("1m to 3650d"), std::string::npos) << std::get<std::string>(parsed);
  }
}

TEST(Schedule, AnIntervalIsDueThatLongAfterTheLastRefresh) {
  const int64_t last = at("2026-12-07T05:21:50Z");
  EXPECT_EQ(next_due(every(30 * kMinute), last), at("2026-12-07T05:51:50Z"));
  EXPECT_EQ(next_due(every(kDay), last), at("2026-12-08T05:21:50Z"));
  EXPECT_EQ(next_due(every(7 * kDay), at("2026-12-28T00:00:00Z")), at("2027-01-04T00:00:00Z"));
}

TEST(Schedule, ADailyRefreshIsDueAtTheNextTimeOfDayStrictlyAfter) {
  EXPECT_EQ(next_due(daily_at(0, 15), at("2026-12-07T23:30:00Z")), at("2026-12-08T00:15:00Z")) << "across midnight";
  EXPECT_EQ(next_due(daily_at(3, 0), at("2026-12-07T02:59:59Z")), at("2026-12-07T03:00:00Z"));
  EXPECT_EQ(next_due(daily_at(3, 0), at("2026-12-07T03:00:00Z")), at("2026-12-08T03:00:00Z")) << "strictly after";
  EXPECT_EQ(next_due(daily_at(3, 0), at("2026-12-07T03:00:01Z")), at("2026-12-08T03:00:00Z"));
  EXPECT_EQ(next_due(daily_at(0, 0), at("2026-12-31T23:59:59Z")), at("2027-01-01T00:00:00Z")) << "new year";
  EXPECT_EQ(next_due(daily_at(6, 0), at("2028-02-28T12:00:00Z")), at("2028-02-29T06:00:00Z")) << "leap day";
  EXPECT_EQ(next_due(daily_at(23, 59), at("2026-12-07")), at("2026-12-07T23:59:00Z"));
}

TEST(Schedule, ADailyRefreshMatchesANaiveSearchOverRandomTimes) {
  std::mt19937_64 rng(20261207);
  std::uniform_int_distribution<int64_t> time(0, kLastSecondOf9999 - 2 * kDay);
  std::uniform_int_distribution<int> minute(0, 24 * 60 - 1);
  for (int i = 0; i < 20000; ++i) {
    const int64_t last = i % 4 == 0 ? time(rng) / kMinute * kMinute : time(rng);  // often exactly on a minute
    const Schedule s = Schedule{.kind = Schedule::Kind::kDaily, .minute_of_day = minute(rng)};
    // The due time is the first second after `last` whose time of day is
    // the schedule's, so it lies in (last, last + 1 day].
    const int64_t due = next_due(s, last);
    ASSERT_GT(due, last);
    ASSERT_LE(due, last + kDay);
    ASSERT_EQ(due % kDay, s.minute_of_day * kMinute) << format_utc_time(last) << " " << schedule_text(s);
  }
}

TEST(Schedule, AfterALongOutageOneRefreshRunsAndTheNextIsInTheFuture) {
  // The server was down from 2020 to now: the due time computed from the
  // last refresh is long past, so the caller runs one refresh now and asks
  // again from now -- not once per missed day.
  const int64_t now = at("2026-12-07T05:21:50Z");
  const int64_t last = at("2020-01-01T03:00:00Z");
  for (const Schedule& s : {daily_at(3, 0), every(kHour), every(7 * kDay)}) {
    EXPECT_LT(next_due(s, last), now) << schedule_text(s);
    const int64_t next = next_due(s, now);
    EXPECT_GT(next, now) << schedule_text(s);
    EXPECT_LE(next, now + 7 * kDay) << schedule_text(s);
  }
  EXPECT_EQ(next_due(daily_at(3, 0), now), at("2026-12-08T03:00:00Z"));
}

TEST(UtcTime, ParsesBothFormsAtTheEdgesOfItsRange) {
  EXPECT_EQ(parse_utc_time("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_utc_time("1970-01-01"), 0);
  EXPECT_EQ(parse_utc_time("9999-12-31T23:59:59Z"), kLastSecondOf9999);
  EXPECT_EQ(parse_utc_time("2026-12-07T05:21:50Z"), 1796620910);
  EXPECT_EQ(parse_utc_time("2026-12-31"), parse_utc_time("2026-12-31T00:00:00Z"));
  EXPECT_EQ(format_utc_time(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_utc_time(kLastSecondOf9999), "9999-12-31T23:59:59Z");
  EXPECT_EQ(format_utc_time(1796620910), "2026-12-07T05:21:50Z");
}

TEST(UtcTime, LeapDaysExistOnlyInLeapYears) {
  for (const std::string_view leap :
       {"2024-02-29T12:34:56Z", "2000-02-29T00:00:00Z", "2400-02-29T23:59:59Z", "1972-02-29T01:02:03Z"}) {
    const auto t = parse_utc_time(leap);
    ASSERT_TRUE(t.has_value()) << leap;
    EXPECT_EQ(format_utc_time(*t), leap);
    EXPECT_EQ(libc_format(*t), leap);
    EXPECT_EQ(format_utc_time(*t + kDay).substr(0, 10), std::string(leap.substr(0, 4)) + "-03-01");
  }
  for (const std::string_view not_leap :
       {"2023-02-29", "2100-02-29", "1900-02-29", "2026-02-29T00:00:00Z", "2024-02-30"}) {
    EXPECT_EQ(parse_utc_time(not_leap), std::nullopt) << not_leap;
  }
}

TEST(UtcTime, MonthsHaveTheirOwnLastDay) {
  const int last_day[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (int month = 1; month <= 12; ++month) {
    char ok[32], past[32];
    std::snprintf(ok, sizeof ok, "2026-%02d-%02d", month, last_day[month - 1]);
    std::snprintf(past, sizeof past, "2026-%02d-%02d", month, last_day[month - 1] + 1);
    EXPECT_TRUE(parse_utc_time(ok).has_value()) << ok;
    EXPECT_EQ(parse_utc_time(past), std::nullopt) << past;
  }
}

TEST(UtcTime, AnythingButTheTwoFormsIsRefused) {
  for (const std::string_view text : {"",
                                      "2026-12-31T23:59:59",
                                      "2026-12-31T23:59:59+00:00",
                                      "2026-12-31T23:59:59+08:00",
                                      "2026-12-31t23:59:59Z",
                                      "2026-12-31T23:59:59z",
                                      "2026-12-31 23:59:59Z",
                                      "2026-12-31T23:59:59.5Z",
                                      "2026-12-31T24:00:00Z",
                                      "2026-12-31T23:60:00Z",
                                      "2026-12-31T23:59:60Z",
                                      "2026-12-31T",
                                      "2026-12-31Z",
                                      "1969-12-31",
                                      "1969-12-31T23:59:59Z",
                                      "10000-01-01",
                                      "0000-01-01",
                                      "2026-1-01",
                                      "2026-01-1",
                                      " 2026-12-31",
                                      "2026-12-31 ",
                                      "2026/12/31",
                                      "+026-12-31",
                                      "2026-00-10",
                                      "2026-13-01",
                                      "2026-01-00",
                                      "2026-01-32",
                                      "2026-12-3a",
                                      "20261231",
                                      "2026-12-31T23:59Z",
                                      "2026-12-31T-1:00:00Z"}) {
    EXPECT_EQ(parse_utc_time(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(UtcTime, FormatAndParseAgreeWithLibcOverRandomTimes) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> time(0, kLastSecondOf9999);
  for (int i = 0; i < 100000; ++i) {
    const int64_t t = time(rng);
    const std::string expected = libc_format(t);
    ASSERT_EQ(format_utc_time(t), expected) << t;
    ASSERT_EQ(parse_utc_time(expected), t) << expected;
    ASSERT_EQ(parse_utc_time(expected.substr(0, 10)), t - t % kDay) << expected;
  }
}

TEST(UtcTime, DateValidityAgreesWithLibcOverRandomDates) {
  // timegm normalises a day the month does not have into the next month, so
  // a date is real exactly when gmtime_r gives the same fields back.
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int> year(1970, 9999), month(0, 13), day(0, 32);
  int valid = 0;
  for (int i = 0; i < 50000; ++i) {
    struct tm parts {};
    parts.tm_year = year(rng) - 1900;
    parts.tm_mon = month(rng) - 1;
    parts.tm_mday = day(rng);
    char text[32];
    std::snprintf(text, sizeof text, "%04d-%02d-%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday);
    struct tm copy = parts;
    const time_t t = timegm(&copy);
    struct tm back {};
    gmtime_r(&t, &back);
    const bool real = back.tm_year == parts.tm_year && back.tm_mon == parts.tm_mon && back.tm_mday == parts.tm_mday;
    const auto parsed = parse_utc_time(text);
    ASSERT_EQ(parsed.has_value(), real) << text;
    if (real) {
      ASSERT_EQ(*parsed, static_cast<int64_t>(t)) << text;
      ++valid;
    }
  }
  EXPECT_GT(valid, 30000) << "the random dates should be mostly real";
}

}  // namespace
}  // namespace crowd::activation
