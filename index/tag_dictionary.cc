#include "index/tag_dictionary.h"

#include <algorithm>

#include "index/system_tags.h"

namespace crowd {

std::string_view tag_field(std::string_view tag) {
  const auto colon = tag.find(':');
  return colon == std::string_view::npos ? tag : tag.substr(0, colon);
}

std::optional<TagId> TagDictionary::find(std::string_view name) const {
  const HashedName key(name);
  const Shard& shard = *shards_[shard_of(key)];
  const auto it = shard.find(key);
  if (it == shard.end()) return std::nullopt;
  return it->second;
}

bool reserved_tag_name(std::string_view name) { return system_tags::is_system(name); }

bool TagDictionary::is_system(TagId id) const { return system_tags::is_system(name(id)); }

std::span<const TagId> TagDictionary::with_prefix(std::string_view prefix) const {
  return prefix_range(sorted(), prefix);
}

std::vector<TagId> TagDictionary::system_with_prefix(std::string_view prefix) const {
  std::vector<TagId> out;
  for (auto it = system_.lower_bound(prefix); it != system_.end() && it->first.starts_with(prefix); ++it) {
    out.push_back(it->second);
  }
  return out;
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
    if (!find(n)) fresh.emplace_back(n);
  }
  std::sort(fresh.begin(), fresh.end());
  fresh.erase(std::unique(fresh.begin(), fresh.end()), fresh.end());
  auto next = std::make_shared<TagDictionary>(*this);  // pointers: everything shared
  if (fresh.empty()) return next;
  // Ids in order of first appearance in `names`, as before (replay hands
  // out the same ids, store.cc).
  decltype(names_)::Editor named(names_);
  {
    std::vector<bool> taken(fresh.size(), false);
    for (const auto& n : names) {
      const auto it = std::lower_bound(fresh.begin(), fresh.end(), std::string_view(n));
      if (it == fresh.end() || *it != n) continue;
      const auto k = static_cast<std::size_t>(it - fresh.begin());
      if (taken[k]) continue;
      taken[k] = true;
      named.push_back(std::make_shared<const std::string>(*it));
    }
  }
  next->names_ = std::move(named).finish();
  next->size_ = next->names_.size();
  if (next->size_ > 2 * kShardLoad * shards_.size()) {
    (void)next->rebuild_shards();  // the names are distinct: checked above
  } else {
    // Copy each shard a new name lands in, once; share the others.
    std::vector<Shard*> mine(shards_.size(), nullptr);
    for (TagId id = static_cast<TagId>(size_); id < next->size_; ++id) {
      const HashedName key(next->name(id));
      const std::size_t s = shard_of(key);
      if (mine[s] == nullptr) {
        auto copy = std::make_shared<Shard>(*shards_[s]);
        mine[s] = copy.get();
        next->shards_[s] = std::move(copy);
      }
      mine[s]->emplace(key, id);
    }
  }
  // System names into their map; users' into the byte order, merged: k
  // binary searches, one pass of copying plain ids.
  const auto users_begin =
      std::stable_partition(fresh.begin(), fresh.end(), [](std::string_view n) { return system_tags::is_system(n); });
  if (users_begin != fresh.begin()) {
    decltype(system_)::Editor system(system_);
    for (auto n = fresh.begin(); n != users_begin; ++n) {
      const TagId id = *next->find(*n);
      system.set(next->name(id), id);
    }
    next->system_ = std::move(system).finish();
  }
  if (users_begin != fresh.end()) {
    const auto& sorted = *sorted_;
    auto merged = std::make_shared<std::vector<TagId>>();
    merged->reserve(sorted.size() + static_cast<std::size_t>(fresh.end() - users_begin));
    auto from = sorted.begin();
    for (auto n = users_begin; n != fresh.end(); ++n) {
      const auto at = std::lower_bound(from, sorted.end(), *n,
                                       [this](TagId id, std::string_view v) { return std::string_view(name(id)) < v; });
      merged->insert(merged->end(), from, at);
      merged->push_back(*next->find(*n));
      from = at;
    }
    merged->insert(merged->end(), from, sorted.end());
    next->sorted_ = std::move(merged);
  }
  return next;
}

std::shared_ptr<const TagDictionary> TagDictionary::from_names(std::vector<std::string> names) {
  auto dict = std::make_shared<TagDictionary>();
  decltype(dict->names_)::Editor named(dict->names_);
  for (auto& n : names) named.push_back(std::make_shared<const std::string>(std::move(n)));
  dict->names_ = std::move(named).finish();
  dict->size_ = dict->names_.size();
  if (!dict->rebuild_shards()) return nullptr;
  dict->rebuild_sorted();
  return dict;
}

std::size_t TagDictionary::shards_shared_with(const TagDictionary& other) const {
  if (shards_.size() != other.shards_.size()) return 0;
  std::size_t same = 0;
  for (std::size_t s = 0; s < shards_.size(); ++s) same += shards_[s] == other.shards_[s] ? 1 : 0;
  return same;
}

bool TagDictionary::rebuild_shards() {
  shard_bits_ = 0;
  while ((std::size_t{1} << shard_bits_) * kShardLoad < size_) ++shard_bits_;
  std::vector<std::shared_ptr<Shard>> built(std::size_t{1} << shard_bits_);
  for (auto& shard : built) {
    shard = std::make_shared<Shard>();
    shard->reserve(2 * kShardLoad);
  }
  for (TagId id = 0; id < size_; ++id) {
    const HashedName key(name(id));
    if (!built[shard_of(key)]->emplace(key, id).second) return false;
  }
  shards_.assign(built.begin(), built.end());
  return true;
}

void TagDictionary::rebuild_sorted() {
  auto sorted = std::make_shared<std::vector<TagId>>();
  std::vector<TagId> system;
  for (TagId id = 0; id < size_; ++id) (system_tags::is_system(name(id)) ? system : *sorted).push_back(id);
  const auto by_name = [this](TagId a, TagId b) { return name(a) < name(b); };
  std::sort(sorted->begin(), sorted->end(), by_name);
  std::sort(system.begin(), system.end(), by_name);
  sorted_ = std::move(sorted);
  decltype(system_)::Editor editor{decltype(system_)()};
  for (const TagId id : system) editor.set(name(id), id);  // in order: each an append
  system_ = std::move(editor).finish();
}

}  // namespace crowd
