// Reading URL query parameters (decoded by Boost.URL) into API values.
#pragma once

#include <boost/url/url_view.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "server/api_error.h"

namespace crowd::server {

// The decoded value of the first parameter with this name ("+" is a space).
[[nodiscard]] std::optional<std::string> url_param(const boost::urls::url_view& url, std::string_view name);

// An unsigned integer parameter in [min, max], `fallback` when absent.
[[nodiscard]] std::variant<uint64_t, ApiError> url_uint(const boost::urls::url_view& url, std::string_view name,
                                                        uint64_t fallback, uint64_t min, uint64_t max);

// A date parameter "YYYY-MM-DD" as days since 1970-01-01; nullopt when absent.
[[nodiscard]] std::variant<std::optional<int64_t>, ApiError> url_day(const boost::urls::url_view& url,
                                                                     std::string_view name);

// A boolean parameter: true/false/1/0; `fallback` when absent.
[[nodiscard]] std::variant<bool, ApiError> url_bool(const boost::urls::url_view& url, std::string_view name,
                                                    bool fallback);

}  // namespace crowd::server
