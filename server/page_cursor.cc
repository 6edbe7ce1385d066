#include "server/page_cursor.h"

#include <fstream>
#include <iterator>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace crowd::server {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// The 4 bytes of `v`, little-endian.
void append_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

}  // namespace

PageCursors::PageCursors() {
  if (RAND_bytes(key_.data(), static_cast<int>(key_.size())) != 1) {
    throw std::runtime_error("no randomness for the page cursor key (RAND_bytes failed)");
  }
}

PageCursors::Tag PageCursors::tag(Ordinal next, const CursorScope& scope) const {
  // Each variable-length field is preceded by its length, so no two scopes
  // share a message ("ab" + "c" differs from "a" + "bc").
  std::string message("crowd-cursor-1");
  append_u32(message, next);
  message.push_back(scope.lenient ? 1 : 0);
  append_u32(message, static_cast<uint32_t>(scope.caller.size()));
  message.append(scope.caller);
  append_u32(message, static_cast<uint32_t>(scope.query.size()));
  message.append(scope.query);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), mac, &length);
  Tag out;
  std::copy_n(mac, out.size(), out.begin());
  return out;
}

std::string PageCursors::issue(Ordinal next, const CursorScope& scope) const {
  char buf[16];
  const auto r = std::to_chars(buf, buf + sizeof buf, next, 16);
  std::string out(buf, r.ptr);
  out.push_back('-');
  for (const unsigned char b : tag(next, scope)) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

std::optional<Ordinal> PageCursors::open(std::string_view text, const CursorScope& scope) const {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos || dash == 0 || text.size() - dash - 1 != 2 * kTagBytes) return std::nullopt;
  // Only the text issue() writes: lower-case hex, no leading zeros, so one
  // ordinal has one spelling.
  if (dash > 1 && text[0] == '0') return std::nullopt;
  Ordinal next = 0;
  const auto r = std::from_chars(text.data(), text.data() + dash, next, 16);
  if (r.ec != std::errc() || r.ptr != text.data() + dash) return std::nullopt;
  Tag given;
  for (std::size_t i = 0; i < kTagBytes; ++i) {
    int byte = 0;
    for (int half = 0; half < 2; ++half) {
      const char c = text[dash + 1 + 2 * i + half];
      const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (v < 0) return std::nullopt;
      byte = byte * 16 + v;
    }
    given[i] = static_cast<unsigned char>(byte);
  }
  for (std::size_t i = 0; i < dash; ++i) {
    if (text[i] >= 'A' && text[i] <= 'F') return std::nullopt;
  }
  const Tag expected = tag(next, scope);
  if (CRYPTO_memcmp(given.data(), expected.data(), kTagBytes) != 0) return std::nullopt;
  return next;
}

std::optional<std::array<unsigned char, 32>> load_cursor_key(const std::string& path, std::string& error) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) {
    error = "cannot read the cursor key file " + path;
    return std::nullopt;
  }
  const auto first = text.find_first_not_of(" \t\r\n");
  const auto last = text.find_last_not_of(" \t\r\n");
  const std::string_view hex =
      first == std::string::npos ? std::string_view() : std::string_view(text).substr(first, last - first + 1);
  std::array<unsigned char, 32> key{};
  const auto digit = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
  };
  bool ok = hex.size() == 2 * key.size();
  for (std::size_t i = 0; ok && i < key.size(); ++i) {
    const int hi = digit(hex[2 * i]);
    const int lo = digit(hex[2 * i + 1]);
    ok = hi >= 0 && lo >= 0;
    key[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  if (!ok) {
    error = "the cursor key file " + path + " must hold 64 hex digits (e.g. from `openssl rand -hex 32`)";
    return std::nullopt;
  }
  return key;
}

}  // namespace crowd::server
