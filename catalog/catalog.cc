#include "catalog/catalog.h"

#include <algorithm>
#include <variant>

#include "index/system_view.h"
#include "index/tag_dictionary.h"

namespace crowd::catalog {

Catalog::Catalog(const IndexView& view) {
  for (const auto& [field, text] : view.system().field_metas()) {
    auto parsed = parse_field_meta(text);
    // Stored texts were checked when they were written.
    if (auto* meta = std::get_if<FieldMeta>(&parsed)) fields_.emplace(std::string(field), std::move(*meta));
  }
}

const FieldMeta* Catalog::field(std::string_view name) const {
  const auto it = fields_.find(name);
  return it == fields_.end() ? nullptr : &it->second;
}

const ValueMeta* Catalog::value_of(std::string_view tag, std::string_view& rest) const {
  rest = {};
  const std::string_view name = tag_field(tag);
  const FieldMeta* meta = name.size() == tag.size() ? nullptr : field(name);  // a bare tag has no value
  if (meta == nullptr) return nullptr;
  const std::string_view value = tag.substr(name.size() + 1);
  if (const auto it = meta->values.find(value); it != meta->values.end()) return &it->second;
  const auto colon = value.find(':');
  if (colon == std::string_view::npos) return nullptr;
  const auto it = meta->values.find(value.substr(0, colon));
  if (it == meta->values.end()) return nullptr;
  rest = value.substr(colon + 1);
  return &it->second;
}

std::string Catalog::label_of(std::string_view tag) const {
  std::string_view rest;
  const ValueMeta* v = value_of(tag, rest);
  if (v == nullptr || v->label.empty()) return "";
  std::string out = v->label;
  if (!rest.empty()) out.append(" (").append(rest).append(")");
  return out;
}

std::string_view Catalog::parent_of(std::string_view tag) const {
  std::string_view rest;
  const ValueMeta* v = value_of(tag, rest);
  return v == nullptr ? std::string_view() : std::string_view(v->parent);
}

bool Catalog::matches(std::string_view tag, std::string_view needle) const {
  if (contains_folded(tag, needle)) return true;
  if (contains_folded(label_of(tag), needle)) return true;
  const FieldMeta* meta = field(tag_field(tag));
  return meta != nullptr && contains_folded(meta->label, needle);
}

bool contains_folded(std::string_view haystack, std::string_view needle) {
  const auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                     [&](char a, char b) { return fold(a) == fold(b); }) != haystack.end();
}

}  // namespace crowd::catalog
