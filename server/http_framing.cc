#include "server/http_framing.h"

#include <boost/beast/core/string.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace crowd::server {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Every coding named by every Transfer-Encoding line, in order: several
// lines are one comma-separated list (RFC 9110 §5.3). A coding's
// parameters (";" ...) are dropped; empty list elements are allowed and
// skipped (RFC 9110 §5.6.1).
std::vector<std::string_view> transfer_codings(const RequestHeader& header) {
  std::vector<std::string_view> out;
  const auto [first, last] = header.equal_range(http::field::transfer_encoding);
  for (auto it = first; it != last; ++it) {
    std::string_view list = it->value();
    while (!list.empty()) {
      const auto comma = list.find(',');
      std::string_view element = list.substr(0, comma);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      element = trim(element.substr(0, element.find(';')));
      if (!element.empty()) out.push_back(element);
    }
  }
  return out;
}

}  // namespace

std::optional<ApiError> framing_problem(const RequestHeader& header) {
  if (header.version() >= 11) {
    const auto hosts = header.count(http::field::host);
    if (hosts != 1) {
      return bad_request(hosts == 0 ? "an HTTP/1.1 request needs a Host header (RFC 9112 §3.2)"
                                    : "more than one Host header (RFC 9112 §3.2)");
    }
  }
  if (header.count(http::field::transfer_encoding) == 0) return std::nullopt;
  if (header.version() < 11) return bad_request("Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)");
  const auto codings = transfer_codings(header);
  if (codings.empty() || !boost::beast::iequals(codings.back(), "chunked")) {
    return bad_request(
        "Transfer-Encoding must end with chunked: the body's length cannot be determined otherwise "
        "(RFC 9112 §6.3)");
  }
  for (std::size_t i = 0; i + 1 < codings.size(); ++i) {
    if (boost::beast::iequals(codings[i], "chunked")) return bad_request("chunked applied more than once");
  }
  if (codings.size() > 1) {
    // Named only by its position: a coding is the client's text, and the
    // reply should not echo arbitrary bytes.
    return ApiError{http::status::not_implemented, "not_implemented",
                    "transfer codings other than chunked are not supported (send the body with chunked alone "
                    "or with Content-Length)",
                    {}, {}, {}};
  }
  return std::nullopt;
}

}  // namespace crowd::server
