#include "server/analytics_request.h"

#include <algorithm>

#include "server/query_support.h"

namespace crowd::server {

FieldReader named_queries_into(std::vector<LabelledQuery>& out, std::string_view kind, std::size_t max) {
  return [&out, kind, max](std::string_view member, simdjson::dom::element value) -> std::optional<ApiError> {
    std::string what = "\"";
    what.append(member).push_back('"');
    simdjson::dom::object obj;
    if (value.get(obj)) return bad_request(what + " must be an object of name: query");
    out.clear();
    for (const auto field : obj) {
      std::string name(field.key);
      std::string_view q;
      if (field.value.get(q)) return bad_request(what + ": the query of \"" + name + "\" must be a string");
      // Names are few (<= max): a linear scan beats hashing.
      if (std::any_of(out.begin(), out.end(), [&](const auto& o) { return o.name == name; })) {
        return bad_request(what + ": duplicate name \"" + name + "\"");
      }
      if (out.size() == max) return bad_request(what + ": at most " + std::to_string(max) + " entries");
      std::string label = std::string(kind) + " \"" + name + "\"";
      out.push_back({std::move(name), std::move(label), std::string(q)});
    }
    if (out.empty()) return bad_request(what + " must not be empty");
    return std::nullopt;
  };
}

std::variant<Crowds, ApiError> evaluate_queries(const std::vector<LabelledQuery>& queries, const IndexView& view,
                                                const query::Options& options) {
  Crowds out;
  out.plans.reserve(queries.size());
  for (const auto& q : queries) {
    auto compiled = compile_query(q.q, view, options);
    if (auto* e = std::get_if<ApiError>(&compiled)) {
      e->message = q.label + ": " + e->message;
      return std::move(*e);
    }
    out.plans.push_back(std::move(std::get<query::Plan>(compiled)));
    for (const auto& w : out.plans.back().warnings()) out.warnings.push_back(q.label + ": " + w);
  }
  auto& evaluator = thread_evaluator();
  out.sets.reserve(queries.size());
  out.bits.reserve(queries.size());
  for (const auto& plan : out.plans) {
    out.sets.emplace_back(plan, view, evaluator);
    out.bits.push_back(out.sets.back().bits());
  }
  return out;
}

}  // namespace crowd::server
