// The request of /v1/count and /v1/ids, from a JSON body (POST) or the URL
// (GET): one reader each, shared by crowdd's handlers and a cluster router,
// so both refuse exactly the same requests.
#pragma once

#include <boost/url/url_view.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "server/api_error.h"

namespace crowd::server {

// {"q", "lenient"?, "as_of"?} and, for a count, "estimate"?; for a page of
// IDs, "limit"?, "cursor"?, "id_type"? (and in the URL "format").
struct QueryRequest {
  std::string q;
  bool lenient = false;
  std::optional<int64_t> as_of;
  bool estimate = false;
  uint64_t limit = 1000;
  std::string cursor;
  std::string id_type;
  std::string format = "json";  // GET /v1/ids only: json, csv or roaring
};

// `paged`: the fields of /v1/ids, else those of /v1/count.
[[nodiscard]] std::variant<QueryRequest, ApiError> read_query_request(std::string_view body, bool paged);
[[nodiscard]] std::variant<QueryRequest, ApiError> read_query_url(const boost::urls::url_view& url, bool paged);

}  // namespace crowd::server
