// The query layer's façade: text -> Plan (compile) -> count or bitmap
// (Evaluator). What the server calls; the stages behind it (lexer.h,
// parser.h, resolve.h, rewrite.h, evaluator.h, printer.h, suggest.h) are
// public for tests and benchmarks.
//
//   auto view = index.view();                       // keep it alive while the plan is used
//   auto compiled = query::compile(text, *view, {.lenient = false});
//   if (auto* e = std::get_if<query::Error>(&compiled)) -> 400/413 with e->code, e->position
//   uint64_t n = evaluator.count(std::get<query::Plan>(compiled), *view);
#pragma once

#include <string_view>
#include <variant>

#include "index/index_view.h"
#include "query/error.h"
#include "query/evaluator.h"
#include "query/limits.h"
#include "query/options.h"
#include "query/plan.h"

namespace crowd::query {

// Parses the whole text (syntax errors win), resolves it against `view`
// (the leftmost unknown name wins), applies every rewrite.
//
// Cost: O(text) to parse, O(1) per tag lookup, O(matches) per prefix (at
// most options.max_tags in all),
// O(nodes log nodes) for the rewrites; the error path adds a dictionary scan
// for suggestions. Never throws on bad input.
// Errors: kTooLarge when text.size() > kMaxQueryBytes (checked first);
// kParse for malformed text, nesting beyond kMaxDepth and invalid UTF-8;
// kUnknownTag (unless options.lenient) for unknown tags, prefixes matching
// nothing, saved crowds and attributes; kCrowdTooSmall for a lookalike()
// seed below options.min_seed; kTooManyTags when prefix expansion would
// give the plan more than options.max_tags tags (limits.h; repeated
// operands of a chain count once: they collapse before expansion). Every
// stage — lexing, parsing, resolving, expanding, rewriting, building unions
// — checks the calling thread's deadline (deadline.h) every so often and
// may throw TimedOut.
// The Plan borrows bitmaps from `view`.
[[nodiscard]] std::variant<Plan, Error> compile(std::string_view text, const IndexView& view,
                                                const Options& options = {});

}  // namespace crowd::query
