#include "query/query.h"

#include <string>
#include <utility>

#include "query/parser.h"
#include "query/resolve.h"
#include "query/rewrite.h"

namespace crowd::query {

std::variant<Plan, Error> compile(std::string_view text, const IndexView& view, const Options& options) {
  // Before lexing: an oversized request costs O(1).
  if (text.size() > kMaxQueryBytes) {
    return Error{ErrorCode::kTooLarge,
                 "query is " + std::to_string(text.size()) + " bytes; the limit is " + std::to_string(kMaxQueryBytes),
                 0,
                 {}};
  }
  auto parsed = parse(text);
  if (auto* error = std::get_if<Error>(&parsed)) return std::move(*error);
  auto resolved = resolve(std::get<Ast>(parsed), view, options);
  if (auto* error = std::get_if<Error>(&resolved)) return std::move(*error);
  auto& root = std::get<PlanNode>(resolved);
  rewrite(root, view);
  return Plan(std::move(root), view);
}

}  // namespace crowd::query
