// The query language's hard limits, each with its reason.
#pragma once

#include <cstddef>

namespace crowd::query {

// Longest accepted query text, in bytes (CONTRACT.md: at least 64 KiB).
// Checked before lexing, so an oversized request costs O(1). 64 KiB holds
// an OR of several thousand tags, far beyond what a person writes; larger
// lists belong in a saved crowd.
inline constexpr std::size_t kMaxQueryBytes = 64 * 1024;

// Deepest accepted nesting (CONTRACT.md: at least 64). Every '(' (a group or
// a call's argument list) and every NOT / '!' adds one level for what it
// encloses; a query is accepted while no point in it is enclosed by more
// than kMaxDepth of them (so 256 '(' around a tag parse, 257 do not; 256
// NOTs before a tag parse, 257 do not). The parser recurses once per level,
// and every later stage recurses at most a few frames per level, so this
// bound is what keeps hostile input ("((((...", "NOT NOT NOT ...") from
// overflowing the stack. Chains of AND/OR do not nest: they parse into one
// n-ary node iteratively.
inline constexpr int kMaxDepth = 256;

}  // namespace crowd::query
