#include "server/retention.h"

#include <set>
#include <utility>

#include "index/system_view.h"
#include "query/date.h"

namespace crowd::server {

bool RetentionPlan::within_share() const {
  return dates_dropped <= 1 ||
         static_cast<double>(dates_dropped) <= Retention::kMaxDropShare * static_cast<double>(dates_held);
}

std::string RetentionPlan::describe() const {
  std::string out = "would drop " + std::to_string(dates_dropped) + " of " + std::to_string(dates_held) + " dated days";
  if (first_dropped) out += " (" + query::format_day(*first_dropped) + " .. " + query::format_day(*last_dropped) + ")";
  out += ", " + std::to_string(tags_dropped) + " day tags, " + std::to_string(users_dropped) + " user-days; keeps " +
         query::format_day(horizon) + " and later";
  return out;
}

Retention::Retention(Store& store, uint32_t days, Today today) : store_(store), days_(days), today_(std::move(today)) {}

RetentionPlan Retention::plan_for(const IndexView& view, int64_t today, const WriteBatch* written) const {
  RetentionPlan p;
  p.horizon = today - static_cast<int64_t>(days_) + 1;
  const SystemView system = view.system();
  std::set<int64_t> held, dropped;
  if (written == nullptr) {
    for (const DayTag& d : system.all_days()) {
      if (view.tag(d.id).cardinality > 0) held.insert(d.day);
    }
  }
  const auto old = written == nullptr ? system.days_before(p.horizon) : system.days_before(p.horizon, *written);
  for (const DayTag& d : old) {
    dropped.insert(d.day);
    ++p.tags_dropped;
    p.users_dropped += view.tag(d.id).cardinality;
    p.tags.push_back(d.id);
  }
  p.dates_held = written == nullptr ? held.size() : dropped.size();
  p.dates_dropped = dropped.size();
  if (!dropped.empty()) {
    p.first_dropped = *dropped.begin();
    p.last_dropped = *dropped.rbegin();
  }
  return p;
}

RetentionPlan Retention::plan() const {
  std::lock_guard lock(running_);
  return plan_for(*store_.view(), today_(), nullptr);
}

uint64_t Retention::refused() const {
  std::lock_guard lock(running_);
  return refused_;
}

std::optional<uint64_t> Retention::enforce(const WriteBatch* written, std::string& error, bool force) {
  std::lock_guard lock(running_);
  const auto view = store_.view();
  const int64_t today = today_();
  const bool moved = today != enforced_for_;
  if (!moved && written == nullptr) return 0;
  // Refused today already: asked again when the day changes or at a restart
  // (not at every write: a scan each).
  if (moved && !force && refused_for_ == today) return 0;
  const RetentionPlan plan = plan_for(*view, today, moved ? nullptr : written);
  // Only a full scan knows the share; a write's own old days are few and
  // were checked at the door (event_days.h).
  if (moved && !force && !plan.within_share()) {
    ++refused_;
    refused_for_ = today;
    error = "retention refused: it " + plan.describe() + ", more than " +
            std::to_string(static_cast<int>(kMaxDropShare * 100)) +
            "% of the dated days; nothing was dropped (check the clock and --retention-days; "
            "--retention-dry-run shows this, --retention-force at start drops it)";
    return std::nullopt;
  }
  WriteBatch batch;
  for (const TagId id : plan.tags) batch.clear_tag(batch.intern(view->dictionary().name(id)));
  if (!batch.empty()) {
    WriteResult ignored;
    if (store_.write(batch, ignored) != WriteStatus::kOk) {
      error = "retention: could not write the clearing of " + std::to_string(plan.tags_dropped) + " day tags";
      return std::nullopt;
    }
  }
  if (moved) enforced_for_ = today;
  return plan.tags_dropped;
}

}  // namespace crowd::server
