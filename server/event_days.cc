#include "server/event_days.h"

#include <algorithm>

#include "index/system_view.h"
#include "query/date.h"

namespace crowd::server {

int64_t DayClock::today() const { return s_.as_of.value_or(query::today_utc()); }

EventDayLimit DayClock::event_limit() const {
  static const int64_t kLastDay = *query::parse_day("9999-12-31");
  const int64_t today = this->today();
  int64_t earliest = s_.earliest;
  std::string why = "--min-event-date";
  if (s_.retention_days > 0 && today - static_cast<int64_t>(s_.retention_days) + 1 > earliest) {
    earliest = today - static_cast<int64_t>(s_.retention_days) + 1;
    why = "today minus --retention-days " + std::to_string(s_.retention_days) + " plus one: older days are not kept";
  }
  return EventDayLimit(earliest, std::move(why), std::min(today + s_.max_future_days, kLastDay), s_.max_future_days);
}

std::optional<std::string> EventDayLimit::problem(int64_t day) const {
  std::string out(query::format_day(day));
  if (day > latest_) {
    out.append(" is after ")
        .append(query::format_day(latest_))
        .append(", the latest day an event may carry (today, UTC, plus --max-future-days ")
        .append(std::to_string(max_future_days_))
        .append(")");
    return out;
  }
  if (day < earliest_) {
    out.append(" is before ")
        .append(query::format_day(earliest_))
        .append(", the earliest day an event may carry (")
        .append(earliest_why_)
        .append(")");
    return out;
  }
  return std::nullopt;
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
  return std::to_string(count) + " day tags are dated after " + query::format_day(limit.latest()) + " (the latest " +
         query::format_day(farthest) +
         "), written before --max-future-days existed: they are kept and retention never drops them; "
         "relative windows count back from today and do not reach them (docs/operations.md)";
}

}  // namespace crowd::server
