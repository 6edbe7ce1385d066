// Repeated operands of one AND/OR chain: `x OR x` is `x`, `x AND x` is `x`,
// so a chain's second and later copies of a leaf can be skipped before
// anything is looked up or expanded. This is what keeps 64 KiB of
// `c* | c* | ...` (21,845 copies of one prefix) from expanding the prefix
// 21,845 times: resolve() keeps the first copy only.
#pragma once

#include <cstddef>
#include <vector>

#include "query/ast.h"

namespace crowd::query {

// The indices of `chain`'s operands to keep, ascending: every operand except
// a leaf (a tag, prefix, saved crowd or ALL) equal in kind and text to an
// earlier operand of the same chain. The first copy is kept, so positions
// and the leftmost-error rule are unchanged. Groups and calls are always
// kept (they are rare, and comparing subtrees costs more than it saves).
//
// O(n) expected: short chains (the usual 2-8 operands) compare pairwise
// without allocating beyond the result; longer ones use a hash set of the
// leaves' kind and text. Checks the deadline (deadline.h) every 1,024
// operands of a long chain; may throw TimedOut.
[[nodiscard]] std::vector<std::size_t> distinct_operands(const std::vector<AstNode>& chain);

}  // namespace crowd::query
