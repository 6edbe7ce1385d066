// The server's one clock for calendar days, and which days a dated event may
// carry.
//
// "Today" is the server's UTC date by the wall clock, or the day --as-of
// fixes (replaying history). Everything that counts days counts from it:
// relative windows (within(tag, Nd), unless a request names its own
// "as_of"), the latest and earliest day an event may carry, and retention's
// horizon (retention.h) -- never the newest day in the index. A feed's clock
// is not trusted: one event dated 9999-12-31 used to move every window and
// retention's horizon past every real day (issues 14 and 17), so events
// later than today plus --max-future-days, or earlier than --min-event-date
// (or than retention's horizon), are refused with their line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "index/index_view.h"

namespace crowd::server {

// The earliest day an event may carry by default (--min-event-date).
inline constexpr int64_t kDefaultEarliestEventDay = 10'957;  // 2000-01-01

// The days a write may date an event with: [earliest, latest].
class EventDayLimit {
 public:
  // No limit: for offline tools (benchmarks, fuzzers) that replay old files.
  [[nodiscard]] static EventDayLimit none() { return EventDayLimit(INT64_MIN, {}, INT64_MAX, 0); }

  // Why `day` may not be written ("9999-12-31 is after 2026-12-08, ..."),
  // or nullopt when it may.
  [[nodiscard]] std::optional<std::string> problem(int64_t day) const;

  [[nodiscard]] int64_t earliest() const { return earliest_; }
  [[nodiscard]] int64_t latest() const { return latest_; }

 private:
  friend class DayClock;
  EventDayLimit(int64_t earliest, std::string earliest_why, int64_t latest, uint32_t max_future_days)
      : earliest_(earliest),
        earliest_why_(std::move(earliest_why)),
        latest_(latest),
        max_future_days_(max_future_days) {}
  int64_t earliest_;
  std::string earliest_why_;  // which flag set `earliest_`
  int64_t latest_;
  uint32_t max_future_days_;
};

class DayClock {
 public:
  struct Settings {
    std::optional<int64_t> as_of;                 // --as-of: a fixed today; nullopt: the wall clock
    uint32_t max_future_days = 1;                 // --max-future-days
    int64_t earliest = kDefaultEarliestEventDay;  // --min-event-date
    uint32_t retention_days = 0;                  // --retention-days: also a floor (0: none)
  };
  DayClock() = default;
  explicit DayClock(Settings s) : s_(s) {}

  // Today (days since 1970-01-01, UTC). O(1).
  [[nodiscard]] int64_t today() const;
  [[nodiscard]] bool fixed() const { return s_.as_of.has_value(); }

  // The days an event may carry today: from the later of --min-event-date
  // and retention's horizon to today + --max-future-days (at most
  // 9999-12-31, the last date query/date.h reads). Read once per request, so
  // a batch is judged against one day.
  [[nodiscard]] EventDayLimit event_limit() const;

 private:
  Settings s_;
};

// A data directory written before the limit existed may hold day tags later
// than `limit`. They are kept (they are data, and a restart must not decide
// to erase it) and retention never drops them; this says how many there are
// and the latest, for the start-up log (no tag names: they may hold personal
// data). nullopt when there are none. O(day tags).
[[nodiscard]] std::optional<std::string> days_beyond_note(const IndexView& view, const EventDayLimit& limit);

}  // namespace crowd::server
