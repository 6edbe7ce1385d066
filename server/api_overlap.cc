// POST /v1/overlap: how several crowds overlap — each crowd's size, every
// pair's intersection and Jaccard index, and for 2..4 crowds every Venn
// region. The set arithmetic is query/crowd_sets.h; this file reads the
// request and writes the answer.
#include <variant>

#include "query/crowd_sets.h"
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
  const std::size_t n = queries.size();

  // Privacy guard: counts below --min-export-size are "<K" (Jaccard null).
  const uint64_t k = options_.min_export_size;
  std::string body;
  body.reserve(256 + n * n * 96 + report.regions.size() * 96);
  JsonWriter w(body);
  w.raw("{\"crowds\":[");
  for (std::size_t i = 0; i < n; ++i) {
    if (i) w.raw(",");
    w.raw("{").key("name").string(queries[i].name).raw(",").key("count");
    write_cell(w, report.sizes[i], k);
    w.raw("}");
  }
  w.raw("],\"pairs\":[");
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      const uint64_t both = report.intersections[query::pair_index(i, j, n)];
      const uint64_t either = report.sizes[i] + report.sizes[j] - both;
      if (i != 0 || j != 1) w.raw(",");
      w.raw("{").key("a").string(queries[i].name).raw(",").key("b").string(queries[j].name);
      w.raw(",").key("intersection");
      write_cell(w, both, k);
      w.raw(",").key("union");
      write_cell(w, either, k);
      w.raw(",").key("jaccard");
      write_ratio(w, hidden(both, k) || hidden(either, k) ? std::nullopt : ratio(both, either));
      w.raw("}");
    }
  }
  w.raw("],").key("union");
  write_cell(w, report.union_size, k);
  w.raw(",").key("regions");
  if (report.regions.empty()) {
    w.null();
  } else {
    w.raw("[");
    for (std::size_t m = 1; m <= report.regions.size(); ++m) {
      if (m > 1) w.raw(",");
      w.raw("{\"crowds\":[");
      bool first = true;
      for (std::size_t i = 0; i < n; ++i) {
        if ((m & (std::size_t{1} << i)) == 0) continue;
        if (!first) w.raw(",");
        first = false;
        w.string(queries[i].name);
      }
      w.raw("],").key("count");
      write_cell(w, report.regions[m - 1], k);
      w.raw("}");
    }
    w.raw("]");
  }
  w.raw(",").key("total");
  write_cell(w, view->universe().cardinality, k);
  write_warnings(w, crowds.warnings);
  w.raw(",").key("took_us").number(micros_since(start)).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
