#include "server/query_support.h"

#include "query/query.h"

namespace crowd::server {

ApiError query_error(const query::Error& e) {
  ApiError out;
  switch (e.code) {
    case query::ErrorCode::kParse:
      out.status = http::status::bad_request;
      out.code = "parse_error";
      break;
    case query::ErrorCode::kUnknownTag:
      out.status = http::status::bad_request;
      out.code = "unknown_tag";
      break;
    case query::ErrorCode::kTooLarge:
      out.status = http::status::payload_too_large;
      out.code = "too_large";
      break;
    case query::ErrorCode::kTooManyTags:
      out.status = http::status::bad_request;
      out.code = "too_many_tags";
      break;
    case query::ErrorCode::kCrowdTooSmall:
      out.status = http::status::forbidden;
      out.code = "crowd_too_small";
      break;
  }
  out.message = e.message;
  if (e.code != query::ErrorCode::kTooLarge) out.position = e.position;
  out.suggestions = e.suggestions;
  return out;
}

std::optional<ApiError> seed_guard(uint64_t seed_size, uint64_t min_seed) {
  if (seed_size >= min_seed) return std::nullopt;
  return crowd_too_small("the lookalike seed has fewer than " + std::to_string(min_seed) + " users (--min-seed-size)");
}

query::Evaluator& thread_evaluator() {
  thread_local query::Evaluator evaluator;
  return evaluator;
}

std::variant<query::Plan, ApiError> compile_query(std::string_view q, const IndexView& view,
                                                  const query::Options& options) {
  auto compiled = query::compile(q, view, options);
  if (auto* e = std::get_if<query::Error>(&compiled)) return query_error(*e);
  return std::move(std::get<query::Plan>(compiled));
}

void write_estimate(JsonWriter& w, const query::Estimate& e) {
  w.raw(",").key("estimate").raw("{").key("exact").boolean(e.exact);
  w.raw(",").key("low").number(e.low).raw(",").key("high").number(e.high);
  if (e.count > 0) {
    const double half = static_cast<double>(e.high - e.low) / 2;
    w.raw(",").key("relative_error").real(half / static_cast<double>(e.count));
  }
  w.raw(",").key("sampled_users").number(e.sampled_users);
  w.raw(",").key("sampled_chunks").number(e.sampled_chunks);
  // So that estimates of disjoint parts (a cluster's shards) can be summed.
  w.raw(",").key("variance").real(e.variance).raw("}");
}

void write_warnings(JsonWriter& w, const std::vector<std::string>& warnings) {
  if (warnings.empty()) return;
  w.raw(",").key("warnings").raw("[");
  for (std::size_t i = 0; i < warnings.size(); ++i) w.raw(i > 0 ? "," : "").string(warnings[i]);
  w.raw("]");
}

}  // namespace crowd::server
