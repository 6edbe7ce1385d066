#include "identity/id_type.h"

#include <array>
#include <charconv>

namespace crowd::identity {
namespace {

struct KindName {
  IdKind kind;
  std::string_view name;
};
constexpr std::array<KindName, 4> kKindNames = {{
    {IdKind::kU64, "u64"},
    {IdKind::kString, "string"},
    {IdKind::kMd5, "md5"},
    {IdKind::kSha256, "sha256"},
}};

struct NormalizationName {
  Normalization normalization;
  std::string_view name;
};
constexpr std::array<NormalizationName, 3> kNormalizationNames = {{
    {Normalization::kNone, "none"},
    {Normalization::kPhone, "phone"},
    {Normalization::kEmail, "email"},
}};

constexpr char kFieldSeparator = ';';
constexpr std::string_view kFormatVersion = "v1";

bool digit(char c) { return c >= '0' && c <= '9'; }

// 1-3 digits, the first not 0: every ITU country calling code has that shape.
bool valid_country_code(std::string_view cc) {
  if (cc.empty() || cc.size() > 3 || cc[0] == '0') return false;
  for (const char c : cc) {
    if (!digit(c)) return false;
  }
  return true;
}

}  // namespace

std::optional<IdKind> id_kind_from_name(std::string_view name) {
  for (const auto& k : kKindNames) {
    if (k.name == name) return k.kind;
  }
  return std::nullopt;
}

std::string_view id_kind_name(IdKind kind) {
  for (const auto& k : kKindNames) {
    if (k.kind == kind) return k.name;
  }
  return {};
}

std::optional<Normalization> normalization_from_name(std::string_view name) {
  for (const auto& n : kNormalizationNames) {
    if (n.name == name) return n.normalization;
  }
  return std::nullopt;
}

std::string_view normalization_name(Normalization normalization) {
  for (const auto& n : kNormalizationNames) {
    if (n.normalization == normalization) return n.name;
  }
  return {};
}

bool valid_id_type_name(std::string_view name) {
  if (name.empty() || name.size() > 32 || name[0] < 'a' || name[0] > 'z') return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || digit(c) || c == '_')) return false;
  }
  return true;
}

std::string complete_and_check(IdType& type) {
  if (!valid_id_type_name(type.name)) {
    return "name must be 1 to 32 characters of a-z, 0-9 and _, starting with a letter";
  }
  if (id_kind_name(type.kind).empty()) return "kind must be one of u64, string, md5, sha256";
  if (type.name == kBuiltInUid && type.kind != IdKind::kU64) {
    return "name uid is reserved for the built-in u64 type";
  }
  if (normalization_name(type.normalization).empty()) return "normalization must be one of none, phone, email";
  if (type.normalization != Normalization::kNone && !is_hashed(type.kind)) {
    return "normalization applies only to md5 and sha256 types";
  }
  if (type.kind == IdKind::kString) {
    if (type.max_length == 0) type.max_length = kDefaultStringMaxLength;
    if (type.max_length > kMaxStringMaxLength) return "max_length must be 1 to 256 for string types";
  } else if (type.max_length != 0) {
    return "max_length applies only to string types";
  }
  if (type.normalization == Normalization::kPhone) {
    if (type.default_country_code.empty()) type.default_country_code = kDefaultCountryCode;
    if (!valid_country_code(type.default_country_code)) {
      return "default_country_code must be 1 to 3 digits, not starting with 0";
    }
  } else if (!type.default_country_code.empty()) {
    return "default_country_code applies only to phone normalization";
  }
  return {};
}

std::size_t fixed_key_bytes(IdKind kind) {
  switch (kind) {
    case IdKind::kU64:
      return 8;
    case IdKind::kMd5:
      return 16;
    case IdKind::kSha256:
      return 32;
    case IdKind::kString:
      break;
  }
  return 0;
}

std::string encode_id_type(const IdType& type) {
  char length[16];
  const auto end = std::to_chars(length, length + sizeof length, type.max_length).ptr;
  std::string out(kFormatVersion);
  out += kFieldSeparator;
  out += id_kind_name(type.kind);
  out += kFieldSeparator;
  out += normalization_name(type.normalization);
  out += kFieldSeparator;
  out.append(length, end);
  out += kFieldSeparator;
  out += type.default_country_code;
  return out;
}

std::optional<IdType> decode_id_type(std::string_view name, std::string_view text) {
  std::array<std::string_view, 5> fields;
  std::size_t n = 0;
  for (std::size_t start = 0;;) {
    const std::size_t end = text.find(kFieldSeparator, start);
    if (n == fields.size()) return std::nullopt;  // too many fields
    fields[n++] = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (n != fields.size() || fields[0] != kFormatVersion) return std::nullopt;
  const auto kind = id_kind_from_name(fields[1]);
  const auto normalization = normalization_from_name(fields[2]);
  if (!kind || !normalization) return std::nullopt;
  uint32_t max_length = 0;
  const std::string_view length = fields[3];
  const auto parsed = std::from_chars(length.data(), length.data() + length.size(), max_length);
  if (length.empty() || parsed.ec != std::errc() || parsed.ptr != length.data() + length.size()) return std::nullopt;

  IdType type{std::string(name), *kind, *normalization, max_length, std::string(fields[4])};
  // Only complete, valid definitions are stored, and only in the one form
  // encode_id_type writes ("v1;string;none;0128;" is not a definition).
  IdType completed = type;
  if (!complete_and_check(completed).empty() || completed != type || encode_id_type(type) != text) {
    return std::nullopt;
  }
  return type;
}

}  // namespace crowd::identity
