// POST /v1/insight: a crowd's profile (画像) — for every tag of the asked
// fields, its count in the crowd, its share of the crowd and of the whole
// population, and the TGI. The counting is query/insight.h; this file reads
// the request and writes the answer.
#include <algorithm>
#include <variant>

#include "query/insight.h"
#include "server/analytics_replies.h"
#include "server/analytics_request.h"
#include "server/api.h"
#include "server/insight_request.h"
#include "server/query_support.h"
#include "server/json_fields.h"

namespace crowd::server {
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
  const AnalyticsTail tail{report.total, &crowd.warnings, micros_since(start), options_.min_export_size};
  std::string body = insight_body(report, [&](TagId t) -> std::string_view { return dictionary.name(t); }, tail);
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
