// TagDictionary: the immutable map between UTF-8 tag names and dense TagIds.
//
// Ids are handed out in creation order and never reused, so a bitmap vector
// indexed by TagId stays valid as tags are added. Names are also kept sorted
// by bytes so a prefix ("cat:2520377:*") is one contiguous range found with
// two binary searches. A new tag produces a new dictionary (with_added); the
// old one stays valid for readers that hold it.
//
// with_added must not cost a copy of every name: a saved crowd is a tag, and
// each PUT of a new crowd name made one (plus a sort of every name), so a PUT
// went from ~7 to ~20 ms as crowds grew to 29k (issue 14, item 8b). Names
// live in immutable chunks of kChunk shared by every later dictionary (only
// the last, partial chunk is copied), the hash map (keys: views into them)
// is built afresh without copying a string, and new names are merged into
// the sorted order instead of sorting it again.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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
  [[nodiscard]] const std::string& name(TagId id) const { return (*chunks_[id / kChunk])[id % kChunk]; }
  // Every name, system tags included (index/system_tags.h).
  [[nodiscard]] std::size_t size() const { return size_; }
  // Users' tags only: what listings and counts of tags show.
  [[nodiscard]] std::size_t user_tag_count() const { return size_ - system_count_; }
  // Whether `id` is a system tag.
  [[nodiscard]] bool is_system(TagId id) const;

  // Users' tags in byte order of their names (system tags excluded).
  [[nodiscard]] std::span<const TagId> sorted() const {
    return std::span<const TagId>(sorted_).subspan(system_count_);
  }
  // Users' tags whose names start with `prefix`, in byte order (system tags
  // excluded, even for the empty prefix). O(log n).
  [[nodiscard]] std::span<const TagId> with_prefix(std::string_view prefix) const;
  // System tags whose names start with `prefix` (which should start with
  // system_tags::kMark), in byte order. O(log n).
  [[nodiscard]] std::span<const TagId> system_with_prefix(std::string_view prefix) const;

  // A new dictionary holding these tags too; names already present are
  // skipped. For k new names among n: O(k log k + k log n) comparisons,
  // O(n) hash inserts of views (no string copies), and copies of the sorted
  // ids, O(n / kChunk) chunk pointers and at most kChunk names.
  [[nodiscard]] std::shared_ptr<const TagDictionary> with_added(std::span<const std::string> names) const;

  // Builds a dictionary from names in id order (snapshot loading). Duplicate
  // names are an error (returns nullptr).
  [[nodiscard]] static std::shared_ptr<const TagDictionary> from_names(std::vector<std::string> names);

 private:
  static constexpr std::size_t kChunk = 1024;
  using Chunk = std::vector<std::string>;

  void rebuild_sorted();
  void count_system();
  // Tags in `range` whose names start with `prefix`.
  [[nodiscard]] std::span<const TagId> prefix_range(std::span<const TagId> range, std::string_view prefix) const;

  // Names by TagId, kChunk a chunk. A chunk is never changed once a
  // dictionary holds it, so the string_views in ids_ stay valid for as long
  // as any dictionary sharing the chunk lives.
  std::vector<std::shared_ptr<const Chunk>> chunks_;
  std::size_t size_ = 0;
  std::vector<TagId> sorted_;       // TagIds in byte order of names
  // System tags sort first (their names start with a control byte, users'
  // cannot): sorted_[0, system_count_) are they.
  std::size_t system_count_ = 0;
  boost::unordered_flat_map<std::string_view, TagId, StringHash, StringEq> ids_;  // keys view chunks_
};

}  // namespace crowd
