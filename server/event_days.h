// Which days a dated event may carry, and what "today" is: the server's wall
// clock (UTC), never the newest day in the index. A feed's clock is not
// trusted: one event dated 9999-12-31 used to move retention's horizon past
// every real day (issue 14, item 4), so events later than today plus a
// documented skew (--max-future-days) are refused, and retention counts back
// from the wall clock (retention.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "index/index_view.h"

namespace crowd::server {

// Today's UTC date as days since 1970-01-01, from the system clock. O(1).
[[nodiscard]] int64_t wall_clock_today();

// The latest day a write may date an event with.
class EventDayLimit {
 public:
  // No limit: for offline tools (benchmarks, fuzzers) that replay old files.
  [[nodiscard]] static EventDayLimit none() { return EventDayLimit(INT64_MAX, 0); }
  // Today (wall clock, UTC) plus max_future_days, at most 9999-12-31 (the
  // last date query/date.h reads); read once per request, so a batch is
  // judged against one day.
  [[nodiscard]] static EventDayLimit from_wall_clock(uint32_t max_future_days);

  // Why `day` may not be written ("9999-12-31 is after 2026-12-07, ..."),
  // or nullopt when it may.
  [[nodiscard]] std::optional<std::string> problem(int64_t day) const;

  [[nodiscard]] int64_t latest() const { return latest_; }

 private:
  EventDayLimit(int64_t latest, uint32_t max_future_days) : latest_(latest), max_future_days_(max_future_days) {}
  int64_t latest_;
  uint32_t max_future_days_;
};

// A data directory written before the limit existed may hold day tags later
// than `limit`. They are kept (they are data, and a restart must not decide
// to erase it) and retention does not move because of them; this says how
// many there are and the latest, for the start-up log (no tag names: they
// may hold personal data). nullopt when there are none. O(day tags).
[[nodiscard]] std::optional<std::string> days_beyond_note(const IndexView& view, const EventDayLimit& limit);

}  // namespace crowd::server
