#include "server/retention.h"

#include <utility>

#include "index/system_view.h"

namespace crowd::server {

Retention::Retention(Store& store, uint32_t days, Today today)
    : store_(store), days_(days), today_(std::move(today)) {}

std::optional<uint64_t> Retention::enforce(const WriteBatch* written, std::string& error) {
  std::lock_guard lock(running_);
  const auto view = store_.view();
  const int64_t today = today_();
  const int64_t horizon = today - static_cast<int64_t>(days_) + 1;
  const bool moved = today != enforced_for_;
  std::vector<TagId> old;
  if (moved) {
    old = view->system().days_before(horizon);
  } else if (written != nullptr) {
    old = view->system().days_before(horizon, *written);
  }
  WriteBatch batch;
  for (const TagId id : old) batch.clear_tag(batch.intern(view->dictionary().name(id)));
  const uint64_t cleared = old.size();
  if (!batch.empty()) {
    WriteResult ignored;
    if (store_.write(batch, ignored) != WriteStatus::kOk) {
      error = "retention: could not write the clearing of " + std::to_string(cleared) + " day tags";
      return std::nullopt;
    }
  }
  if (moved) enforced_for_ = today;
  return cleared;
}

}  // namespace crowd::server
