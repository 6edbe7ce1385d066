// POST /v1/flow: movement between two sets of layers — users in each
// from-layer x each to-layer (AIPL states at two dates, fan -> member ->
// buyer), with the users who left every to-layer and those new to every
// from-layer. The set arithmetic is query/crowd_sets.h.
#include <variant>

#include "query/crowd_sets.h"
#include "server/analytics_request.h"
#include "server/api.h"
#include "server/request_json.h"

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
  auto parsed = parse_json_object(req.body());
  if (auto* e = std::get_if<ApiError>(&parsed)) return error_reply(*e);
  std::vector<LabelledQuery> from;
  std::vector<LabelledQuery> to;
  bool lenient = false;
  for (const auto field : std::get<simdjson::dom::object>(parsed)) {
    if (field.key == "from" || field.key == "to") {
      const bool is_from = field.key == "from";
      auto read = read_named_queries(field.value, field.key, is_from ? "from" : "to", query::kMaxCrowdSets);
      if (auto* e = std::get_if<ApiError>(&read)) return error_reply(*e);
      (is_from ? from : to) = std::move(std::get<std::vector<LabelledQuery>>(read));
    } else if (field.key == "lenient") {
      if (auto e = read_bool_member(field.value, "lenient", lenient)) return error_reply(*e);
    } else {
      return error_reply(bad_request("unknown field \"" + std::string(field.key) + "\""));
    }
  }
  if (from.empty()) return error_reply(bad_request("missing \"from\""));
  if (to.empty()) return error_reply(bad_request("missing \"to\""));

  // One view for both sides, so the matrix is one consistent snapshot.
  const auto view = store_.view();
  const std::size_t m = from.size();
  std::vector<LabelledQuery> all = from;
  all.insert(all.end(), to.begin(), to.end());
  auto evaluated = evaluate_queries(all, *view, query_options(lenient));
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
  w.raw(",").key("took_us").number(micros_since(start)).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
