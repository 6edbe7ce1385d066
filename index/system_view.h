// SystemView: typed questions about the index's own bitmaps — numeric
// attributes' slices, dated tags' days, saved crowds — asked of one IndexView.
//
// They are stored as system tags (index/system_tags.h) so that the log,
// snapshots, copy on write and erasure cover them for free; this class is the
// only door through which code outside index/ reads them, so no other folder
// builds or parses their names. Writes go through the typed WriteBatch and
// BulkLoader calls (intern_day, save_crowd, delete_crowd, day, value_tags).
//
// Cost: every lookup is a dictionary hash lookup per bitmap (an attribute is
// 65 of them, a few microseconds); listings are one binary search plus a walk
// of the matching names. A cached per-view index of system tags was the
// alternative: it would cost memory and a build on every published write for
// lookups that are noise next to the bitmap work that follows them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "index/ids.h"
#include "index/index_view.h"

namespace crowd {

class WriteBatch;

// One numeric attribute as bit slices: `exists` holds the users that have a
// value; bits[b] the users whose value, in offset binary (to_offset_binary),
// has bit b set. Every slice is a subset of `exists`.
struct AttributeSlices {
  static constexpr int kBits = 64;
  const TagBits* exists = nullptr;           // never null in a found attribute
  std::array<const TagBits*, kBits> bits{};  // null: never written, so clear for every value

  // Offset binary (value XOR 2^63): unsigned order of the encoded values is
  // signed order of the values, so range walks over slices need no sign case.
  [[nodiscard]] static constexpr uint64_t to_offset_binary(int64_t v) {
    return static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
  }
  [[nodiscard]] static constexpr int64_t from_offset_binary(uint64_t u) {
    return static_cast<int64_t>(u ^ (uint64_t{1} << 63));
  }
};

// One day tag of a dated tag: the users that had the tag on `day` (days since
// 1970-01-01, negative before).
struct DayTag {
  int64_t day;
  TagId id;
  std::string_view tag = {};  // the dated tag's name (all_days() only); valid as long as the view
};

// A saved crowd: its members' tag and its definition as the server stored it.
struct SavedCrowdTag {
  TagId id;
  std::string_view definition;  // valid as long as the view
};

class SystemView {
 public:
  explicit SystemView(const IndexView& view) : view_(view) {}

  // An attribute's slices, nullopt when no user ever had a value of it (or
  // the name could not be an attribute's). 65 lookups.
  [[nodiscard]] std::optional<AttributeSlices> attribute(std::string_view name) const;
  // Every attribute that has (or had) values, in byte order. O(attribute tags).
  [[nodiscard]] std::vector<std::string> attributes() const;

  // The tag's day tag for `day`, nullopt if no event was ever written for it.
  [[nodiscard]] std::optional<TagId> day(std::string_view tag, int64_t day) const;
  // Every day tag of `tag`, in day order. O(log n + days of the tag).
  [[nodiscard]] std::vector<DayTag> days(std::string_view tag) const;
  // The day tags of `tag` with first <= day <= last, in day order.
  [[nodiscard]] std::vector<TagId> days_between(std::string_view tag, int64_t first, int64_t last) const;
  // The same for every tag starting with `prefix` (a window over a
  // category): one range of the dictionary, O(day tags of those tags) --
  // not a lookup per matching tag, most of which have no days.
  [[nodiscard]] std::vector<TagId> days_between_prefix(std::string_view prefix, int64_t first, int64_t last) const;
  // Whether any tag starting with `prefix` has a day tag. O(log n).
  [[nodiscard]] bool has_days_with_prefix(std::string_view prefix) const;
  // Non-empty day tags (of every tag) older than `horizon`. O(all day tags).
  [[nodiscard]] std::vector<DayTag> days_before(int64_t horizon) const;
  // The same among the day tags `written` names only. O(names in the batch).
  [[nodiscard]] std::vector<DayTag> days_before(int64_t horizon, const WriteBatch& written) const;
  // The day of a day tag; nullopt for any other tag. O(name length).
  [[nodiscard]] std::optional<int64_t> day_of(TagId id) const;
  // The users' tags that have day tags (names valid as long as the view).
  // O(all day tags).
  [[nodiscard]] std::unordered_set<std::string_view> dated_tags() const;
  // Every day tag of every tag, in byte order of (tag, day), with the tag's
  // name. O(all day tags).
  [[nodiscard]] std::vector<DayTag> all_days() const;

  // A saved crowd by name: nullopt unless both its tag and its definition
  // are there. O(log entries).
  [[nodiscard]] std::optional<SavedCrowdTag> saved_crowd(std::string_view name) const;
  // Saved crowds' names, in byte order. O(saved crowds).
  [[nodiscard]] std::vector<std::string> saved_crowds() const;

  // ID types' definitions (WriteBatch::define_id_type) as (name, definition),
  // in byte order of names; the views live as long as the IndexView.
  // O(log entries + types).
  [[nodiscard]] std::vector<std::pair<std::string_view, std::string_view>> id_types() const;
  // One ID type's definition, nullopt if it is not defined. O(log entries).
  [[nodiscard]] std::optional<std::string_view> id_type(std::string_view name) const;

  // The tag library (WriteBatch::set_field_meta / set_exclusive_field):
  // fields' descriptions as (field, text) in field order, one field's, and
  // whether a field is exclusive. O(log entries + answer).
  [[nodiscard]] std::vector<std::pair<std::string_view, std::string_view>> field_metas() const;
  [[nodiscard]] std::optional<std::string_view> field_meta(std::string_view field) const;
  [[nodiscard]] bool exclusive(std::string_view field) const;
  // Activation's records (WriteBatch::set_activation_record): one by key,
  // and every one whose key starts with `prefix` as (key, text) in byte
  // order of keys. Views live as long as the IndexView. O(log entries [+ matches]).
  [[nodiscard]] std::optional<std::string_view> activation_record(std::string_view key) const;
  [[nodiscard]] std::vector<std::pair<std::string_view, std::string_view>> activation_records(
      std::string_view prefix) const;
  // A cluster replica's position in write stream `stream`
  // (WriteBatch::set_stream_position), nullopt when it never applied one.
  // O(log entries).
  [[nodiscard]] std::optional<uint64_t> stream_position(std::string_view stream) const;
  // A kept bitmap (WriteBatch::keep_bitmap) by key, nullopt if never kept;
  // and every one whose key starts with `prefix`, as (key, tag), dropped
  // (empty) ones included. O(1) expected [O(log n + matches)].
  [[nodiscard]] std::optional<TagId> kept_bitmap(std::string_view key) const;
  [[nodiscard]] std::vector<std::pair<std::string_view, TagId>> kept_bitmaps(std::string_view prefix) const;

 private:
  // One entry's text, nullopt if there is none. O(log entries).
  [[nodiscard]] std::optional<std::string_view> entry(std::string_view key) const;
  // Entries whose keys start with `kind` + `more`, as (key without `kind`,
  // text), in key order. O(log entries + matches).
  [[nodiscard]] std::vector<std::pair<std::string_view, std::string_view>> entries_under(
      std::string_view kind, std::string_view more = {}) const;
  const IndexView& view_;
};

}  // namespace crowd
