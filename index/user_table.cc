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

std::optional<Ordinal> UserTable::find_or_add(UserId id) {
  if (const auto it = ordinals_.find(id); it != ordinals_.end()) return it->second;
  // Ordinal 2^32-1 is never handed out, so size() fits in a u32.
  if (size_ == UINT32_MAX) return std::nullopt;
  const Ordinal o = size_;
  auto& chunk = chunks_[o >> tuning::kUserChunkBits];
  UserId* slots = chunk.load(std::memory_order_relaxed);
  if (slots == nullptr) {
    slots = new UserId[tuning::kUserChunkSize];
    // Published to readers by the release store of the next IndexView.
    chunk.store(slots, std::memory_order_relaxed);
  }
  slots[o & (tuning::kUserChunkSize - 1)] = id;
  ordinals_.emplace(id, o);
  size_ = o + 1;
  return o;
}

}  // namespace crowd
