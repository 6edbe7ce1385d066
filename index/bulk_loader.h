// BulkLoader: builds tag bitmaps for a large load (demo data, --load files,
// the Taobao log) far faster than one write batch would, then merges them
// into the index as one new version.
//
// Each tag buffers ordinals and hands them to roaring_bitmap_add_many in runs
// (users mostly arrive in ordinal order, so these are near-appends); bitmaps
// are run-optimised at the end. Writer side: callers serialise with other
// writes, and nothing is visible to readers until finish().
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "index/bitmap.h"
#include "index/index.h"
#include "index/string_hash.h"

namespace crowd {

class BulkLoader {
 public:
  explicit BulkLoader(Index& index) : index_(index) {}

  // The loader-local number of a tag name, interning it on first use.
  uint32_t tag(std::string_view name);
  // The name behind a loader-local number.
  [[nodiscard]] const std::string& name(uint32_t local) const { return names_[local]; }
  // The loader number of `tag`'s day tag for `day` (days since 1970-01-01):
  // adding it records that the user had `tag` on that day (within()).
  uint32_t day(std::string_view tag, int64_t day);
  // Numeric values as tags, for loads too big for WriteBatch::set_value:
  // attribute() numbers an attribute (the same number for the same name);
  // value_tags() appends to `tags` the loader tags that store `value` for it,
  // which add() then sets. Add a user's value of an attribute once: two
  // values would be OR-ed together. Tags are interned on first use, so bits
  // no value has create no tag.
  uint32_t attribute(std::string_view name);
  void value_tags(uint32_t attribute, int64_t value, std::vector<uint32_t>& tags);
  // Sets loader tags on a user. Returns false when the user table is full.
  [[nodiscard]] bool add(UserId user, std::span<const uint32_t> tags);

  // Builds, optimises and publishes. Returns the number of (user, tag)
  // assignments handed in (duplicates included).
  uint64_t finish();

  [[nodiscard]] uint64_t assignments() const { return assignments_; }
  [[nodiscard]] std::size_t users() const { return members_count_; }

 private:
  struct Pending {
    Bitmap bits;
    std::vector<uint32_t> buffer;
  };
  void flush(Pending& p);

  // An attribute's loader tags: [0] users with a value, [1 + b] bit slice b.
  struct Attribute {
    std::string name;
    std::array<uint32_t, 65> tags;  // kNoTag until first used
  };
  uint32_t value_tag(Attribute& a, int slice);

  Index& index_;
  std::vector<Attribute> attributes_;
  std::vector<std::string> names_;
  boost::unordered_flat_map<std::string, uint32_t, StringHash, StringEq> ids_;
  std::vector<Pending> pending_;
  Pending members_;
  std::size_t members_count_ = 0;
  uint64_t assignments_ = 0;
};

}  // namespace crowd
