// POST /v1/funnel: nested steps — users in Q1, in Q1 AND Q2, in Q1 AND Q2 AND
// Q3, ... — with the conversion from the previous step and from the first.
// The set arithmetic is query/crowd_sets.h.
#include <variant>

#include "query/crowd_sets.h"
#include "server/analytics_replies.h"
#include "server/analytics_request.h"
#include "server/api.h"
#include "server/query_support.h"
#include "server/json_fields.h"

namespace crowd::server {

Reply Api::funnel(const Request& req, Clock::time_point start) {
  std::vector<LabelledQuery> steps;
  bool lenient = false;
  std::optional<int64_t> as_of;
  const JsonField fields[] = {
      {"steps", kRequired,
       [&](std::string_view, simdjson::dom::element v) -> std::optional<ApiError> {
         simdjson::dom::array list;
         if (v.get(list)) return bad_request("\"steps\" must be an array of queries");
         for (const auto step : list) {
           std::string_view q;
           if (step.get(q)) return bad_request("\"steps\" must be an array of query strings");
           if (steps.size() == query::kMaxCrowdSets) {
             return bad_request("\"steps\": at most " + std::to_string(query::kMaxCrowdSets) + " steps");
           }
           steps.push_back({"", "step " + std::to_string(steps.size() + 1), std::string(q)});
         }
         if (steps.empty()) return bad_request("\"steps\" must not be empty");
         return std::nullopt;
       }},
      {"lenient", kOptional, bool_into(lenient)},
      {"as_of", kOptional, day_into(as_of)},
  };
  if (auto e = read_body_fields(req.body(), fields)) return error_reply(*e);

  const auto view = store_.view();
  auto evaluated = evaluate_queries(steps, *view, query_options(lenient, as_of));
  if (auto* e = std::get_if<ApiError>(&evaluated)) return error_reply(*e);
  const auto& crowds = std::get<Crowds>(evaluated);
  const std::vector<uint64_t> counts = query::funnel(crowds.bits);

  // Privacy guard: counts below --min-export-size are "<K".
  const AnalyticsTail tail{view->universe().cardinality, &crowds.warnings, micros_since(start),
                           options_.min_export_size};
  std::string body = funnel_body(counts, tail);
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
