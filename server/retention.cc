#include "server/retention.h"

#include "index/system_tags.h"

namespace crowd::server {

std::optional<uint64_t> Retention::enforce(const WriteBatch* written, std::string& error) {
  std::lock_guard lock(running_);
  const auto view = store_.view();
  const auto newest = view->newest_day();
  if (!newest) return 0;
  const int64_t horizon = *newest - static_cast<int64_t>(days_) + 1;
  const auto& dict = view->dictionary();
  WriteBatch batch;
  uint64_t cleared = 0;
  const auto clear_if_old = [&](TagId id) {
    if (view->tag(id).cardinality == 0) return;
    const auto day = system_tags::day_of_any(dict.name(id));
    if (day && *day < horizon) {
      batch.clear_tag(batch.intern(dict.name(id)));
      ++cleared;
    }
  };
  const bool moved = *newest != enforced_for_;
  if (moved) {
    for (const TagId id : dict.system_with_prefix(system_tags::day_prefix(""))) clear_if_old(id);
  } else if (written != nullptr) {
    for (const auto& name : written->names()) {
      if (!system_tags::day_of_any(name)) continue;
      if (const auto id = dict.find(name)) clear_if_old(*id);
    }
  }
  if (!batch.empty()) {
    WriteResult ignored;
    if (store_.write(batch, ignored) != WriteStatus::kOk) {
      error = "retention: could not write the clearing of " + std::to_string(cleared) + " day tags";
      return std::nullopt;
    }
  }
  if (moved) enforced_for_ = *newest;
  return cleared;
}

}  // namespace crowd::server
