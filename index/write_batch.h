// WriteBatch: one atomic write (an ingest body, an assign request, a delete).
//
// Tag names are interned once per batch, so a million-line ingest that repeats
// `gender:female` stores the string once; operations refer to batch-local tag
// numbers. The batch is also the write-ahead log's record payload.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "index/ids.h"
#include "index/string_hash.h"

namespace crowd {

class WriteBatch {
 public:
  enum class Kind : uint8_t { kAdd = 1, kRemove = 2, kErase = 3 };
  struct Op {
    Kind kind;
    UserId user;
    uint32_t first_tag;  // into tag_refs()
    uint32_t tag_count;
  };

  // The batch-local number of a tag name, interning it on first use.
  uint32_t intern(std::string_view name);

  // Sets each tag on the user (creating user and tags as needed).
  void add(UserId user, std::span<const uint32_t> local_tags);
  // Clears each tag from the user; unknown users and tags are no-ops.
  void remove(UserId user, std::span<const uint32_t> local_tags);
  // Removes the user from every tag and from the universe.
  void erase(UserId user);

  [[nodiscard]] const std::vector<std::string>& names() const { return names_; }
  [[nodiscard]] const std::vector<Op>& ops() const { return ops_; }
  [[nodiscard]] std::span<const uint32_t> tags_of(const Op& op) const {
    return std::span<const uint32_t>(tag_refs_).subspan(op.first_tag, op.tag_count);
  }
  [[nodiscard]] bool empty() const { return ops_.empty(); }
  // Number of (user, tag) pairs named by the batch.
  [[nodiscard]] std::size_t pair_count() const { return tag_refs_.size(); }

  // Binary encoding for the write-ahead log. decode() returns false on
  // malformed input (it never trusts lengths).
  void encode(std::string& out) const;
  [[nodiscard]] bool decode(std::string_view in);

 private:
  void push(Kind kind, UserId user, std::span<const uint32_t> local_tags);

  std::vector<std::string> names_;
  boost::unordered_flat_map<std::string, uint32_t, StringHash, StringEq> local_ids_;
  std::vector<Op> ops_;
  std::vector<uint32_t> tag_refs_;
};

// What a batch changed.
struct WriteResult {
  uint64_t users = 0;    // add/remove/erase operations applied
  uint64_t added = 0;    // (user, tag) pairs newly set
  uint64_t removed = 0;  // (user, tag) pairs actually cleared
  uint64_t erased = 0;   // users that existed and were deleted
};

}  // namespace crowd
