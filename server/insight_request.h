// The request of POST /v1/insight, read by crowdd's handler and by a cluster
// router (which asks its shards for every row and ranks the sums itself).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "query/insight.h"
#include "server/api_error.h"

namespace crowd::server {

struct InsightRequest {
  std::string q;
  bool lenient = false;
  std::optional<int64_t> as_of;  // relative windows' day (nullopt: today)
  query::InsightOptions options;
};

[[nodiscard]] std::variant<InsightRequest, ApiError> read_insight_request(std::string_view body);

}  // namespace crowd::server
