// POST /v1/flow: movement between two sets of layers — users in each
// from-layer x each to-layer (AIPL states at two dates, fan -> member ->
// buyer), with the users who left every to-layer and those new to every
// from-layer. The set arithmetic is query/crowd_sets.h.
#include <variant>

#include "query/crowd_sets.h"
#include "server/analytics_request.h"
#include "server/api.h"
#include "server/query_support.h"
#include "server/json_fields.h"

namespace crowd::server {
namespace {

void write_layers(JsonWriter& w, const std::vector<LabelledQuery>& layers, const std::vector<uint64_t>& sizes,
                  std::string_view margin_name, const std::vector<uint64_t>& margin, uint64_t k) {
  w.raw("[");
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (i) w.raw(",");
    w.raw("{").key("name").string(layers[i].name).raw(",").key("count");
    write_cell(w, sizes[i], k);
    w.raw(",").key(margin_name);
    write_cell(w, margin[i], k);
    w.raw("}");
  }
  w.raw("]");
}

}  // namespace

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

  std::string body;
  body.reserve(256 + all.size() * 64 + report.cells.size() * 12);
  JsonWriter w(body);
  // Privacy guard: counts below --min-export-size are "<K".
  const uint64_t k = options_.min_export_size;
  w.raw("{").key("from");
  write_layers(w, from, report.from_sizes, "left", report.left, k);
  w.raw(",").key("to");
  write_layers(w, to, report.to_sizes, "new", report.entered, k);
  w.raw(",\"matrix\":[");
  for (std::size_t i = 0; i < m; ++i) {
    if (i) w.raw(",");
    w.raw("[");
    for (std::size_t j = 0; j < to.size(); ++j) {
      if (j) w.raw(",");
      write_cell(w, report.cells[i * to.size() + j], k);
    }
    w.raw("]");
  }
  w.raw("],").key("from_any");
  write_cell(w, report.from_any, k);
  w.raw(",").key("to_any");
  write_cell(w, report.to_any, k);
  w.raw(",").key("stayed");
  write_cell(w, report.stayed, k);
  w.raw(",").key("total");
  write_cell(w, view->universe().cardinality, k);
  write_warnings(w, layers.warnings);
  w.raw(",").key("took_us").number(micros_since(start)).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
