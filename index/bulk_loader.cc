#include "index/bulk_loader.h"

#include "index/tuning.h"

namespace crowd {

uint32_t BulkLoader::tag(std::string_view name) {
  if (const auto it = ids_.find(name); it != ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(names_.back(), id);
  pending_.emplace_back();
  return id;
}

void BulkLoader::flush(Pending& p) {
  p.bits.add_many(p.buffer);
  p.buffer.clear();
}

bool BulkLoader::add(UserId user, std::span<const uint32_t> tags) {
  const uint32_t before = index_.users().size();
  const auto ordinal = index_.users().find_or_add(user);
  if (!ordinal) return false;
  if (index_.users().size() != before) ++members_count_;
  members_.buffer.push_back(*ordinal);
  if (members_.buffer.size() >= tuning::kBulkTagBuffer) flush(members_);
  for (const uint32_t t : tags) {
    auto& p = pending_[t];
    p.buffer.push_back(*ordinal);
    if (p.buffer.size() >= tuning::kBulkTagBuffer) flush(p);
  }
  assignments_ += tags.size();
  return true;
}

uint64_t BulkLoader::finish() {
  std::vector<Bitmap> bitmaps;
  bitmaps.reserve(pending_.size());
  for (auto& p : pending_) {
    flush(p);
    bitmaps.push_back(std::move(p.bits));
    std::vector<uint32_t>().swap(p.buffer);
  }
  flush(members_);
  index_.merge(names_, std::move(bitmaps), members_.bits);
  pending_.clear();
  return assignments_;
}

}  // namespace crowd
