#include "activation/record_keys.h"

#include <charconv>
#include <cstdio>

namespace crowd::activation::keys {
namespace {

constexpr char kSep = '\x1f';

std::string join(std::string_view kind, std::string_view a) {
  std::string k(kind);
  k += kSep;
  k += a;
  return k;
}

std::string join(std::string_view kind, std::string_view a, std::string_view b) {
  std::string k = join(kind, a);
  k += kSep;
  k += b;
  return k;
}

std::string number(uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%010llu", static_cast<unsigned long long>(n));
  return buf;
}

}  // namespace

std::string destination(std::string_view name) { return join("dest", name); }
std::string destination_prefix() { return join("dest", ""); }
std::string crowd(std::string_view crowd) { return join("crowd", crowd); }
std::string crowd_prefix() { return join("crowd", ""); }
std::string push(std::string_view crowd, uint64_t seq) { return join("push", crowd, number(seq)); }
std::string push_prefix(std::string_view crowd) { return join("push", crowd, ""); }
std::string gone(std::string_view crowd, std::string_view destination) { return join("gone", crowd, destination); }
std::string gone_prefix(std::string_view crowd) { return join("gone", crowd, ""); }

std::string version(std::string_view crowd, uint64_t version) { return join("ver", crowd, number(version)); }
std::string version_prefix(std::string_view crowd) { return join("ver", crowd, ""); }
std::string cohort(std::string_view crowd, uint64_t version) { return join("cohort", crowd, number(version)); }
std::string cohort_prefix(std::string_view crowd) { return join("cohort", crowd, ""); }
std::string held(std::string_view crowd, uint64_t version) { return join("held", crowd, number(version)); }
std::string held_prefix(std::string_view crowd) { return join("held", crowd, ""); }
std::string version_prefix_all() { return join("ver", ""); }

std::optional<uint64_t> trailing_number(std::string_view key) {
  const auto at = key.rfind(kSep);
  if (at == std::string_view::npos || at + 1 == key.size()) return std::nullopt;
  uint64_t n = 0;
  const char* first = key.data() + at + 1;
  const char* last = key.data() + key.size();
  const auto [end, ec] = std::from_chars(first, last, n);
  if (ec != std::errc() || end != last) return std::nullopt;
  return n;
}

std::string_view name_after(std::string_view key, std::string_view prefix) {
  return key.starts_with(prefix) ? key.substr(prefix.size()) : std::string_view();
}

}  // namespace crowd::activation::keys
