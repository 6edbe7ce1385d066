#include "server/event_days.h"

#include <algorithm>
#include <chrono>

#include "index/system_view.h"
#include "query/date.h"

namespace crowd::server {

int64_t wall_clock_today() {
  const auto now = std::chrono::system_clock::now();
  return std::chrono::floor<std::chrono::days>(now).time_since_epoch().count();
}

EventDayLimit EventDayLimit::from_wall_clock(uint32_t max_future_days) {
  static const int64_t kLastDay = *query::parse_day("9999-12-31");
  return EventDayLimit(std::min(wall_clock_today() + max_future_days, kLastDay), max_future_days);
}

std::optional<std::string> EventDayLimit::problem(int64_t day) const {
  if (day <= latest_) return std::nullopt;
  std::string out(query::format_day(day));
  out.append(" is after ")
      .append(query::format_day(latest_))
      .append(", the latest day an event may carry (today, UTC, plus --max-future-days ")
      .append(std::to_string(max_future_days_))
      .append(")");
  return out;
}

std::optional<std::string> days_beyond_note(const IndexView& view, const EventDayLimit& limit) {
  uint64_t count = 0;
  int64_t farthest = INT64_MIN;
  for (const DayTag& d : view.system().all_days()) {
    if (d.day <= limit.latest() || view.tag(d.id).cardinality == 0) continue;
    ++count;
    farthest = std::max(farthest, d.day);
  }
  if (count == 0) return std::nullopt;
  return std::to_string(count) + " day tags are dated after " + query::format_day(limit.latest()) +
         " (the latest " + query::format_day(farthest) +
         "), written before --max-future-days existed: they are kept and retention ignores them; "
         "within(tag, Nd) counts back from the newest day (docs/operations.md)";
}

}  // namespace crowd::server
