// NaiveRoaring: a query's count by plain CRoaring calls, operator by operator
// over crowd's AST — what a team hand-coding CRoaring would write, and the
// in-process floor crowd is compared with (bench/crowd_baselines_main.cc).
//
// Source order, no planning: an AND folds its operands left to right
// (roaring_bitmap_and, then *_inplace into the one result it owns; an
// operand "NOT x" is an and-not), an OR likewise with roaring_bitmap_or, a
// prefix is roaring_bitmap_or_many of its matching tags, NOT x is universe
// and-not x. Leaves are borrowed from the view, never copied.
//
// Two ways to end, because they differ a lot at 10M users (a materialised
// AND of two 10% tags ≈ 950 µs, its and_cardinality ≈ 38 µs; see
// PERFORMANCE-NOTES.md):
//   kMaterialize — build the root's set, then roaring_bitmap_get_cardinality
//                  (the literal hand-coded walker);
//   kCountLast   — the root's last operation is a *_cardinality call that
//                  builds nothing (CRoaring's own advice; the honest floor).
#pragma once

#include <cstdint>
#include <string>

#include "index/index_view.h"
#include "query/ast.h"

namespace crowd::bench {

enum class NaiveEnd : uint8_t { kMaterialize, kCountLast };

// The size of `ast` over `view`. Supports tags, prefixes, ALL, NOT, AND, OR;
// on anything else, an unknown tag or a prefix matching nothing, returns
// false with `error` set. Cost: every operator materialised (O(operand
// sizes)), except the last one under kCountLast.
[[nodiscard]] bool naive_count(const query::Ast& ast, const IndexView& view, NaiveEnd end, uint64_t& count,
                               std::string& error);

}  // namespace crowd::bench
