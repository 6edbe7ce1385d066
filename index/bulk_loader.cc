#include "index/bulk_loader.h"

#include <bit>

#include "index/system_tags.h"
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

uint32_t BulkLoader::day(std::string_view tag, int64_t day) { return this->tag(system_tags::day(tag, day)); }

uint32_t BulkLoader::attribute(std::string_view name) {
  // Linear: a load has a handful of attributes.
  for (std::size_t i = 0; i < attributes_.size(); ++i) {
    if (attributes_[i].name == name) return static_cast<uint32_t>(i);
  }
  Attribute a{std::string(name), {}};
  a.tags.fill(kNoTag);
  attributes_.push_back(std::move(a));
  return static_cast<uint32_t>(attributes_.size() - 1);
}

uint32_t BulkLoader::value_tag(Attribute& a, int slice) {
  uint32_t& id = a.tags[static_cast<std::size_t>(slice + 1)];
  if (id == kNoTag) id = tag(system_tags::attribute(a.name, slice));
  return id;
}

void BulkLoader::value_tags(uint32_t attribute, int64_t value, std::vector<uint32_t>& tags) {
  static_assert(std::tuple_size_v<decltype(Attribute::tags)> == system_tags::kValueBits + 1);
  Attribute& a = attributes_[attribute];
  tags.push_back(value_tag(a, -1));
  for (uint64_t bits = system_tags::to_offset_binary(value); bits != 0; bits &= bits - 1) {
    tags.push_back(value_tag(a, std::countr_zero(bits)));
  }
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
