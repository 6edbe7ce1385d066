#include "index/system_tags.h"

#include <cstdio>

namespace crowd::system_tags {
namespace {

constexpr std::size_t kDayDigits = 8;

std::string join(std::string_view kind, std::string_view rest) {
  std::string s;
  s.reserve(2 + kind.size() + rest.size());
  s += kMark;
  s += kind;
  s += kMark;
  s += rest;
  return s;
}

std::optional<int64_t> parse_day_digits(std::string_view digits) {
  if (digits.size() != kDayDigits) return std::nullopt;
  int64_t v = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v - kDayBias;
}

}  // namespace

std::string crowd(std::string_view name) { return join("crowd", name); }
std::string crowd_prefix() { return join("crowd", ""); }
std::string id_type(std::string_view name) { return join("idtype", name); }
std::string id_type_prefix() { return join("idtype", ""); }
std::string field_meta(std::string_view field) { return join("field", field); }
std::string field_meta_prefix() { return join("field", ""); }
std::string exclusive_field(std::string_view field) { return join("excl", field); }
std::string exclusive_field_prefix() { return join("excl", ""); }
std::string activation_record(std::string_view key) { return join("act", key); }
std::string stream_position(std::string_view stream) { return join("stream", stream); }
std::string kept_bitmap(std::string_view key) { return join("keep", key); }
bool is_kept_bitmap(std::string_view name) {
  static const std::string prefix = join("keep", "");
  return name.starts_with(prefix);
}

std::string attribute(std::string_view attribute, int slice) {
  std::string s = attribute_prefix(attribute);
  if (slice < 0) {
    s += 'e';
  } else {
    s += static_cast<char>('0' + slice / 10);
    s += static_cast<char>('0' + slice % 10);
  }
  return s;
}

std::string attribute_prefix(std::string_view attribute) {
  std::string s = join("attr", attribute);
  if (!attribute.empty()) s += kMark;
  return s;
}

std::optional<std::string_view> attribute_of_any(std::string_view name) {
  static const std::string prefix = attribute_prefix("");
  if (!name.starts_with(prefix)) return std::nullopt;
  const auto mark = name.rfind(kMark);
  if (mark == std::string_view::npos || mark < prefix.size()) return std::nullopt;
  return name.substr(prefix.size(), mark - prefix.size());
}

std::optional<std::string_view> attribute_of_exists_tag(std::string_view name) {
  static const std::string prefix = attribute_prefix("");
  if (!name.starts_with(prefix) || name.size() < prefix.size() + 3) return std::nullopt;
  if (name.substr(name.size() - 2) != std::string_view("\x1f" "e", 2)) return std::nullopt;
  return name.substr(prefix.size(), name.size() - prefix.size() - 2);
}

std::string day(std::string_view tag, int64_t day) {
  std::string s = day_prefix(tag);
  char digits[24];
  std::snprintf(digits, sizeof digits, "%08lld", static_cast<long long>(day + kDayBias));
  s += digits;
  return s;
}

std::string day_prefix(std::string_view tag) {
  std::string s = join("day", tag);
  if (!tag.empty()) s += kMark;
  return s;
}

std::string day_prefix_of_tags_starting(std::string_view prefix) { return join("day", prefix); }

std::optional<int64_t> day_of(std::string_view name, std::string_view tag) {
  const std::string prefix = day_prefix(tag);
  if (!name.starts_with(prefix)) return std::nullopt;
  return parse_day_digits(name.substr(prefix.size()));
}

std::optional<int64_t> day_of_any(std::string_view name) {
  static const std::string prefix = day_prefix("");
  if (!name.starts_with(prefix) || name.size() < prefix.size() + kDayDigits + 1) return std::nullopt;
  if (name[name.size() - kDayDigits - 1] != kMark) return std::nullopt;
  return parse_day_digits(name.substr(name.size() - kDayDigits));
}

}  // namespace crowd::system_tags
