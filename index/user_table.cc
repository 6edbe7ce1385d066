#include "index/user_table.h"

#include <algorithm>

namespace crowd {

UserTable::UserTable() : chunks_(new std::atomic<UserId*>[tuning::kUserChunkCount]) {
  for (std::size_t i = 0; i < tuning::kUserChunkCount; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

UserTable::~UserTable() {
  for (std::size_t i = 0; i < tuning::kUserChunkCount; ++i) delete[] chunks_[i].load(std::memory_order_relaxed);
}

std::optional<Ordinal> UserTable::find(UserId id) const {
  return ordinals_.find(id, [this](Ordinal o) { return external(o); });
}

void UserTable::store_external(Ordinal o, UserId id) {
  auto& chunk = chunks_[o >> tuning::kUserChunkBits];
  UserId* slots = chunk.load(std::memory_order_relaxed);
  if (slots == nullptr) {
    slots = new UserId[tuning::kUserChunkSize];
    // Published to readers by the release store of the next IndexView.
    chunk.store(slots, std::memory_order_relaxed);
  }
  std::atomic_ref<UserId>(slots[o & (tuning::kUserChunkSize - 1)]).store(id, std::memory_order_relaxed);
}

std::optional<Ordinal> UserTable::find_or_add(UserId id) {
  // Ordinal 2^32-1 is never handed out, so size() fits in a u32.
  if (size_ == UINT32_MAX) return find(id);
  // One probe: with millions of users nearly every probe is a cache miss,
  // and a find() followed by an insert paid for two. The new ordinal's ID is
  // stored first so the table can read it back.
  store_external(size_, id);
  const Ordinal o = ordinals_.find_or_insert(id, size_, [this](Ordinal k) { return external(k); });
  if (o == size_) ++size_;
  return o;
}

std::size_t UserTable::append_new(std::span<const UserId> ids) {
  const std::size_t fit = std::min<std::size_t>(ids.size(), UINT32_MAX - size_);
  // The IDs go into the ordinal->ID chunks first (the hash reads them back
  // to compare), then into the hash in one prefetched pass. A duplicate's
  // ID is left past size_, where no reader looks and the next add overwrites.
  for (std::size_t i = 0; i < fit; ++i) store_external(static_cast<Ordinal>(size_ + i), ids[i]);
  const std::size_t added = ordinals_.insert_new(ids.first(fit), size_, [this](Ordinal k) { return external(k); });
  size_ += static_cast<uint32_t>(added);
  return added;
}

bool UserTable::forget(UserId id) {
  return ordinals_.erase(id, [this](Ordinal o) { return external(o); });
}

std::size_t UserTable::append_erased(std::size_t n) {
  const std::size_t fit = std::min<std::size_t>(n, UINT32_MAX - size_);
  for (std::size_t i = 0; i < fit; ++i) store_external(static_cast<Ordinal>(size_ + i), 0);
  size_ += static_cast<uint32_t>(fit);
  return fit;
}

std::optional<Ordinal> UserTable::add_uidless() {
  if (append_erased(1) != 1) return std::nullopt;
  return size_ - 1;
}

void UserTable::assign(Ordinal o, UserId id) {
  store_external(o, id);
  (void)ordinals_.find_or_insert(id, o, [this](Ordinal k) { return external(k); });
}

}  // namespace crowd
