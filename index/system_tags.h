// System tags: the index's own bitmaps, kept in the tag dictionary beside
// users' tags so that every write path, the log, snapshots, copy on write and
// the right to erasure (DELETE /v1/users/{id} clears a user from every tag)
// cover them without a second mechanism.
//
// Only index/ includes this header: other folders ask typed questions of
// SystemView (system_view.h) and write through WriteBatch / BulkLoader's
// typed calls, so the encoding below can change in one place.
//
// A system tag's name starts with kMark (0x1F, ASCII "unit separator"). No
// user tag may start with any control byte (< 0x20; ingest and assign refuse
// them), and every name that does is treated as the index's, so users' names
// and system names never collide. They sort before every user tag and
// are hidden from everything users see: TagDictionary::sorted() and
// with_prefix() skip them, the query language cannot name them, listings
// and /v1/fields do not show them.
//
// Kinds (every field after the kind is separated by kMark, so a user name
// with ':' or '@' in it cannot be confused with the next field):
//   saved crowd     \x1f crowd \x1f <name>
//   numeric value   \x1f attr \x1f <attribute> \x1f e        users with a value
//                   \x1f attr \x1f <attribute> \x1f <bb>     bit slice bb (00..63)
//                   of the value in offset binary (value XOR 2^63), so that
//                   unsigned order of the slices is signed order of values
//   dated tag       \x1f day \x1f <tag> \x1f <dddddddd>       users with <tag> on
//                   that day: days since 1970-01-01 plus kDayBias, 8 digits,
//                   so byte order is date order
//   kept bitmap     \x1f keep \x1f <key>    a bitmap activation keeps (a crowd's
//                   version a destination acknowledged, a push's hold-out;
//                   activation/ composes the key). Erasure clears users from
//                   it like from any tag.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crowd::system_tags {

inline constexpr char kMark = '\x1f';
// Bit slices of a numeric attribute.
inline constexpr int kValueBits = 64;
// Added to a day number so that days 0000-01-01 .. 9999-12-31 are
// non-negative 8-digit numbers.
inline constexpr int64_t kDayBias = 1'000'000;

// Whether a name belongs to the index, not to users. O(1).
[[nodiscard]] inline bool is_system(std::string_view name) {
  return !name.empty() && static_cast<unsigned char>(name.front()) < 0x20;
}

[[nodiscard]] std::string crowd(std::string_view name);
// The prefix every saved crowd's tag starts with.
[[nodiscard]] std::string crowd_prefix();

// Metadata entry keys (not tags) of ID types' definitions (issue 15):
//   ID type         \x1f idtype \x1f <name>
[[nodiscard]] std::string id_type(std::string_view name);
[[nodiscard]] std::string id_type_prefix();
// Field metadata (issue 17, the tag library):
//   field's description  \x1f field \x1f <field>     text the catalogue owns
//   exclusive field      \x1f excl \x1f <field>      "" : a user holds at most
//                        one tag <field>:*; adding one removes the others
[[nodiscard]] std::string field_meta(std::string_view field);
[[nodiscard]] std::string field_meta_prefix();
[[nodiscard]] std::string exclusive_field(std::string_view field);
[[nodiscard]] std::string exclusive_field_prefix();

// A cluster shard replica's place in its write stream (issue 18): the
// sequence of the last stream message applied, written in the same batch as
// the message's effects, so the index and its position never disagree:
//   stream position \x1f stream \x1f <stream name>   decimal text
[[nodiscard]] std::string stream_position(std::string_view stream);

// Activation's records (issue 16): metadata entries whose keys activation/
// composes (destinations, crowds' versions and pushes):
//   record          \x1f act \x1f <key>
// and its kept bitmaps (tags, see above).
[[nodiscard]] std::string activation_record(std::string_view key);
[[nodiscard]] std::string kept_bitmap(std::string_view key);
// Whether `name` is a kept bitmap's tag.
[[nodiscard]] bool is_kept_bitmap(std::string_view name);

// slice -1: the users that have a value; 0..63: bit `slice` of the offset
// binary value.
[[nodiscard]] std::string attribute(std::string_view attribute, int slice);
// The prefix of all of one attribute's tags; attribute_prefix("") is the
// prefix of every attribute's.
[[nodiscard]] std::string attribute_prefix(std::string_view attribute);
// The attribute name of any of an attribute's tags (exists or slice),
// nullopt for other names.
[[nodiscard]] std::optional<std::string_view> attribute_of_any(std::string_view name);
// The attribute name of an "exists" tag (slice -1), nullopt for any other name.
[[nodiscard]] std::optional<std::string_view> attribute_of_exists_tag(std::string_view name);

// `day`: days since 1970-01-01 (negative before), within 0000..9999 years.
[[nodiscard]] std::string day(std::string_view tag, int64_t day);
// The prefix of all of one tag's day tags; day_prefix("") is that of every tag's.
[[nodiscard]] std::string day_prefix(std::string_view tag);
// The beginning every day tag of every tag starting with `prefix` shares.
[[nodiscard]] std::string day_prefix_of_tags_starting(std::string_view prefix);
// The day number of a day tag of `tag` given its full name, nullopt when the
// name is not exactly day_prefix(tag) + 8 digits.
[[nodiscard]] std::optional<int64_t> day_of(std::string_view name, std::string_view tag);
// The day number of any day tag (the last 8 bytes), nullopt for other names.
[[nodiscard]] std::optional<int64_t> day_of_any(std::string_view name);

// Offset binary: order-preserving between int64 and uint64.
[[nodiscard]] constexpr uint64_t to_offset_binary(int64_t v) { return static_cast<uint64_t>(v) ^ (uint64_t{1} << 63); }
[[nodiscard]] constexpr int64_t from_offset_binary(uint64_t u) { return static_cast<int64_t>(u ^ (uint64_t{1} << 63)); }

}  // namespace crowd::system_tags
