// WriteBatch: one atomic write (an ingest body, an assign request, a delete).
//
// Tag names are interned once per batch, so a million-line ingest that repeats
// `gender:female` stores the string once; operations refer to batch-local tag
// numbers. The batch is also the write-ahead log's record payload.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "index/bitmap.h"
#include "index/ids.h"
#include "index/string_hash.h"

namespace crowd {

// Besides users' tags a batch carries the index's own state (system tags,
// index/system_tags.h): numeric values, whole-bitmap replacements (saved
// crowds) and clears (retention, deleted crowds), and named metadata entries.
// Tag operations apply in order; value operations apply after them, in order
// among themselves (no writer mixes a user's erasure with its values).
class WriteBatch {
 public:
  enum class Kind : uint8_t {
    kAdd = 1,
    kRemove = 2,
    kErase = 3,
    kClearTag = 4,    // tags_of(op)[0] := empty; `user` unused
    kReplaceTag = 5,  // tags_of(op)[0] := bitmaps()[value] AND the universe; `user` unused
    kSetValue = 6,    // user's value of attribute tags_of(op)[0] := value
    kClearValue = 7,  // user has no value of attribute tags_of(op)[0]
    kSetEntry = 8,    // entries()[value]: key := text
    kEraseEntry = 9,  // entries()[value].key removed
  };
  struct Op {
    Kind kind;
    UserId user;
    uint32_t first_tag;  // into tag_refs()
    uint32_t tag_count;
    int64_t value = 0;  // kSetValue: the value; kReplaceTag: into bitmaps(); k*Entry: into entries()
  };
  struct Entry {
    std::string key;
    std::string text;  // kSetEntry only
  };

  // The batch-local number of a tag name, interning it on first use.
  uint32_t intern(std::string_view name);

  // Sets each tag on the user (creating user and tags as needed).
  void add(UserId user, std::span<const uint32_t> local_tags);
  // Clears each tag from the user; unknown users and tags are no-ops.
  void remove(UserId user, std::span<const uint32_t> local_tags);
  // Removes the user from every tag and from the universe.
  void erase(UserId user);
  // Empties a tag (creating nothing if it is unknown).
  void clear_tag(uint32_t local_tag);
  // Makes a tag (created if needed) exactly `ordinals` minus users no longer
  // in the universe when the batch applies. Ordinals are those of the index
  // the batch is applied to: a writer evaluates them from a view and the log
  // replays batches in order, so they mean the same users on replay.
  void replace_tag(uint32_t local_tag, std::shared_ptr<const Bitmap> ordinals);
  // Numeric attributes: `local_attribute` is the interned attribute name
  // (not a tag). Setting a value puts the user in the universe.
  void set_value(UserId user, uint32_t local_attribute, int64_t value);
  void clear_value(UserId user, uint32_t local_attribute);
  // Metadata entries (saved crowds' definitions), kept with the index.
  void set_entry(std::string key, std::string text);
  void erase_entry(std::string key);

  // Typed writes of the index's own tags (system_view.h reads them back);
  // callers never build their names.
  //
  // The batch-local number of `tag`'s day tag for `day` (days since
  // 1970-01-01, within years 0000..9999): adding it to a user records that
  // the user had `tag` on that day (the query language's within()).
  uint32_t intern_day(std::string_view tag, int64_t day);
  // A saved crowd's members become exactly `members` (as replace_tag) and its
  // definition `definition` (opaque to the index), in this one write.
  void save_crowd(std::string_view name, std::shared_ptr<const Bitmap> members, std::string definition);
  // Empties a saved crowd's tag and removes its definition.
  void delete_crowd(std::string_view name);

  [[nodiscard]] const std::vector<std::string>& names() const { return names_; }
  [[nodiscard]] const std::vector<Op>& ops() const { return ops_; }
  [[nodiscard]] std::span<const uint32_t> tags_of(const Op& op) const {
    return std::span<const uint32_t>(tag_refs_).subspan(op.first_tag, op.tag_count);
  }
  [[nodiscard]] const std::vector<std::shared_ptr<const Bitmap>>& bitmaps() const { return bitmaps_; }
  [[nodiscard]] const std::vector<Entry>& entries() const { return entries_; }
  [[nodiscard]] bool empty() const { return ops_.empty(); }
  // Number of (user, tag) pairs named by the batch.
  [[nodiscard]] std::size_t pair_count() const { return tag_refs_.size(); }

  // Binary encoding for the write-ahead log. decode() returns false on
  // malformed input (it never trusts lengths).
  void encode(std::string& out) const;
  [[nodiscard]] bool decode(std::string_view in);

 private:
  void push(Kind kind, UserId user, std::span<const uint32_t> local_tags, int64_t value = 0);

  std::vector<std::string> names_;
  boost::unordered_flat_map<std::string, uint32_t, StringHash, StringEq> local_ids_;
  std::vector<Op> ops_;
  std::vector<uint32_t> tag_refs_;
  std::vector<std::shared_ptr<const Bitmap>> bitmaps_;
  std::vector<Entry> entries_;
};

// What a batch changed.
struct WriteResult {
  uint64_t users = 0;    // add/remove/erase operations applied
  uint64_t added = 0;    // (user, tag) pairs newly set, users' tags only
  uint64_t removed = 0;  // (user, tag) pairs actually cleared, users' tags only
  uint64_t erased = 0;   // users that existed and were deleted
};

}  // namespace crowd
