// PageCursor: where the next page of /v1/ids starts.
//
// Pages walk the crowd in ordinal order (the order users first appeared),
// which is stable as the index changes: a page starts at the first crowd
// member at or after the cursor's ordinal, in the index as it is then. The
// cursor also carries a hash of the query text so that a cursor handed to a
// different query is refused rather than silently misapplied. Clients treat it
// as opaque.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "index/ids.h"

namespace crowd::server {

struct PageCursor {
  Ordinal next = 0;
  uint32_t query_hash = 0;

  [[nodiscard]] std::string encode() const;
  // nullopt when the text is not a cursor this server made.
  [[nodiscard]] static std::optional<PageCursor> decode(std::string_view text);
  [[nodiscard]] static uint32_t hash_query(std::string_view q);
};

}  // namespace crowd::server
