// The codec between an ID as text (requests, uploads, exports) and the key
// bytes index/ stores for it.
//
// Keys are what make lookups cheap and exact: a u64 is its 8 bytes
// (little-endian, like every integer index/ writes), a digest its 16 or 32
// raw bytes rather than 32 or 64 hex characters in either case, a string ID
// its bytes as given. Text comes back in one canonical form: decimal, the
// string, lower-case hex.
//
// encode_id sits on the hot path of list matching (millions of IDs a
// second), so it takes no locks, and encode_id_into reuses the caller's
// buffers: with a warm EncodedId, a u64, string or hex ID costs no
// allocation, and a plain value one digest (0.1-0.2 us).
//
// IDs are personal data: no error message ever contains the ID, only its
// length or the position of a bad character.
#pragma once

#include <string>
#include <string_view>

#include "identity/id_type.h"

namespace crowd::identity {

struct EncodedId {
  std::string key;
  std::string error;  // "" when key is valid
  [[nodiscard]] bool ok() const { return error.empty(); }
};

// The stored key of an ID given as text.
// - kU64: decimal digits only, 1..20 digits, value <= 2^64-1, → 8 bytes
//   little-endian.
// - kString: 1..max_length bytes of valid UTF-8 (no overlong forms,
//   surrogates or code points past U+10FFFF) with no control characters
//   (bytes < 0x20 or 0x7F), stored as given.
// - kMd5/kSha256: exactly 32/64 hex characters, either case → 16/32 raw bytes.
// With `plain` (a request's "hash": true), for hashed kinds only: the value
// is normalised per the type's normalization (none: the bytes as given,
// non-empty), then digested. `plain` for u64 and string types is an error.
// `type` should be complete (complete_and_check); a max_length of 0 means the
// default 128.
[[nodiscard]] EncodedId encode_id(const IdType& type, std::string_view text, bool plain);
// The same into `out`, reusing its buffers: on success out.key is the key and
// out.error empty; on failure out.error says why and out.key is unspecified.
void encode_id_into(const IdType& type, std::string_view text, bool plain, EncodedId& out);

// The text of a stored key, appended to `out`: u64 decimal, string as
// stored, digests lower-case hex. `key` should be one encode_id made for
// this type; a fixed-width key of another width (a corrupt store) comes out
// as the hex of its bytes rather than anything undefined.
void append_id_text(const IdType& type, std::string_view key, std::string& out);
[[nodiscard]] std::string id_text(const IdType& type, std::string_view key);

}  // namespace crowd::identity
