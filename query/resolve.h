// Resolve: Ast -> PlanNode against one IndexView, before any rewrite.
//
// Tags become their bitmaps, a prefix becomes the union of every tag whose
// name starts with its bytes (one range of the dictionary's sorted names),
// ALL the universe. This is where names meet the index, so it is where
// unknown names are reported.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "index/index_view.h"
#include "query/ast.h"
#include "query/error.h"
#include "query/options.h"
#include "query/plan.h"

namespace crowd::query {

// O(nodes + tags matched by prefixes), each tag an O(1) hash lookup; the
// error path adds one suggestion scan of the dictionary. Recursion depth =
// Ast depth.
//
// Errors, the leftmost in the text:
//  - kUnknownTag: a tag not in the dictionary, a prefix no tag starts with
//    (both with suggestions), a saved crowd ("unknown saved crowd @x") or a
//    numeric attribute ("unknown attribute x"). With options.lenient each of
//    these is the empty set instead.
//  - kCrowdTooSmall: a lookalike() seed below options.min_seed (lenient or
//    not).
//  - kTooManyTags: the plan would hold more than options.max_tags tags
//    (limits.h), at the operand that passes the cap; charged before a
//    prefix's matches are copied, so refusing costs no expansion.
// Repeated leaf operands of one AND/OR chain resolve once (repeats.h).
// Resolution evaluates comparisons, within() windows and lookalike() seeds,
// so it checks the request's deadline (deadline.h) and may throw TimedOut;
// it also checks every 64 nodes and before any expansion of 4,096+ tags.
// Relative windows (within(tag, Nd)) count back from options.as_of, or
// from today by the system clock when it is unset.
struct ResolveNotes {
  // Notes about a query that compiles but likely does not mean what it says
  // (a within() over a tag that has no dated events at all, which matches no
  // one), each once.
  std::vector<std::string> warnings;
  // The day relative windows counted back from, when the query had one.
  std::optional<int64_t> as_of;
};
[[nodiscard]] std::variant<PlanNode, Error> resolve(const Ast& ast, const IndexView& view, const Options& options,
                                                    ResolveNotes* notes = nullptr);

}  // namespace crowd::query
