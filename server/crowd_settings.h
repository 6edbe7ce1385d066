// The activation settings a saved crowd's PUT or PATCH body may carry
// (docs/activation.md): "refresh" (a schedule, null to clear), "expires_at"
// (ISO 8601 UTC, null for never) or "ttl" (a duration from now), "holdout"
// (percent, 0..50, two decimals) and "push_to" (destination names).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "activation/activation.h"
#include "server/api_error.h"
#include "server/json_fields.h"

namespace crowd::server {

// The members as read, before they are checked.
struct CrowdSettingsFields {
  std::optional<std::optional<std::string>> refresh;     // present; null inside
  std::optional<std::optional<std::string>> expires_at;  // present; null inside
  std::optional<std::string> ttl;
  std::optional<double> holdout;
  std::optional<std::vector<std::string>> push_to;
};

// Appends the five optional members' readers, writing into `out`.
void append_settings_fields(std::vector<JsonField>& fields, CrowdSettingsFields& out);

// Checks what was read (schedules parse, times and durations read, one of
// expires_at and ttl, a hold-out in range); `now` in unix seconds for ttl.
[[nodiscard]] std::variant<activation::CrowdSettings, ApiError> crowd_settings(const CrowdSettingsFields& in,
                                                                               int64_t now);

}  // namespace crowd::server
