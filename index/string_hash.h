// Transparent hashing for string-keyed maps, so lookups by string_view do not
// allocate a std::string.
#pragma once

#include <functional>
#include <string_view>

namespace crowd {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct StringEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
};

}  // namespace crowd
