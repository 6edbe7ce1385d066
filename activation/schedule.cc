#include "activation/schedule.h"

#include <chrono>
#include <cstdio>

namespace crowd::activation {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

constexpr int64_t kMinute = 60;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

constexpr int64_t kShortestInterval = 5 * kMinute;
constexpr int64_t kLongestInterval = 366 * kDay;
constexpr int64_t kShortestDuration = kMinute;
constexpr int64_t kLongestDuration = 3650 * kDay;

constexpr std::string_view kScheduleForms =
    "a schedule is an interval of whole minutes, hours or days from 5m to 366d (e.g. 30m, 6h, 7d), "
    "daily@HH:MM (UTC, 24-hour, e.g. daily@03:00) or daily (= daily@00:00)";
constexpr std::string_view kDurationForms =
    "a duration is a whole number of minutes, hours or days from 1m to 3650d (e.g. 30m, 12h, 90d)";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The value of `text` when it is all ASCII digits (at least one, at most
// `max_digits`, so no value can overflow); -1 otherwise.
int64_t digits_value(std::string_view text, std::size_t max_digits) {
  if (text.empty() || text.size() > max_digits) return -1;
  int64_t value = 0;
  for (const char c : text) {
    if (!is_digit(c)) return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

// "<digits><m|h|d>" in seconds; nullopt when it is not that form. Nine
// digits of days still fit an int64_t many times over.
std::optional<int64_t> amount_seconds(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t unit = 0;
  switch (text.back()) {
    case 'm':
      unit = kMinute;
      break;
    case 'h':
      unit = kHour;
      break;
    case 'd':
      unit = kDay;
      break;
    default:
      return std::nullopt;
  }
  const int64_t count = digits_value(text.substr(0, text.size() - 1), 9);
  if (count < 0) return std::nullopt;
  return count * unit;
}

// The largest of d, h, m that divides `seconds` exactly; seconds themselves
// ("90s") only for a value no parse produces, so it shows rather than hides.
std::string amount_text(int64_t seconds) {
  for (const auto& [unit, suffix] : {std::pair{kDay, 'd'}, std::pair{kHour, 'h'}, std::pair{kMinute, 'm'}}) {
    if (seconds != 0 && seconds % unit == 0) return std::to_string(seconds / unit) + suffix;
  }
  return std::to_string(seconds) + 's';
}

// "HH:MM", exactly two digits each, 00:00..23:59, in minutes; -1 otherwise.
int minute_of_day(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return -1;
  const int64_t hours = digits_value(text.substr(0, 2), 2);
  const int64_t minutes = digits_value(text.substr(3, 2), 2);
  if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) return -1;
  return static_cast<int>(hours * 60 + minutes);
}

// Digits of text[at, at + n) as a number; -1 when any is not a digit.
int64_t field(std::string_view text, std::size_t at, std::size_t n) { return digits_value(text.substr(at, n), n); }

}  // namespace

std::variant<Schedule, std::string> parse_schedule(std::string_view text) {
  constexpr std::string_view kDailyAt = "daily@";
  if (text == "daily") return Schedule{.kind = Schedule::Kind::kDaily};
  if (text.starts_with(kDailyAt)) {
    const int minute = minute_of_day(text.substr(kDailyAt.size()));
    if (minute < 0) return "bad daily time: " + std::string(kScheduleForms);
    return Schedule{.kind = Schedule::Kind::kDaily, .minute_of_day = minute};
  }
  const auto seconds = amount_seconds(text);
  if (!seconds) return std::string(kScheduleForms);
  if (*seconds < kShortestInterval || *seconds > kLongestInterval) {
    return "interval out of range: " + std::string(kScheduleForms);
  }
  return Schedule{.kind = Schedule::Kind::kInterval, .interval_seconds = *seconds};
}

std::string schedule_text(const Schedule& s) {
  if (s.kind == Schedule::Kind::kInterval) return amount_text(s.interval_seconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, "daily@%02d:%02d", s.minute_of_day / 60, s.minute_of_day % 60);
  return buf;
}

int64_t next_due(const Schedule& s, int64_t last) {
  if (s.kind == Schedule::Kind::kInterval) return last + s.interval_seconds;
  const sys_seconds refreshed{std::chrono::seconds{last}};
  sys_seconds due = std::chrono::floor<days>(refreshed) + std::chrono::minutes{s.minute_of_day};
  if (due <= refreshed) due += days{1};
  return due.time_since_epoch().count();
}

std::variant<int64_t, std::string> parse_duration_seconds(std::string_view text) {
  const auto seconds = amount_seconds(text);
  if (!seconds) return std::string(kDurationForms);
  if (*seconds < kShortestDuration || *seconds > kLongestDuration) {
    return "duration out of range: " + std::string(kDurationForms);
  }
  return *seconds;
}

std::optional<int64_t> parse_utc_time(std::string_view text) {
  // "YYYY-MM-DD" and, for a time, "THH:MM:SSZ" after it.
  constexpr std::size_t kDateLength = 10;
  constexpr std::size_t kTimeLength = 20;
  if (text.size() != kDateLength && text.size() != kTimeLength) return std::nullopt;
  if (text[4] != '-' || text[7] != '-') return std::nullopt;
  const int64_t y = field(text, 0, 4);
  const int64_t m = field(text, 5, 2);
  const int64_t d = field(text, 8, 2);
  if (y < 1970 || y > 9999 || m < 0 || d < 0) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{static_cast<int>(y)},
                                         std::chrono::month{static_cast<unsigned>(m)},
                                         std::chrono::day{static_cast<unsigned>(d)}};
  if (!date.ok()) return std::nullopt;
  int64_t seconds_of_day = 0;
  if (text.size() == kTimeLength) {
    if (text[10] != 'T' || text[13] != ':' || text[16] != ':' || text[19] != 'Z') return std::nullopt;
    const int64_t hh = field(text, 11, 2);
    const int64_t mm = field(text, 14, 2);
    const int64_t ss = field(text, 17, 2);
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59) return std::nullopt;
    seconds_of_day = hh * kHour + mm * kMinute + ss;
  }
  return sys_seconds{sys_days{date}}.time_since_epoch().count() + seconds_of_day;
}

std::string format_utc_time(int64_t unix_seconds) {
  const sys_seconds t{std::chrono::seconds{unix_seconds}};
  const sys_days day = std::chrono::floor<days>(t);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss time{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buf;
}

}  // namespace crowd::activation
