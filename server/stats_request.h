// The request of POST /v1/stats, {"q", "attr", "lenient"?, "as_of"?}: read by
// crowdd's handler and by a cluster router (which finds the percentiles of
// the shards' values itself).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "server/api_error.h"

namespace crowd::server {

struct StatsRequest {
  std::string q;
  std::string attr;
  bool lenient = false;
  std::optional<int64_t> as_of;  // relative windows' day (nullopt: today)
};

[[nodiscard]] std::variant<StatsRequest, ApiError> read_stats_request(std::string_view body);

}  // namespace crowd::server
