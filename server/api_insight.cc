// POST /v1/insight: a crowd's profile (画像) — for every tag of the asked
// fields, its count in the crowd, its share of the crowd and of the whole
// population, and the TGI. The counting is query/insight.h; this file reads
// the request and writes the answer.
#include <variant>

#include "query/insight.h"
#include "server/analytics_request.h"
#include "server/api.h"
#include "server/request_json.h"

namespace crowd::server {
namespace {

// The largest `top` and `min_count` accepted: far above any real use, low
// enough that every value is exact in a double and in every JSON reader.
constexpr int64_t kMaxInsightNumber = int64_t{1} << 53;

struct InsightRequest {
  std::string q;
  bool lenient = false;
  query::InsightOptions options;
};

std::variant<InsightRequest, ApiError> read_insight_request(std::string_view body) {
  auto parsed = parse_json_object(body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return *e;
  InsightRequest out;
  bool saw_q = false;
  for (const auto field : std::get<simdjson::dom::object>(parsed)) {
    if (field.key == "q") {
      if (auto e = read_string_member(field.value, "q", out.q)) return *e;
      saw_q = true;
    } else if (field.key == "fields") {
      simdjson::dom::array list;
      if (field.value.get(list)) return bad_request("\"fields\" must be an array of field names");
      for (const auto f : list) {
        std::string_view name;
        if (f.get(name)) return bad_request("\"fields\" must be an array of field names");
        out.options.fields.emplace_back(name);
      }
      if (out.options.fields.empty()) return bad_request("\"fields\" must not be empty (leave it out for every field)");
    } else if (field.key == "top") {
      int64_t top = 0;
      if (field.value.get(top) || top < 1 || top > kMaxInsightNumber) {
        return bad_request("\"top\" must be a positive integer");
      }
      out.options.top = static_cast<std::size_t>(top);
    } else if (field.key == "min_count") {
      int64_t min_count = 0;
      if (field.value.get(min_count) || min_count < 0 || min_count > kMaxInsightNumber) {
        return bad_request("\"min_count\" must be a non-negative integer");
      }
      out.options.min_count = static_cast<uint64_t>(min_count);
    } else if (field.key == "sort") {
      std::string_view sort;
      if (field.value.get(sort) || (sort != "tgi" && sort != "count")) {
        return bad_request("\"sort\" must be \"tgi\" or \"count\"");
      }
      out.options.order = sort == "tgi" ? query::InsightOrder::kTgi : query::InsightOrder::kCount;
    } else if (field.key == "lenient") {
      if (auto e = read_bool_member(field.value, "lenient", out.lenient)) return *e;
    } else {
      return bad_request("unknown field \"" + std::string(field.key) + "\"");
    }
  }
  if (!saw_q) return bad_request("missing \"q\"");
  return out;
}

}  // namespace

Reply Api::insight(const Request& req, Clock::time_point start) {
  const auto parsed = read_insight_request(req.body());
  if (const auto* e = std::get_if<ApiError>(&parsed)) return error_reply(*e);
  const auto& r = std::get<InsightRequest>(parsed);

  const auto view = store_.view();
  auto evaluated = evaluate_queries({{"", "q", r.q}}, *view, query_options(r.lenient));
  if (auto* e = std::get_if<ApiError>(&evaluated)) return error_reply(*e);
  const auto& crowd = std::get<Crowds>(evaluated);
  const auto profiled = query::insight(crowd.bits[0], *view, r.options);
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
  w.raw("],").key("took_us").number(micros_since(start)).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
