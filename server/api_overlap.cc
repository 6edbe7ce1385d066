// POST /v1/overlap: how several crowds overlap — each crowd's size, every
// pair's intersection and Jaccard index, and for 2..4 crowds every Venn
// region. The set arithmetic is query/crowd_sets.h; this file reads the
// request and writes the answer.
#include <variant>

#include "query/crowd_sets.h"
#include "server/analytics_replies.h"
#include "server/analytics_request.h"
#include "server/api.h"
#include "server/query_support.h"
#include "server/json_fields.h"

namespace crowd::server {

Reply Api::overlap(const Request& req, Clock::time_point start) {
  std::vector<LabelledQuery> queries;
  bool lenient = false;
  std::optional<int64_t> as_of;
  const JsonField fields[] = {
      {"crowds", kRequired, named_queries_into(queries, "crowd", query::kMaxCrowdSets)},
      {"lenient", kOptional, bool_into(lenient)},
      {"as_of", kOptional, day_into(as_of)},
  };
  if (auto e = read_body_fields(req.body(), fields)) return error_reply(*e);
  if (queries.size() < 2) return error_reply(bad_request("\"crowds\" needs at least 2 crowds"));

  const auto view = store_.view();
  auto evaluated = evaluate_queries(queries, *view, query_options(lenient, as_of));
  if (auto* e = std::get_if<ApiError>(&evaluated)) return error_reply(*e);
  const auto& crowds = std::get<Crowds>(evaluated);
  const query::OverlapReport report = query::overlap(crowds.bits);
  std::vector<std::string> names;
  for (const auto& q : queries) names.push_back(q.name);
  // Privacy guard: counts below --min-export-size are "<K" (Jaccard null).
  const AnalyticsTail tail{view->universe().cardinality, &crowds.warnings, micros_since(start),
                           options_.min_export_size};
  std::string body = overlap_body(names, report, tail);
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
