// A field's entry in the tag library (标签库): what a marketer reads instead
// of `cat:2448765:pv` -- a label in any language, a description, whether a
// user holds one value (exclusive: gender, age band, city) or several
// (multi), labels of its values and where the field and each value sit in a
// category tree (a parent tag such as `兴趣:美妆`, or a parent field).
//
// Stored as JSON text in the index (WriteBatch::set_field_meta), so it goes
// through the log and snapshots like any write; `kind` is also the index's
// exclusive flag (WriteBatch::set_exclusive_field), which writes enforce.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <variant>

namespace crowd::catalog {

enum class FieldKind { kMulti, kExclusive };

struct ValueMeta {
  std::string label;
  std::string parent;  // a tag or field name; "" for none
};

struct FieldMeta {
  std::string label;
  std::string description;
  FieldKind kind = FieldKind::kMulti;
  std::string parent;  // a tag or field name; "" for none
  // By value: the part of a tag after "<field>:" (or its first segment, up
  // to the next ':': a label of `cat` value "2520377" labels
  // cat:2520377:pv, :cart, ...).
  std::map<std::string, ValueMeta, std::less<>> values;
};

// Limits on what a PUT may store.
inline constexpr std::size_t kMaxLabelBytes = 200;
inline constexpr std::size_t kMaxDescriptionBytes = 2000;
inline constexpr std::size_t kMaxValues = 50'000;

// Reads a PUT body or a stored text: {"label"?, "description"?, "kind"?:
// "exclusive"|"multi", "parent"?, "values"?: {value: {"label"?, "parent"?}
// or value: "label"}}. Unknown members, wrong types, over-long texts, bad
// UTF-8, names with control bytes: the error says which.
[[nodiscard]] std::variant<FieldMeta, std::string> parse_field_meta(std::string_view json);

// The stored text (parse_field_meta reads it back to the same FieldMeta).
[[nodiscard]] std::string to_json(const FieldMeta& meta);

[[nodiscard]] std::string_view kind_name(FieldKind kind);

}  // namespace crowd::catalog
