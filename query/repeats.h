// Repeated operands of one AND/OR chain: `x OR x` is `x`, `x AND x` is `x`,
// so a chain's second and later copies of a leaf can be skipped before
// anything is looked up or expanded. This is what keeps 64 KiB of
// `c* | c* | ...` (21,845 copies of one prefix) from expanding the prefix
// 21,845 times: resolve() keeps the first copy only.
//
// A repeat is a leaf equal in kind and text to an earlier operand of the
// same chain: a prefix always (it is what expansion multiplies); a tag,
// saved crowd or ALL in a chain of more than kPairwiseRepeatsUpTo operands
// (in a short chain a repeated tag costs one lookup, less than looking for
// it; rewrite's collect_unions lists each tag of an OR once anyway). The
// first copy is kept, so positions and the leftmost-error rule are
// unchanged. Groups and calls are always kept (they are rare, and comparing
// subtrees costs more than it saves).
#pragma once

#include <cstddef>
#include <vector>

#include "query/ast.h"

namespace crowd::query {

// Chains up to this long are checked for repeated prefixes only, pairwise
// among their prefixes: the usual query has chains of 2-8 and a 30-city OR
// is common, and checking every tag against every other measurably slowed
// resolving (bench-layers BM_ResolveRewrite). Longer chains go through a
// hash set of every leaf.
inline constexpr std::size_t kPairwiseRepeatsUpTo = 32;

// Whether chain[i] is a prefix that repeats an earlier one. O(i) for a
// prefix, O(1) otherwise.
[[nodiscard]] inline bool repeats_earlier_prefix(const std::vector<AstNode>& chain, std::size_t i) {
  const AstNode& a = chain[i];
  if (a.kind != AstKind::kPrefix) return false;
  for (std::size_t j = 0; j < i; ++j) {
    if (chain[j].kind == AstKind::kPrefix && chain[j].text == a.text) return true;
  }
  return false;
}

// The indices of `chain`'s operands that repeat no earlier leaf, ascending,
// for the long chains. O(n) expected (an open-addressing set of the leaves'
// kind and text, one allocation). Checks the deadline (deadline.h) every
// 1,024 operands; may throw TimedOut.
[[nodiscard]] std::vector<std::size_t> distinct_operands(const std::vector<AstNode>& chain);

// Calls visit(i) for each operand that is not a repeat (above), in order,
// until it returns false; returns false then, else true. Short chains
// allocate nothing.
template <class Visit>
bool for_each_distinct(const std::vector<AstNode>& chain, Visit&& visit) {
  if (chain.size() <= kPairwiseRepeatsUpTo) {
    for (std::size_t i = 0; i < chain.size(); ++i) {
      if (!repeats_earlier_prefix(chain, i) && !visit(i)) return false;
    }
    return true;
  }
  for (const std::size_t i : distinct_operands(chain)) {
    if (!visit(i)) return false;
  }
  return true;
}

}  // namespace crowd::query
