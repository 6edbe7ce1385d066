// IdType: what one kind of user identifier is, and how its IDs become key bytes.
//
// Until issue 15 a user was one u64 (`uid`). Ad channels speak other IDs:
// device IDs (OAID, IDFA, CAID) as strings, and phones and emails uploaded
// as MD5 or SHA-256 digests of a normalised value. index/ stores each type's
// IDs as opaque key bytes; this definition is what gives those bytes meaning
// (id_codec.h turns text into keys and back), so it is stored with the index
// (encode_id_type) and never changes once IDs of the type exist.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crowd::identity {

// The values are stored (encode_id_type writes the names, not the numbers,
// but other formats may): never renumber.
enum class IdKind : uint8_t { kU64 = 1, kString = 2, kMd5 = 3, kSha256 = 4 };
// Applied to a plain value before it is digested (hashed kinds only).
enum class Normalization : uint8_t { kNone = 0, kPhone = 1, kEmail = 2 };

struct IdType {
  std::string name;  // [a-z][a-z0-9_]{0,31}
  IdKind kind = IdKind::kString;
  Normalization normalization = Normalization::kNone;  // hashed kinds only
  uint32_t max_length = 0;           // kString: max bytes 1..256 (0 in a request means the default 128); others 0
  std::string default_country_code;  // kPhone only: 1-3 digits, no leading 0; default "86"
  bool operator==(const IdType&) const = default;
};

// The built-in u64 type: today's {"id": N}. A definition may use this name
// only with kind u64.
inline constexpr std::string_view kBuiltInUid = "uid";

// Limits of a kString type's max_length, and the default a request's 0 means.
// 256 bytes holds every device ID and openid seen (36-byte UUIDs, 28-byte
// openids) with room to spare, and bounds a key in the index.
inline constexpr uint32_t kDefaultStringMaxLength = 128;
inline constexpr uint32_t kMaxStringMaxLength = 256;
// Mainland China: the platforms this server feeds mostly see +86 numbers.
inline constexpr std::string_view kDefaultCountryCode = "86";

// "u64", "string", "md5", "sha256" and back. id_kind_name of a value outside
// the enum is "".
[[nodiscard]] std::optional<IdKind> id_kind_from_name(std::string_view name);
[[nodiscard]] std::string_view id_kind_name(IdKind kind);
// "none", "phone", "email" and back; "" for a value outside the enum.
[[nodiscard]] std::optional<Normalization> normalization_from_name(std::string_view name);
[[nodiscard]] std::string_view normalization_name(Normalization normalization);

// Whether `name` is [a-z][a-z0-9_]{0,31}: safe in URLs, JSON keys, file and
// metric names without escaping.
[[nodiscard]] bool valid_id_type_name(std::string_view name);

// Whether IDs of this kind are digests (md5, sha256).
[[nodiscard]] constexpr bool is_hashed(IdKind kind) { return kind == IdKind::kMd5 || kind == IdKind::kSha256; }

// Fills defaults (max_length 128 for strings, "86" for phone) and checks the
// definition: "" when valid, else a one-sentence reason naming the field
// (e.g. "normalization applies only to md5 and sha256 types"). On a reason,
// `type` may have been partly completed.
[[nodiscard]] std::string complete_and_check(IdType& type);

// Key bytes for fixed-width kinds: u64 8, md5 16, sha256 32; kString 0
// (variable, 1..max_length).
[[nodiscard]] std::size_t fixed_key_bytes(IdKind kind);

// Persistence of a definition as compact text (the caller stores it durably,
// keyed by name; the name is not in the text): "v1;<kind>;<normalization>;
// <max_length>;<default_country_code>", e.g. "v1;sha256;phone;0;86".
// encode_id_type is meant for complete definitions (complete_and_check gave
// ""). decode_id_type returns nullopt on anything malformed, never throws: a
// bad name, a text that is not exactly what encode_id_type writes for the
// definition it describes, or a definition that is not complete and valid.
// decode(name, encode(t)) == t for every complete valid t named `name`.
[[nodiscard]] std::string encode_id_type(const IdType& type);
[[nodiscard]] std::optional<IdType> decode_id_type(std::string_view name, std::string_view text);

}  // namespace crowd::identity
