// Calendar days in query text: "YYYY-MM-DD" (UTC) <-> days since 1970-01-01.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crowd::query {

// Exactly four digits, '-', two digits, '-', two digits, naming a real
// Gregorian date in years 0000-9999. O(1).
[[nodiscard]] std::optional<int64_t> parse_day(std::string_view text);

// Inverse of parse_day for days in its range.
[[nodiscard]] std::string format_day(int64_t days);

// Today's date by the system clock, in UTC, as days since 1970-01-01: the
// "as of" day of relative windows when nothing fixes one (options.h). O(1).
[[nodiscard]] int64_t today_utc();

}  // namespace crowd::query
