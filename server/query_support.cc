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
  }
  out.message = e.message;
  if (e.code != query::ErrorCode::kTooLarge) out.position = e.position;
  out.suggestions = e.suggestions;
  return out;
}

query::Evaluator& thread_evaluator() {
  thread_local query::Evaluator evaluator;
  return evaluator;
}

std::variant<query::Plan, ApiError> compile_query(std::string_view q, const IndexView& view, bool lenient,
                                                  query::UnionCache* unions) {
  auto compiled = query::compile(q, view, query::Options{lenient, unions});
  if (auto* e = std::get_if<query::Error>(&compiled)) return query_error(*e);
  return std::move(std::get<query::Plan>(compiled));
}

}  // namespace crowd::server
