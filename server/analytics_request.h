// What the analytics routes over several queries (overlap, flow, funnel,
// insight) share: reading named queries from a request body, turning them
// into crowds on one view, and writing ratios that may be undefined.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "index/index_view.h"
#include "query/plan.h"
#include "query/plan_set.h"
#include "server/api_error.h"
#include "server/json_fields.h"
#include "server/json_writer.h"

namespace crowd::query {
struct Options;
}  // namespace crowd::query

namespace crowd::server {

// A query of a request and how errors name it ("crowd \"buyers\"", "step 2").
struct LabelledQuery {
  std::string name;   // the JSON key, or empty for a list entry
  std::string label;  // for error messages
  std::string q;
};

// Reads a member of a body as {"name": "query", ...} into `out`: 1..max
// entries (a JSON object keeps its order), distinct names, string values.
// Labels are `kind "name"`.
[[nodiscard]] FieldReader named_queries_into(std::vector<LabelledQuery>& out, std::string_view kind,
                                             std::size_t max);

// Crowds evaluated on one view. Plans stay alive because a PlanSet may borrow
// from them (a cached union).
struct Crowds {
  std::vector<query::Plan> plans;
  std::vector<query::PlanSet> sets;
  std::vector<const roaring_bitmap_t*> bits;  // sets[i].bits()
  // Every plan's warnings, each prefixed with its query's label.
  std::vector<std::string> warnings;
};

// Compiles every query first (so a bad last query costs no evaluation and the
// first bad one is reported, its message prefixed with its label), then
// evaluates each on `view` with the calling thread's evaluator.
[[nodiscard]] std::variant<Crowds, ApiError> evaluate_queries(const std::vector<LabelledQuery>& queries,
                                                              const IndexView& view, const query::Options& options);

// Privacy guard (--min-export-size K): a count below K is written as the
// string "<K" (k = 0: never), and ratios built from a hidden count as null.
[[nodiscard]] inline bool hidden(uint64_t n, uint64_t k) { return n < k; }
inline void write_cell(JsonWriter& w, uint64_t n, uint64_t k) {
  if (hidden(n, k)) {
    std::string text("<");  // appended: GCC 12 warns falsely (-Wrestrict) on "<" + string
    text += std::to_string(k);
    w.string(text);
  } else {
    w.number(n);
  }
}

// A ratio, or null when it is undefined (a zero denominator): JSON has no NaN.
inline void write_ratio(JsonWriter& w, std::optional<double> r) {
  if (r) {
    w.real(*r);
  } else {
    w.null();
  }
}
[[nodiscard]] inline std::optional<double> ratio(uint64_t num, uint64_t den) {
  if (den == 0) return std::nullopt;
  return static_cast<double>(num) / static_cast<double>(den);
}

}  // namespace crowd::server
