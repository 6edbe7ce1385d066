#include "query/union_cache.h"

#include <roaring/roaring.h>

#include <algorithm>

#include "index/system_view.h"
#include "query/union_of.h"

namespace crowd::query {

bool UnionCache::still_valid(const Entry& e, const IndexView& view, std::span<const TagId> ids) {
  const auto& tags = view.parts().tags;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto held = e.members[i].lock();
    if (held == nullptr || held != tags[ids[i]]) return false;
  }
  return true;
}

std::shared_ptr<const TagBits> UnionCache::get(const IndexView& view, std::span<const TagId> ids) {
  return get(view, ids, day_blocks_);
}

std::vector<std::pair<int64_t, int64_t>> UnionCache::day_blocks(int64_t first, int64_t last) {
  std::vector<std::pair<int64_t, int64_t>> out;
  while (first <= last) {
    // The largest aligned block starting at `first` that ends by `last`.
    int j = 0;
    while (j < 62 && (first & ((int64_t{2} << j) - 1)) == 0 && first + (int64_t{2} << j) - 1 <= last) ++j;
    out.emplace_back(first, first + (int64_t{1} << j) - 1);
    first += int64_t{1} << j;
  }
  return out;
}

Bitmap UnionCache::build(const IndexView& view, std::span<const TagId> ids, bool by_blocks) {
  const auto& tags = view.parts().tags;
  std::vector<const roaring_bitmap_t*> members;
  // Keeps the blocks' unions alive while they are ORed.
  std::vector<std::shared_ptr<const TagBits>> blocks;
  if (by_blocks && ids.size() >= kMinBlockedWindow) {
    const SystemView system = view.system();
    std::vector<std::pair<int64_t, TagId>> dated;
    dated.reserve(ids.size());
    for (const TagId id : ids) {
      const auto day = system.day_of(id);
      if (!day) break;
      dated.emplace_back(*day, id);
    }
    if (dated.size() == ids.size()) {
      std::sort(dated.begin(), dated.end());
      const auto spans = day_blocks(dated.front().first, dated.back().first);
      if (spans.size() > 1) {
        auto at = dated.begin();
        std::vector<TagId> block;
        for (const auto& [first, last] : spans) {
          block.clear();
          for (; at != dated.end() && at->first <= last; ++at) block.push_back(at->second);
          if (block.empty()) continue;
          std::sort(block.begin(), block.end());
          if (block.size() == 1) {
            members.push_back(tags[block[0]]->bits.get());
          } else {
            blocks.push_back(get(view, block, false));
            members.push_back(blocks.back()->bits.get());
          }
        }
      }
    }
  }
  if (members.empty()) {
    for (const TagId id : ids) members.push_back(tags[id]->bits.get());
  }
  return union_of(members);
}

std::shared_ptr<const TagBits> UnionCache::get(const IndexView& view, std::span<const TagId> ids, bool by_blocks) {
  std::string key(reinterpret_cast<const char*>(ids.data()), ids.size_bytes());
  {
    const std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      if (still_valid(it->second, view, ids)) {
        ++hits_;
        it->second.last_used = ++clock_;
        return it->second.bits;
      }
      bytes_ -= it->second.bits->bytes;
      entries_.erase(it);
    }
    ++misses_;
  }

  // Outside the lock: other queries go on while this one builds.
  const auto& tags = view.parts().tags;
  Entry entry;
  entry.members.reserve(ids.size());
  for (const TagId id : ids) entry.members.push_back(tags[id]);
  Bitmap u = build(view, ids, by_blocks);
  u.optimize();
  entry.bits = std::make_shared<const TagBits>(std::move(u));
  auto result = entry.bits;
  if (result->bytes > budget_) return result;

  const std::lock_guard lock(mu_);
  evict_to(budget_ - result->bytes);
  entry.last_used = ++clock_;
  const auto [it, added] = entries_.try_emplace(std::move(key), std::move(entry));
  if (added) bytes_ += result->bytes;  // else a racing query cached it first; keep that one
  return result;
}

void UnionCache::evict_to(std::size_t budget) {
  while (bytes_ > budget && !entries_.empty()) {
    auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
      return a.second.last_used < b.second.last_used;
    });
    bytes_ -= oldest->second.bits->bytes;
    entries_.erase(oldest);
  }
}

UnionCache::Stats UnionCache::stats() const {
  const std::lock_guard lock(mu_);
  return Stats{hits_, misses_, bytes_, entries_.size()};
}

}  // namespace crowd::query
