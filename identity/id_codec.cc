#include "identity/id_codec.h"

#include <charconv>
#include <cstdint>
#include <span>

#include <simdjson.h>

#include "identity/digest.h"
#include "identity/normalize.h"
#include "index/byte_order.h"

namespace crowd::identity {
namespace {

constexpr std::size_t kMaxU64Digits = 20;  // 18446744073709551615

enum class TextCheck { kOk, kControl, kBadUtf8 };

// Whether `s` is well-formed UTF-8 (RFC 3629: shortest form only, no
// surrogates, nothing past U+10FFFF; simdjson's validator, as the server's
// request parsers use) without control characters, reporting whichever
// problem comes first. Device IDs are ASCII: one pass, no validator call.
TextCheck check_text(std::string_view s) {
  std::size_t control = 0;  // the first control byte, or s.size()
  bool ascii = true;        // before it
  for (; control < s.size(); ++control) {
    const auto b = static_cast<unsigned char>(s[control]);
    if (b < 0x20 || b == 0x7F) break;
    ascii = ascii && b < 0x80;
  }
  // A sequence cut short by the control byte is ill-formed too, and first.
  if (!ascii && !simdjson::validate_utf8(s.data(), control)) return TextCheck::kBadUtf8;
  return control < s.size() ? TextCheck::kControl : TextCheck::kOk;
}

std::string_view digest_name(IdKind kind) { return kind == IdKind::kMd5 ? "an MD5 digest" : "a SHA-256 digest"; }

void encode_u64(std::string_view text, EncodedId& out) {
  if (text.size() > kMaxU64Digits) {
    out.error = "expected a u64 of 1 to 20 decimal digits, got " + std::to_string(text.size()) + " characters";
    return;
  }
  for (const char c : text) {
    if (c < '0' || c > '9') {
      out.error = "expected a u64 of decimal digits only (no sign, spaces or other characters)";
      return;
    }
  }
  uint64_t value = 0;
  if (std::from_chars(text.data(), text.data() + text.size(), value).ec != std::errc()) {
    out.error = "u64 out of range: at most 18446744073709551615";
    return;
  }
  out.key.resize(8);
  le::store_u64(out.key.data(), value);
}

void encode_string(const IdType& type, std::string_view text, EncodedId& out) {
  const uint32_t max = type.max_length == 0 ? kDefaultStringMaxLength : type.max_length;
  if (text.size() > max) {
    out.error = "ID is " + std::to_string(text.size()) + " bytes; id type " + type.name + " allows at most " +
                std::to_string(max);
    return;
  }
  switch (check_text(text)) {
    case TextCheck::kOk:
      out.key.assign(text);
      return;
    case TextCheck::kControl:
      out.error = "ID contains a control character";
      return;
    case TextCheck::kBadUtf8:
      out.error = "ID is not valid UTF-8";
      return;
  }
}

void encode_hex_digest(IdKind kind, std::string_view text, EncodedId& out) {
  const std::size_t bytes = fixed_key_bytes(kind);
  out.key.resize(bytes);
  const std::span<uint8_t> raw(reinterpret_cast<uint8_t*>(out.key.data()), bytes);
  if (parse_hex(text, raw)) return;
  out.error = "expected " + std::to_string(2 * bytes) + " hex characters (" + std::string(digest_name(kind)) + "), ";
  if (text.size() != 2 * bytes) {
    out.error += "got " + std::to_string(text.size()) + " characters";
  } else {
    out.error += "got a character other than 0-9, a-f, A-F";
  }
  // Every route that takes IDs calls its switch "hash" (a field or a URL
  // parameter).
  out.error += "; plain values are hashed here only when the request says \"hash\"";
}

void encode_plain(const IdType& type, std::string_view text, EncodedId& out) {
  if (!is_hashed(type.kind)) {
    out.error = "id type " + type.name + " is not hashed; drop \"hash\"";
    return;
  }
  // The normalised value lives only until it is digested; one buffer per
  // thread keeps a list of emails from allocating per ID.
  thread_local std::string normalized;
  std::string_view value = text;
  switch (type.normalization) {
    case Normalization::kNone:
      if (text.empty()) {
        out.error = "the value to hash is empty";
        return;
      }
      break;
    case Normalization::kPhone:
      if (!normalize_phone_into(text, type.default_country_code, normalized, out.error)) return;
      value = normalized;
      break;
    case Normalization::kEmail:
      if (!normalize_email_into(text, normalized, out.error)) return;
      value = normalized;
      break;
  }
  if (type.kind == IdKind::kMd5) {
    const auto d = md5(value);
    out.key.assign(reinterpret_cast<const char*>(d.data()), d.size());
  } else {
    const auto d = sha256(value);
    out.key.assign(reinterpret_cast<const char*>(d.data()), d.size());
  }
}

}  // namespace

void encode_id_into(const IdType& type, std::string_view text, bool plain, EncodedId& out) {
  out.key.clear();
  out.error.clear();
  if (plain) {
    encode_plain(type, text, out);
    return;
  }
  if (text.empty()) {
    out.error = "ID is empty";
    return;
  }
  switch (type.kind) {
    case IdKind::kU64:
      encode_u64(text, out);
      return;
    case IdKind::kString:
      encode_string(type, text, out);
      return;
    case IdKind::kMd5:
    case IdKind::kSha256:
      encode_hex_digest(type.kind, text, out);
      return;
  }
  out.error = "id type " + type.name + " has no known kind";
}

EncodedId encode_id(const IdType& type, std::string_view text, bool plain) {
  EncodedId out;
  encode_id_into(type, text, plain, out);
  return out;
}

void append_id_text(const IdType& type, std::string_view key, std::string& out) {
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(key.data()), key.size());
  if (type.kind == IdKind::kString) {
    out.append(key);
  } else if (type.kind == IdKind::kU64 && key.size() == 8) {
    char buf[kMaxU64Digits];
    const auto end = std::to_chars(buf, buf + sizeof buf, le::load_u64(key.data())).ptr;
    out.append(buf, end);
  } else {
    append_hex(bytes, out);
  }
}

std::string id_text(const IdType& type, std::string_view key) {
  std::string out;
  append_id_text(type, key, out);
  return out;
}

}  // namespace crowd::identity
