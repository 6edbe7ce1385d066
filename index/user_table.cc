#include "index/user_table.h"

namespace crowd {

UserTable::UserTable() : chunks_(new std::atomic<UserId*>[tuning::kUserChunkCount]) {
  for (std::size_t i = 0; i < tuning::kUserChunkCount; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

UserTable::~UserTable() {
  for (std::size_t i = 0; i < tuning::kUserChunkCount; ++i) delete[] chunks_[i].load(std::memory_order_relaxed);
}

std::optional<Ordinal> UserTable::find(UserId id) const {
  const auto it = ordinals_.find(id);
  if (it == ordinals_.end()) return std::nullopt;
  return it->second;
}

void UserTable::store_external(Ordinal o, UserId id) {
  auto& chunk = chunks_[o >> tuning::kUserChunkBits];
  UserId* slots = chunk.load(std::memory_order_relaxed);
  if (slots == nullptr) {
    slots = new UserId[tuning::kUserChunkSize];
    // Published to readers by the release store of the next IndexView.
    chunk.store(slots, std::memory_order_relaxed);
  }
  slots[o & (tuning::kUserChunkSize - 1)] = id;
}

std::optional<Ordinal> UserTable::find_or_add(UserId id) {
  // Ordinal 2^32-1 is never handed out, so size() fits in a u32.
  if (size_ == UINT32_MAX) return find(id);
  // One probe: with millions of users nearly every probe is a cache miss,
  // and a find() followed by an emplace() paid for two.
  const auto [it, added] = ordinals_.try_emplace(id, size_);
  if (!added) return it->second;
  store_external(size_, id);
  return size_++;
}

std::size_t UserTable::append_new(std::span<const UserId> ids) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (size_ == UINT32_MAX || !ordinals_.try_emplace(ids[i], size_).second) return i;
    store_external(size_, ids[i]);
    ++size_;
  }
  return ids.size();
}

}  // namespace crowd
