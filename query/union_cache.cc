#include "query/union_cache.h"

#include <roaring/roaring.h>

#include <algorithm>

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
  std::vector<const roaring_bitmap_t*> members;
  Entry entry;
  members.reserve(ids.size());
  entry.members.reserve(ids.size());
  for (const TagId id : ids) {
    members.push_back(tags[id]->bits.get());
    entry.members.push_back(tags[id]);
  }
  Bitmap u = union_of(members);
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
