#include "server/insight_request.h"

#include "server/json_fields.h"
#include "server/request_json.h"

namespace crowd::server {
namespace {


// The largest `top` and `min_count` accepted: far above any real use, low
// enough that every value is exact in a double and in every JSON reader.
constexpr uint64_t kMaxInsightNumber = uint64_t{1} << 53;
// Field names in "fields", at most; the dictionary has far fewer fields.
constexpr std::size_t kMaxInsightFields = 1000;

}  // namespace

std::variant<InsightRequest, ApiError> read_insight_request(std::string_view body) {
  InsightRequest out;
  uint64_t top = out.options.top;
  const auto read_fields_list = strings_into(out.options.fields, kMaxInsightFields);
  const JsonField fields[] = {
      {"q", kRequired, string_into(out.q)},
      {"fields", kOptional,
       [&](std::string_view name, simdjson::dom::element v) -> std::optional<ApiError> {
         if (auto e = read_fields_list(name, v)) return e;
         if (out.options.fields.empty()) return bad_request("\"fields\" must not be empty (leave it out for every field)");
         return std::nullopt;
       }},
      {"top", kOptional, uint_into(top, 1, kMaxInsightNumber)},
      {"min_count", kOptional, uint_into(out.options.min_count, 0, kMaxInsightNumber)},
      {"sort", kOptional,
       [&](std::string_view, simdjson::dom::element v) -> std::optional<ApiError> {
         std::string_view sort;
         if (v.get(sort) || (sort != "tgi" && sort != "count")) return bad_request("\"sort\" must be \"tgi\" or \"count\"");
         out.options.order = sort == "tgi" ? query::InsightOrder::kTgi : query::InsightOrder::kCount;
         return std::nullopt;
       }},
      {"lenient", kOptional, bool_into(out.lenient)},
      {"as_of", kOptional, day_into(out.as_of)},
  };
  if (auto e = read_body_fields(body, fields)) return *e;
  out.options.top = static_cast<std::size_t>(top);
  return out;
}


}  // namespace crowd::server
