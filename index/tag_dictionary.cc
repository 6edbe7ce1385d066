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

bool TagDictionary::is_system(TagId id) const { return system_tags::is_system(names_[id]); }

std::span<const TagId> TagDictionary::with_prefix(std::string_view prefix) const {
  return prefix_range(sorted(), prefix);
}

std::span<const TagId> TagDictionary::system_with_prefix(std::string_view prefix) const {
  return prefix_range(std::span<const TagId>(sorted_).first(system_count_), prefix);
}

std::span<const TagId> TagDictionary::prefix_range(std::span<const TagId> range, std::string_view prefix) const {
  const auto less_than_prefix = [this](TagId id, std::string_view p) {
    return std::string_view(names_[id]).substr(0, p.size()) < p;
  };
  const auto prefix_less_than = [this](std::string_view p, TagId id) {
    return p < std::string_view(names_[id]).substr(0, p.size());
  };
  const auto first = std::lower_bound(range.begin(), range.end(), prefix, less_than_prefix);
  const auto last = std::upper_bound(first, range.end(), prefix, prefix_less_than);
  return {first, last};
}

std::shared_ptr<const TagDictionary> TagDictionary::with_added(std::span<const std::string> names) const {
  auto next = std::make_shared<TagDictionary>(*this);
  for (const auto& n : names) {
    if (next->ids_.contains(n)) continue;
    const auto id = static_cast<TagId>(next->names_.size());
    next->names_.push_back(n);
    next->ids_.emplace(n, id);
  }
  next->rebuild_sorted();
  return next;
}

std::shared_ptr<const TagDictionary> TagDictionary::from_names(std::vector<std::string> names) {
  auto dict = std::make_shared<TagDictionary>();
  dict->ids_.reserve(names.size());
  for (TagId id = 0; id < names.size(); ++id) {
    if (!dict->ids_.emplace(names[id], id).second) return nullptr;
  }
  dict->names_ = std::move(names);
  dict->rebuild_sorted();
  return dict;
}

void TagDictionary::rebuild_sorted() {
  sorted_.resize(names_.size());
  for (TagId id = 0; id < names_.size(); ++id) sorted_[id] = id;
  std::sort(sorted_.begin(), sorted_.end(), [this](TagId a, TagId b) { return names_[a] < names_[b]; });
  system_count_ = static_cast<std::size_t>(
      std::partition_point(sorted_.begin(), sorted_.end(), [this](TagId id) { return system_tags::is_system(names_[id]); }) -
      sorted_.begin());
}

}  // namespace crowd
