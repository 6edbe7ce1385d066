// The tag library as a listing reads it: every field's metadata, parsed
// once from one view, and what they say about a tag (its label, its field's
// kind, whether it matches a search).
//
// Built per request from the view's entries (a few fields' JSON, tens of
// microseconds); never on a count's path.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "catalog/field_meta.h"
#include "index/index_view.h"

namespace crowd::catalog {

class Catalog {
 public:
  explicit Catalog(const IndexView& view);

  // The field's metadata, or null when it has none.
  [[nodiscard]] const FieldMeta* field(std::string_view name) const;
  [[nodiscard]] const std::map<std::string, FieldMeta, std::less<>>& fields() const { return fields_; }

  // A tag's label: its value's, the value's first segment's with the rest
  // in parentheses (cat:2520377:pv -> "面部精华 (pv)"), or "" without one.
  [[nodiscard]] std::string label_of(std::string_view tag) const;
  // The parent of a tag's value in the category tree, or "".
  [[nodiscard]] std::string_view parent_of(std::string_view tag) const;

  // Whether `needle` is in the tag's name, its label or its field's label
  // (the field is the part before the first ':', or the whole bare tag):
  // a substring of bytes, ASCII letters in any case (CJK matches as typed).
  [[nodiscard]] bool matches(std::string_view tag, std::string_view needle) const;

 private:
  // The value's entry for a tag: exact, else its first segment's.
  [[nodiscard]] const ValueMeta* value_of(std::string_view tag, std::string_view& rest) const;

  std::map<std::string, FieldMeta, std::less<>> fields_;
};

// `needle` in `haystack`, ASCII letters in any case. O(n * m).
[[nodiscard]] bool contains_folded(std::string_view haystack, std::string_view needle);

}  // namespace crowd::catalog
