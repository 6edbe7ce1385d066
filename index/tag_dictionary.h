// TagDictionary: the immutable map between UTF-8 tag names and dense TagIds.
//
// Ids are handed out in creation order and never reused, so a bitmap vector
// indexed by TagId stays valid as tags are added. Names are also kept sorted
// by bytes so a prefix ("cat:2520377:*") is one contiguous range found with
// two binary searches. A new tag produces a new dictionary (with_added); the
// old one stays valid for readers that hold it.
//
// with_added must not cost O(every name): a saved crowd is a tag, and each
// PUT of a new crowd name rebuilt the whole hash map (and, before that,
// copied and sorted every name), so with the view's other copies a PUT went
// from 0.6 to 17 ms as crowds grew to 29k (issue 14, item 8b). Names are immutable strings in shared chunks (cow_vector.h), and the
// hash map is split into shards by hash, each behind a shared pointer: a new
// name copies the chunk and the shard it lands in, and shares the rest. The
// system tags' byte order is a CowSortedMap (a new crowd copies one leaf);
// only the users' tags' order is a flat array, copied (4 bytes a tag) when a
// write creates a user's tag.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "index/cow_sorted_map.h"
#include "index/cow_vector.h"
#include "index/ids.h"
#include "index/string_hash.h"

namespace crowd {

// The field of a tag is the part before the first ':' (the whole tag if none).
[[nodiscard]] std::string_view tag_field(std::string_view tag);

// Whether `name` is reserved for the index's own tags (system_view.h): such
// names start with a control byte, so writers refuse them as users' tags. O(1).
[[nodiscard]] bool reserved_tag_name(std::string_view name);

class TagDictionary {
 public:
  TagDictionary() = default;

  // O(1) expected.
  [[nodiscard]] std::optional<TagId> find(std::string_view name) const;
  // The tag's name; id must be < size().
  [[nodiscard]] const std::string& name(TagId id) const { return *names_[id]; }
  // Every name, system tags included (index/system_tags.h).
  [[nodiscard]] std::size_t size() const { return size_; }
  // Users' tags only: what listings and counts of tags show.
  [[nodiscard]] std::size_t user_tag_count() const { return size_ - system_.size(); }
  // Whether `id` is a system tag.
  [[nodiscard]] bool is_system(TagId id) const;

  // Users' tags in byte order of their names (system tags excluded).
  [[nodiscard]] std::span<const TagId> sorted() const { return *sorted_; }
  // Users' tags whose names start with `prefix`, in byte order (system tags
  // excluded, even for the empty prefix). O(log n).
  [[nodiscard]] std::span<const TagId> with_prefix(std::string_view prefix) const;
  // System tags whose names start with `prefix` (which should start with
  // system_tags::kMark), in byte order. O(log n + matches).
  [[nodiscard]] std::vector<TagId> system_with_prefix(std::string_view prefix) const;

  // A new dictionary holding these tags too; names already present are
  // skipped. For k new names among n: O(k log k + k log n) comparisons,
  // O(n / 256) chunk pointers, O(shards) shard pointers, O(system tags / 64)
  // leaf pointers, one copy of each chunk, shard and leaf the new names land
  // in (a few hundred entries each), and a copy of the users' sorted ids if
  // a user's tag is new. When the shards grow too full they are all rebuilt
  // at twice the count: O(n), amortised O(1) a name.
  [[nodiscard]] std::shared_ptr<const TagDictionary> with_added(std::span<const std::string> names) const;

  // How many of this dictionary's hash shards are the very ones `other`
  // holds, and how many it has (tests: what with_added copied).
  [[nodiscard]] std::size_t shards_shared_with(const TagDictionary& other) const;
  [[nodiscard]] std::size_t shard_count() const { return shards_.size(); }

  // Builds a dictionary from names in id order (snapshot loading). Duplicate
  // names are an error (returns nullptr).
  [[nodiscard]] static std::shared_ptr<const TagDictionary> from_names(std::vector<std::string> names);

 private:
  // A name with its hash, which picks the shard and places it in the shard:
  // computed once per lookup, and kept with the key so that copying a shard
  // (once per new name) rehashes nothing.
  struct HashedName {
    explicit HashedName(std::string_view n) : name(n), hash(StringHash{}(n)) {}
    std::string_view name;
    std::size_t hash;
  };
  struct HashedNameHash {
    std::size_t operator()(const HashedName& k) const noexcept { return k.hash; }
  };
  struct HashedNameEq {
    bool operator()(const HashedName& a, const HashedName& b) const noexcept {
      return a.hash == b.hash && a.name == b.name;
    }
  };
  using Shard = boost::unordered_flat_map<HashedName, TagId, HashedNameHash, HashedNameEq>;  // keys view names_
  // Shards hold about kShardLoad names after a rebuild; a shard is rebuilt
  // with the rest when the average reaches twice that.
  static constexpr std::size_t kShardLoad = 512;

  // All shards from names_, their count fitted to size(). Duplicate names:
  // false.
  [[nodiscard]] bool rebuild_shards();
  // The top bits of the hash (boost's table places by bits it mixes itself,
  // so shards stay evenly used).
  [[nodiscard]] std::size_t shard_of(const HashedName& key) const {
    return shard_bits_ == 0 ? 0 : key.hash >> (sizeof(std::size_t) * 8 - shard_bits_);
  }
  void rebuild_sorted();
  // Tags in `range` whose names start with `prefix`.
  [[nodiscard]] std::span<const TagId> prefix_range(std::span<const TagId> range, std::string_view prefix) const;

  // Names by TagId. Each is its own immutable string, so a shard's key views
  // stay valid in every dictionary that shares the shard (they all hold the
  // name) however the chunks around it are copied.
  CowVector<std::shared_ptr<const std::string>> names_;
  std::size_t size_ = 0;
  // Name -> TagId in 2^shard_bits_ shards.
  std::vector<std::shared_ptr<const Shard>> shards_ = {std::make_shared<const Shard>()};
  unsigned shard_bits_ = 0;
  // Users' TagIds in byte order of names; shared by dictionaries with the
  // same users' tags.
  std::shared_ptr<const std::vector<TagId>> sorted_ = std::make_shared<const std::vector<TagId>>();
  // System tags by name (keys view names_, like the shards').
  CowSortedMap<TagId, 64, std::string_view> system_;
};

}  // namespace crowd
