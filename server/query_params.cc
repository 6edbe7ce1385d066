#include "server/query_params.h"

#include <charconv>

#include "query/date.h"

namespace crowd::server {

std::optional<std::string> url_param(const boost::urls::url_view& url, std::string_view name) {
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  for (const auto& p : url.params(opts)) {
    if (p.key == name) return std::string(p.value);
  }
  return std::nullopt;
}

std::variant<uint64_t, ApiError> url_uint(const boost::urls::url_view& url, std::string_view name, uint64_t fallback,
                                          uint64_t min, uint64_t max) {
  const auto text = url_param(url, name);
  if (!text) return fallback;
  uint64_t v = 0;
  const auto r = std::from_chars(text->data(), text->data() + text->size(), v);
  const std::string range = std::to_string(min) + ".." + std::to_string(max);
  if (text->empty() || r.ec != std::errc() || r.ptr != text->data() + text->size()) {
    return bad_request(std::string(name) + " must be an integer in " + range);
  }
  if (v < min || v > max) return bad_request(std::string(name) + " must be in " + range);
  return v;
}

std::variant<std::optional<int64_t>, ApiError> url_day(const boost::urls::url_view& url, std::string_view name) {
  const auto text = url_param(url, name);
  if (!text) return std::optional<int64_t>();
  if (const auto day = query::parse_day(*text)) return day;
  return bad_request(std::string(name) + " must be a date YYYY-MM-DD");
}

std::variant<bool, ApiError> url_bool(const boost::urls::url_view& url, std::string_view name, bool fallback) {
  const auto text = url_param(url, name);
  if (!text) return fallback;
  if (*text == "true" || *text == "1") return true;
  if (*text == "false" || *text == "0") return false;
  return bad_request(std::string(name) + " must be true or false");
}

}  // namespace crowd::server
