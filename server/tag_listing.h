// The answer of GET /v1/tags from its rows, written by one function for
// crowdd and for a cluster router (which sums its shards' counts per tag).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace crowd::server {

struct TagRow {
  std::string_view tag;
  uint64_t count = 0;
  bool dated = false;       // has dated events (kind "dated")
  std::string label;        // from the tag library; empty: none
};

// {"tags": [{"tag", "count", "coverage", "kind", "label"?}], "total": matching}
// with coverage = count / universe (0 for an empty universe).
[[nodiscard]] std::string tags_body(std::span<const TagRow> rows, uint64_t universe, uint64_t matching);

}  // namespace crowd::server
