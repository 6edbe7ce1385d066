#include "server/page_cursor.h"

#include <charconv>
#include <functional>

namespace crowd::server {

// "<next ordinal, hex>-<query hash, hex>"
std::string PageCursor::encode() const {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, next, 16);
  *r.ptr++ = '-';
  r = std::to_chars(r.ptr, buf + sizeof buf, query_hash, 16);
  return std::string(buf, r.ptr);
}

std::optional<PageCursor> PageCursor::decode(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == text.size()) return std::nullopt;
  PageCursor c;
  const char* end = text.data() + dash;
  auto r = std::from_chars(text.data(), end, c.next, 16);
  if (r.ec != std::errc() || r.ptr != end) return std::nullopt;
  end = text.data() + text.size();
  r = std::from_chars(text.data() + dash + 1, end, c.query_hash, 16);
  if (r.ec != std::errc() || r.ptr != end) return std::nullopt;
  return c;
}

uint32_t PageCursor::hash_query(std::string_view q) {
  const uint64_t h = std::hash<std::string_view>{}(q);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

}  // namespace crowd::server
