// POST /v1/insight: a crowd's profile (画像) — for every tag of the asked
// fields, its count in the crowd, its share of the crowd and of the whole
// population, and the TGI. The counting is query/insight.h; this file reads
// the request and writes the answer.
#include <algorithm>
#include <variant>

#include "query/insight.h"
#include "server/analytics_request.h"
#include "server/api.h"
#include "server/query_support.h"
#include "server/json_fields.h"

namespace crowd::server {
namespace {

// The largest `top` and `min_count` accepted: far above any real use, low
// enough that every value is exact in a double and in every JSON reader.
constexpr uint64_t kMaxInsightNumber = uint64_t{1} << 53;
// Field names in "fields", at most; the dictionary has far fewer fields.
constexpr std::size_t kMaxInsightFields = 1000;

struct InsightRequest {
  std::string q;
  bool lenient = false;
  std::optional<int64_t> as_of;  // relative windows' day (nullopt: today)
  query::InsightOptions options;
};

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

}  // namespace

Reply Api::insight(const Request& req, Clock::time_point start) {
  const auto parsed = read_insight_request(req.body());
  if (const auto* e = std::get_if<ApiError>(&parsed)) return error_reply(*e);
  const auto& r = std::get<InsightRequest>(parsed);

  // Privacy guard: a row under --min-export-size K is not listed at all, as
  // if min_count were K. Shown as "<K" it would still say that someone in
  // the crowd holds the tag (a one-user crowd would list the person's tags).
  // Rows of 0 and of 1..K-1 look the same: absent.
  query::InsightOptions options = r.options;
  options.min_count = std::max(options.min_count, options_.min_export_size);

  const auto view = store_.view();
  auto evaluated = evaluate_queries({{"", "q", r.q}}, *view, query_options(r.lenient, r.as_of));
  if (auto* e = std::get_if<ApiError>(&evaluated)) return error_reply(*e);
  const auto& crowd = std::get<Crowds>(evaluated);
  const auto profiled = query::insight(crowd.bits[0], *view, options);
  if (const auto* unknown = std::get_if<query::UnknownField>(&profiled)) {
    return error_reply(bad_request("unknown field \"" + unknown->field + "\" in \"fields\": no tag belongs to it"));
  }
  const auto& report = std::get<query::InsightReport>(profiled);
  const TagDictionary& dictionary = view->dictionary();

  std::size_t rows = 0;
  for (const auto& f : report.fields) rows += f.rows.size();
  // Privacy guard: counts below --min-export-size are "<K", and so are the
  // ratios that would give them away (null).
  const uint64_t min = options_.min_export_size;
  const bool crowd_hidden = hidden(report.crowd, min);
  std::string body;
  body.reserve(128 + report.fields.size() * 64 + rows * 160);
  JsonWriter w(body);
  w.raw("{").key("crowd");
  write_cell(w, report.crowd, min);
  w.raw(",").key("total");
  write_cell(w, report.total, min);
  w.raw(",\"fields\":[");
  for (std::size_t i = 0; i < report.fields.size(); ++i) {
    const auto& f = report.fields[i];
    if (i) w.raw(",");
    w.raw("{").key("field").string(f.field).raw(",").key("tag_count").number(f.tags).raw(",\"tags\":[");
    for (std::size_t k = 0; k < f.rows.size(); ++k) {
      const auto& row = f.rows[k];
      if (k) w.raw(",");
      const bool count_hidden = crowd_hidden || hidden(row.count, min);
      const bool population_hidden = hidden(row.population, min) || hidden(report.total, min);
      w.raw("{").key("tag").string(dictionary.name(row.tag)).raw(",").key("count");
      write_cell(w, row.count, min);
      w.raw(",").key("share");
      write_ratio(w, count_hidden ? std::nullopt : query::crowd_share(row, report.crowd));
      w.raw(",").key("population");
      write_cell(w, row.population, min);
      w.raw(",").key("population_share");
      write_ratio(w, population_hidden ? std::nullopt : query::population_share(row, report.total));
      w.raw(",").key("tgi");
      write_ratio(w, count_hidden || population_hidden ? std::nullopt : query::tgi(row, report.crowd, report.total));
      w.raw("}");
    }
    w.raw("]}");
  }
  w.raw("]");
  write_warnings(w, crowd.warnings);
  w.raw(",").key("took_us").number(micros_since(start)).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
