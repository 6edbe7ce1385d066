#include "query/query.h"

#include <algorithm>

#include "query/union_cache.h"

#include <string>
#include <utility>

#include "query/deadline.h"
#include "index/system_view.h"
#include "query/parser.h"
#include "query/resolve.h"
#include "query/rewrite.h"

namespace crowd::query {
namespace {

// Every union of UnionCache::kMinMembers or more tags reads its bitmap from
// the cache. The cache is keyed by ascending ids; the node keeps its own
// (cardinality) order for the per-query path.
void attach_cached_unions(PlanNode& node, const IndexView& view, UnionCache& cache) {
  if (node.kind == PlanKind::kUnion && node.union_tags.size() >= UnionCache::kMinMembers) {
    std::vector<TagId> ids = node.union_tags;
    std::sort(ids.begin(), ids.end());
    node.cached_union = cache.get(view, ids);
    return;
  }
  for (PlanNode& child : node.children) attach_cached_unions(child, view, cache);
}

// Unions of values of one exclusive field (SystemView::exclusive): the first
// member's field decides, then every member must share it -- O(members) only
// for exclusive fields, one lookup for any other union.
void mark_disjoint(PlanNode& node, const IndexView& view) {
  if (node.kind == PlanKind::kUnion && node.union_tags.size() >= 2) {
    const std::string& first = view.dictionary().name(node.union_tags.front());
    const std::string_view field = tag_field(first);
    if (field.size() == first.size() || view.dictionary().is_system(node.union_tags.front()) ||
        !view.system().exclusive(field)) {
      return;
    }
    node.disjoint = std::all_of(node.union_tags.begin(), node.union_tags.end(), [&](TagId id) {
      const std::string& name = view.dictionary().name(id);
      return !view.dictionary().is_system(id) && name.size() > field.size() && name.starts_with(field) &&
             name[field.size()] == ':';
    });
    return;
  }
  for (PlanNode& child : node.children) mark_disjoint(child, view);
}

}  // namespace

std::variant<Plan, Error> compile(std::string_view text, const IndexView& view, const Options& options) {
  // Before lexing: an oversized request costs O(1).
  if (text.size() > kMaxQueryBytes) {
    return Error{ErrorCode::kTooLarge,
                 "query is " + std::to_string(text.size()) + " bytes; the limit is " + std::to_string(kMaxQueryBytes),
                 0,
                 {}};
  }
  // Every stage checks the deadline as it goes (lexer, resolve, rewrite,
  // union_of); these checks between stages are for the stages' own short
  // tails.
  auto parsed = parse(text);
  if (auto* error = std::get_if<Error>(&parsed)) return std::move(*error);
  Deadline::check();
  ResolveNotes notes;
  auto resolved = resolve(std::get<Ast>(parsed), view, options, &notes);
  if (auto* error = std::get_if<Error>(&resolved)) return std::move(*error);
  auto& root = std::get<PlanNode>(resolved);
  rewrite(root, view);
  Deadline::check();
  if (options.disjoint_sums) mark_disjoint(root, view);
  if (options.union_cache != nullptr) attach_cached_unions(root, view, *options.union_cache);
  Plan plan(std::move(root), view);
  plan.set_warnings(std::move(notes.warnings));
  plan.set_as_of(notes.as_of);
  return plan;
}

}  // namespace crowd::query
