// PageCursor: where the next page of /v1/ids starts, sealed so that only
// this process can make one.
//
// Pages walk the crowd in ordinal order (the order users first appeared),
// which is stable as the index changes: a page starts at the first crowd
// member at or after the cursor's ordinal, in the index as it is then.
//
// A cursor is "<next ordinal, hex>-<tag, 32 hex>", the tag a truncated
// HMAC-SHA256 (OpenSSL) of the ordinal and the scope it was issued for: the
// query text, the lenient flag and the caller's token name. A cursor changed
// in any character, made up, or handed to another query or caller is
// refused (issue 14, item 8d: a plain hash of the query let anyone start a
// page at any ordinal of any query). The key is drawn at start (RAND_bytes)
// and never stored, so cursors do not survive a restart: a client whose
// cursor is refused after one starts the walk again. Clients treat the text
// as opaque.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "index/ids.h"

namespace crowd::server {

// What a cursor is good for.
struct CursorScope {
  std::string_view query;
  bool lenient = false;
  std::string_view caller;  // the token's name; empty without --tokens
};

class PageCursors {
 public:
  // A fresh random key. Throws std::runtime_error when the system has no
  // randomness to give (a server must not issue guessable cursors).
  PageCursors();
  // A given key: processes that share it open each other's cursors (the
  // replicas of a cluster's shard, its routers: --cursor-key-file).
  explicit PageCursors(const std::array<unsigned char, 32>& key) : key_(key) {}

  // The cursor of the page that starts at `next`. O(query length).
  [[nodiscard]] std::string issue(Ordinal next, const CursorScope& scope) const;
  // The ordinal a cursor starts at, or nullopt when `text` is not a cursor
  // this process issued for `scope`. Constant-time in the tag.
  [[nodiscard]] std::optional<Ordinal> open(std::string_view text, const CursorScope& scope) const;

 private:
  static constexpr std::size_t kTagBytes = 16;  // 128 bits: forging one is 2^-128 a try
  using Tag = std::array<unsigned char, kTagBytes>;
  [[nodiscard]] Tag tag(Ordinal next, const CursorScope& scope) const;

  std::array<unsigned char, 32> key_{};
};

// The key of --cursor-key-file: 64 hex digits (32 bytes), surrounding
// whitespace ignored. nullopt with `error` otherwise.
[[nodiscard]] std::optional<std::array<unsigned char, 32>> load_cursor_key(const std::string& path,
                                                                           std::string& error);

}  // namespace crowd::server
