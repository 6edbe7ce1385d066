// Schedule: when a saved crowd is refreshed, how long it lives, and the UTC
// times the API speaks. Pure functions of their arguments: nothing here reads
// the clock, so the scheduler's decisions can be tested at any instant.
//
// Text forms (docs/activation.md, "Schedules"):
//   interval   "<n>m", "<n>h", "<n>d": a whole number of minutes, hours or
//              days, from 5m to 366d. No seconds (refreshing a crowd more
//              often than every few minutes is never what was meant), no
//              fractions, no sign.
//   daily      "daily@HH:MM" (UTC, 24-hour, exactly two digits each, so
//              "daily@3:00" and "daily@24:00" are refused), "daily" being
//              "daily@00:00".
//   duration   (a crowd's ttl) the same "<n>m|h|d" form, from 1m to 3650d.
//   UTC time   "2026-12-31T23:59:59Z", or a date "2026-12-31" meaning its
//              00:00:00Z; years 1970 to 9999.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace crowd::activation {

struct Schedule {
  enum class Kind : uint8_t { kInterval, kDaily };
  Kind kind = Kind::kInterval;
  int64_t interval_seconds = 0;  // kInterval
  int minute_of_day = 0;         // kDaily: minutes after 00:00 UTC

  bool operator==(const Schedule&) const = default;
};

// A schedule from its text form (above), or an error saying what is
// accepted. The field of the other kind is left 0, so equal texts give
// equal Schedules.
[[nodiscard]] std::variant<Schedule, std::string> parse_schedule(std::string_view text);

// The canonical text: parse_schedule(schedule_text(s)) == s. An interval is
// written in the largest unit that divides it exactly, so "1440m" and "24h"
// both print as "1d", "120m" as "2h" and "90m" stays "90m"; a daily schedule
// always shows its time ("daily" prints as "daily@00:00").
[[nodiscard]] std::string schedule_text(const Schedule& s);

// The first moment (unix seconds) a refresh is due after one made at
// `last`: kInterval, last + interval; kDaily, the first HH:MM UTC strictly
// after `last` (a refresh made at exactly 03:00 is next due at 03:00 the day
// after).
//
// Missed runs are never replayed one by one: after an outage next_due(last)
// lies in the past, the caller runs one refresh at once and then asks
// next_due(the time of that refresh), which is in the future again.
// `s` as parse_schedule makes it; `last` within years 1970..9999.
[[nodiscard]] int64_t next_due(const Schedule& s, int64_t last);

// A ttl in seconds: "30m", "12h", "90d" (from 1m to 3650d), or an error
// saying what is accepted.
[[nodiscard]] std::variant<int64_t, std::string> parse_duration_seconds(std::string_view text);

// Unix seconds of "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DD" (that day's
// 00:00:00Z). nullopt for anything else: another offset than Z, a lower-case
// 't' or 'z', fractions of a second, a leap second (":60"), a day the month
// does not have (2026-02-29, 2026-04-31), a year outside 1970..9999.
[[nodiscard]] std::optional<int64_t> parse_utc_time(std::string_view text);

// "YYYY-MM-DDTHH:MM:SSZ"; parse_utc_time(format_utc_time(t)) == t for t in
// years 1970..9999.
[[nodiscard]] std::string format_utc_time(int64_t unix_seconds);

}  // namespace crowd::activation
