// POST /v1/flow: movement between two sets of layers — users in each
// from-layer x each to-layer (AIPL states at two dates, fan -> member ->
// buyer), with the users who left every to-layer and those new to every
// from-layer. The set arithmetic is query/crowd_sets.h.
#include <variant>

#include "query/crowd_sets.h"
#include "server/analytics_replies.h"
#include "server/analytics_request.h"
#include "server/api.h"
#include "server/query_support.h"
#include "server/json_fields.h"

namespace crowd::server {
Reply Api::flow(const Request& req, Clock::time_point start) {
  std::vector<LabelledQuery> from;
  std::vector<LabelledQuery> to;
  bool lenient = false;
  std::optional<int64_t> as_of;
  const JsonField fields[] = {
      {"from", kRequired, named_queries_into(from, "from", query::kMaxCrowdSets)},
      {"to", kRequired, named_queries_into(to, "to", query::kMaxCrowdSets)},
      {"lenient", kOptional, bool_into(lenient)},
      {"as_of", kOptional, day_into(as_of)},
  };
  if (auto e = read_body_fields(req.body(), fields)) return error_reply(*e);

  // One view for both sides, so the matrix is one consistent snapshot.
  const auto view = store_.view();
  const std::size_t m = from.size();
  std::vector<LabelledQuery> all = from;
  all.insert(all.end(), to.begin(), to.end());
  auto evaluated = evaluate_queries(all, *view, query_options(lenient, as_of));
  if (auto* e = std::get_if<ApiError>(&evaluated)) return error_reply(*e);
  const auto& layers = std::get<Crowds>(evaluated);
  const std::span<const roaring_bitmap_t* const> bits(layers.bits);
  const query::FlowReport report = query::flow(bits.first(m), bits.subspan(m));

  std::vector<std::string> from_names;
  std::vector<std::string> to_names;
  for (const auto& q : from) from_names.push_back(q.name);
  for (const auto& q : to) to_names.push_back(q.name);
  // Privacy guard: counts below --min-export-size are "<K".
  const AnalyticsTail tail{view->universe().cardinality, &layers.warnings, micros_since(start),
                           options_.min_export_size};
  std::string body = flow_body(from_names, to_names, report, tail);
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
