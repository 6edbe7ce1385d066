#include "identity/id_codec.h"

#include <charconv>
#include <cstdint>
#include <span>

#include "identity/digest.h"
#include "identity/normalize.h"
#include "index/byte_order.h"

namespace crowd::identity {
namespace {

constexpr std::size_t kMaxU64Digits = 20;  // 18446744073709551615

enum class TextCheck { kOk, kControl, kBadUtf8 };

// Whether `s` is well-formed UTF-8 (RFC 3629: shortest form only, no
// surrogates, nothing past U+10FFFF) without control characters. One pass;
// device IDs are ASCII, which takes the first branch every time.
TextCheck check_text(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* const end = p + s.size();
  while (p < end) {
    const unsigned char b = *p;
    if (b < 0x80) {
      if (b < 0x20 || b == 0x7F) return TextCheck::kControl;
      ++p;
      continue;
    }
    // The continuation bytes a lead byte needs, and the range the first of
    // them must fall in (narrower after E0, ED, F0 and F4: that is what rules
    // out overlong forms, surrogates and code points past U+10FFFF).
    std::size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      need = 2;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return TextCheck::kBadUtf8;  // a continuation byte, C0/C1 (overlong) or F5-FF
    }
    if (static_cast<std::size_t>(end - p) <= need) return TextCheck::kBadUtf8;  // truncated
    if (p[1] < lo || p[1] > hi) return TextCheck::kBadUtf8;
    for (std::size_t i = 2; i <= need; ++i) {
      if (p[i] < 0x80 || p[i] > 0xBF) return TextCheck::kBadUtf8;
    }
    p += need + 1;
  }
  return TextCheck::kOk;
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
  out.error += "; send \"hash\": true to have plain values hashed";
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
