#include "server/query_request.h"

#include "server/json_fields.h"
#include "server/query_params.h"
#include "server/request_json.h"

namespace crowd::server {

std::variant<QueryRequest, ApiError> read_query_request(std::string_view body, bool paged) {
  QueryRequest out;
  const JsonField count_fields[] = {
      {"q", kRequired, string_into(out.q)},
      {"lenient", kOptional, bool_into(out.lenient)},
      {"as_of", kOptional, day_into(out.as_of)},
      {"estimate", kOptional, bool_into(out.estimate)},
  };
  const JsonField page_fields[] = {
      {"q", kRequired, string_into(out.q)},
      {"lenient", kOptional, bool_into(out.lenient)},
      {"as_of", kOptional, day_into(out.as_of)},
      {"limit", kOptional, uint_into(out.limit, 1, 1'000'000)},
      {"cursor", kOptional, nullable_string_into(out.cursor)},
      {"id_type", kOptional, string_into(out.id_type)},
  };
  if (auto e = paged ? read_body_fields(body, page_fields) : read_body_fields(body, count_fields)) return *e;
  return out;
}

std::variant<QueryRequest, ApiError> read_query_url(const boost::urls::url_view& url, bool paged) {
  QueryRequest out;
  const auto q = url_param(url, "q");
  if (!q) return bad_request("missing query parameter q");
  out.q = *q;
  const auto lenient = url_bool(url, "lenient", false);
  if (const auto* e = std::get_if<ApiError>(&lenient)) return *e;
  out.lenient = std::get<bool>(lenient);
  const auto as_of = url_day(url, "as_of");
  if (const auto* e = std::get_if<ApiError>(&as_of)) return *e;
  out.as_of = std::get<std::optional<int64_t>>(as_of);
  if (!paged) {
    const auto estimate = url_bool(url, "estimate", false);
    if (const auto* e = std::get_if<ApiError>(&estimate)) return *e;
    out.estimate = std::get<bool>(estimate);
    return out;
  }
  out.format = url_param(url, "format").value_or("json");
  out.id_type = url_param(url, "id_type").value_or("");
  if (out.format == "csv" || out.format == "roaring") return out;
  if (out.format != "json") return bad_request("format must be json, csv or roaring");
  const auto limit = url_uint(url, "limit", 1000, 1, 1'000'000);
  if (const auto* e = std::get_if<ApiError>(&limit)) return *e;
  out.limit = std::get<uint64_t>(limit);
  out.cursor = url_param(url, "cursor").value_or("");
  return out;
}

}  // namespace crowd::server
