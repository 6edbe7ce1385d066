// IndexView: one immutable, consistent version of the whole index.
//
// Readers take a view (Index::view(): one atomic load) and evaluate against it
// for as long as they like; writers never change a published view, they
// publish a new one that shares every untouched tag bitmap with the old (copy
// on write per tag). So a query never blocks behind a write and never sees
// half of one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "index/bitmap.h"
#include "index/cow_sorted_map.h"
#include "index/cow_vector.h"
#include "index/dense_chunks.h"
#include "index/id_spaces.h"
#include "index/ids.h"
#include "index/tag_dictionary.h"
#include "index/user_table.h"

namespace crowd {

class SystemView;

// A tag's users with the numbers that are asked for all the time, computed
// once when the bitmap is built.
struct TagBits {
  explicit TagBits(Bitmap b) : bits(std::move(b)), cardinality(bits.cardinality()), bytes(bits.bytes()) {}
  Bitmap bits;
  uint64_t cardinality;
  uint64_t bytes;

  // The larger array containers as bitsets (see dense_chunks.h), built on the
  // first call from any thread; later calls are one atomic check. Never null.
  [[nodiscard]] const DenseChunks& dense() const;

 private:
  mutable std::once_flag dense_once_;
  mutable std::unique_ptr<const DenseChunks> dense_;
};

// One field (the part of a tag before the first ':'): how many tags it has and
// how many users hold at least one of them.
struct FieldStat {
  std::string field;
  uint64_t tags = 0;
  uint64_t users = 0;
};

class IndexView {
 public:
  // Metadata entries (WriteBatch::set_entry): saved crowds' definitions.
  using Entries = CowSortedMap<std::string>;
  // Tags' bitmaps by TagId. A write shares every chunk of the old view's it
  // did not touch (cow_vector.h), so its cost does not grow with the number
  // of tags.
  using Tags = CowVector<std::shared_ptr<const TagBits>>;
  struct Parts {
    std::shared_ptr<const TagDictionary> dictionary;
    Tags tags;
    std::shared_ptr<const TagBits> universe;
    std::shared_ptr<const UserTable> users;
    uint32_t ordinal_count = 0;  // ordinals handed out when this view was made
    uint64_t bitmap_bytes = 0;   // sum of tags' bytes (the universe excluded)
    uint64_t version = 0;        // counts published writes
    std::shared_ptr<const Entries> entries;  // shared by writes without entry operations
    // ID spaces by name (issue 15); shared by writes that define none.
    std::shared_ptr<const IdSpaces> spaces;
    // Users in the universe without a uid (made from other IDs only): their
    // ordinal's external ID reads 0 and means nothing.
    std::shared_ptr<const TagBits> uidless;
  };

  explicit IndexView(Parts parts) : p_(std::move(parts)) {
    if (!p_.entries) p_.entries = std::make_shared<const Entries>();
    if (!p_.spaces) p_.spaces = std::make_shared<const IdSpaces>();
    if (!p_.uidless) p_.uidless = std::make_shared<const TagBits>(Bitmap());
  }
  IndexView(const IndexView&) = delete;
  IndexView& operator=(const IndexView&) = delete;

  [[nodiscard]] const TagDictionary& dictionary() const { return *p_.dictionary; }
  [[nodiscard]] std::size_t tag_count() const { return p_.tags.size(); }
  // id < tag_count().
  [[nodiscard]] const TagBits& tag(TagId id) const { return *p_.tags[id]; }
  [[nodiscard]] const TagBits& universe() const { return *p_.universe; }
  // The external ID of an ordinal below ordinal_count(). O(1).
  [[nodiscard]] UserId external(Ordinal o) const { return p_.users->external(o); }
  [[nodiscard]] uint32_t ordinal_count() const { return p_.ordinal_count; }
  [[nodiscard]] uint64_t bitmap_bytes() const { return p_.bitmap_bytes; }
  [[nodiscard]] uint64_t version() const { return p_.version; }
  // Never null.
  [[nodiscard]] const Entries& entries() const { return *p_.entries; }
  // Never null.
  [[nodiscard]] const IdSpaces& id_spaces() const { return *p_.spaces; }
  // Users of the universe that have no uid (see Parts::uidless).
  [[nodiscard]] const TagBits& uidless() const { return *p_.uidless; }
  // The user of this view a key of `space` belongs to: the space's owner if
  // that ordinal is in this view's universe, so a user a later write made is
  // not found. A key a later write linked to a user of this view is: links
  // only add names for a user, and the writer links them before it
  // publishes. O(1) expected.
  [[nodiscard]] std::optional<Ordinal> owner(const IdSpace& space, std::string_view key) const {
    const auto o = space.find(key);
    if (!o || *o >= p_.ordinal_count || !p_.universe->bits.contains(*o)) return std::nullopt;
    return o;
  }
  [[nodiscard]] const Parts& parts() const { return p_; }

  // A user's tag by name: nullopt for unknown names and for every name of the
  // index's own tags (system_view.h), which users cannot name. O(1) expected.
  [[nodiscard]] std::optional<TagId> find_tag(std::string_view name) const;
  // Users' tags in byte order of their names (system tags excluded).
  [[nodiscard]] std::span<const TagId> user_tags() const { return p_.dictionary->sorted(); }
  // Typed questions about values, days and saved crowds (system_view.h,
  // which callers include). O(1).
  [[nodiscard]] SystemView system() const;

  // Per-field tag counts and union sizes, in byte order of field names.
  // Computed on first call (a union over every tag: O(total bitmap size)) and
  // kept for the life of the view.
  [[nodiscard]] const std::vector<FieldStat>& field_stats() const;

 private:
  Parts p_;
  mutable std::once_flag fields_once_;
  mutable std::vector<FieldStat> fields_;
};

}  // namespace crowd
