#include "index/tag_dictionary.h"

#include <algorithm>

#include "index/system_tags.h"

namespace crowd {

std::string_view tag_field(std::string_view tag) {
  const auto colon = tag.find(':');
  return colon == std::string_view::npos ? tag : tag.substr(0, colon);
}

std::optional<TagId> TagDictionary::find(std::string_view name) const {
  const auto it = ids_.find(name);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

bool reserved_tag_name(std::string_view name) { return system_tags::is_system(name); }

bool TagDictionary::is_system(TagId id) const { return system_tags::is_system(name(id)); }

std::span<const TagId> TagDictionary::with_prefix(std::string_view prefix) const {
  return prefix_range(sorted(), prefix);
}

std::span<const TagId> TagDictionary::system_with_prefix(std::string_view prefix) const {
  return prefix_range(std::span<const TagId>(sorted_).first(system_count_), prefix);
}

std::span<const TagId> TagDictionary::prefix_range(std::span<const TagId> range, std::string_view prefix) const {
  const auto less_than_prefix = [this](TagId id, std::string_view p) {
    return std::string_view(name(id)).substr(0, p.size()) < p;
  };
  const auto prefix_less_than = [this](std::string_view p, TagId id) {
    return p < std::string_view(name(id)).substr(0, p.size());
  };
  const auto first = std::lower_bound(range.begin(), range.end(), prefix, less_than_prefix);
  const auto last = std::upper_bound(first, range.end(), prefix, prefix_less_than);
  return {first, last};
}

std::shared_ptr<const TagDictionary> TagDictionary::with_added(std::span<const std::string> names) const {
  // The new names, each once, in byte order.
  std::vector<std::string_view> fresh;
  for (const auto& n : names) {
    if (!ids_.contains(n)) fresh.emplace_back(n);
  }
  std::sort(fresh.begin(), fresh.end());
  fresh.erase(std::unique(fresh.begin(), fresh.end()), fresh.end());
  if (fresh.empty()) return std::make_shared<TagDictionary>(*this);
  // Ids in order of first appearance in `names`, as before (replay hands
  // out the same ids, store.cc).
  std::vector<std::string_view> in_order;
  {
    std::vector<bool> taken(fresh.size(), false);
    for (const auto& n : names) {
      const auto it = std::lower_bound(fresh.begin(), fresh.end(), std::string_view(n));
      if (it == fresh.end() || *it != n) continue;
      const auto k = static_cast<std::size_t>(it - fresh.begin());
      if (taken[k]) continue;
      taken[k] = true;
      in_order.push_back(*it);
    }
  }
  auto next = std::make_shared<TagDictionary>();
  next->chunks_ = chunks_;  // pointers: full chunks stay shared
  next->size_ = size_;
  // Append. The partial last chunk is shared with this dictionary: copy it.
  // Chunks filled here are the new dictionary's alone until it is returned.
  // Each chunk reserves kChunk names before any key views it, so it never
  // reallocates under them.
  std::shared_ptr<Chunk> tail;
  if (next->size_ % kChunk != 0) {
    tail = std::make_shared<Chunk>();
    tail->reserve(kChunk);
    *tail = *next->chunks_.back();
    next->chunks_.back() = tail;
  }
  for (const auto n : in_order) {
    if (next->size_ % kChunk == 0) {
      tail = std::make_shared<Chunk>();
      tail->reserve(kChunk);
      next->chunks_.push_back(tail);
    }
    tail->emplace_back(n);
    ++next->size_;
  }
  // The hash map is built afresh (its keys view the new dictionary's chunks)
  // rather than copied and re-keyed: erasing the moved tail's keys from a
  // copy left the open-addressing table to rehash as it refilled, which
  // measured slower than one clean build (tools/crowd_put_latency.py).
  next->ids_.reserve(next->size_);
  for (TagId id = 0; id < next->size_; ++id) next->ids_.emplace(std::string_view(next->name(id)), id);
  // Merge the new ids into the byte order: k binary searches, one pass of
  // copying plain ids.
  std::vector<TagId> merged;
  merged.reserve(next->size_);
  auto from = sorted_.begin();
  for (const auto n : fresh) {
    const auto at = std::lower_bound(from, sorted_.end(), n,
                                     [this](TagId id, std::string_view v) { return std::string_view(name(id)) < v; });
    merged.insert(merged.end(), from, at);
    merged.push_back(*next->find(n));
    from = at;
  }
  merged.insert(merged.end(), from, sorted_.end());
  next->sorted_ = std::move(merged);
  next->count_system();
  return next;
}

std::shared_ptr<const TagDictionary> TagDictionary::from_names(std::vector<std::string> names) {
  auto dict = std::make_shared<TagDictionary>();
  dict->size_ = names.size();
  for (std::size_t first = 0; first < names.size(); first += kChunk) {
    auto chunk = std::make_shared<Chunk>();
    chunk->reserve(kChunk);
    const std::size_t last = std::min(names.size(), first + kChunk);
    for (std::size_t i = first; i < last; ++i) chunk->push_back(std::move(names[i]));
    dict->chunks_.push_back(std::move(chunk));
  }
  dict->ids_.reserve(dict->size_);
  for (TagId id = 0; id < dict->size_; ++id) {
    if (!dict->ids_.emplace(std::string_view(dict->name(id)), id).second) return nullptr;
  }
  dict->rebuild_sorted();
  return dict;
}

void TagDictionary::rebuild_sorted() {
  sorted_.resize(size_);
  for (TagId id = 0; id < size_; ++id) sorted_[id] = id;
  std::sort(sorted_.begin(), sorted_.end(), [this](TagId a, TagId b) { return name(a) < name(b); });
  count_system();
}

void TagDictionary::count_system() {
  system_count_ = static_cast<std::size_t>(
      std::partition_point(sorted_.begin(), sorted_.end(), [this](TagId id) { return system_tags::is_system(name(id)); }) -
      sorted_.begin());
}

}  // namespace crowd
