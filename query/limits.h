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

// Most tags one query may touch once prefixes are expanded (Options::max_tags
// carries it; a query past it is kTooManyTags). Every tag a plan holds is
// counted where it appears: a plain tag or saved crowd is 1, a prefix the
// tags it matches, a within() window its day tags. Identical operands of one
// AND/OR chain count once (they collapse before expansion), so only distinct
// work is charged. Why a cap: without it 64 KiB of `c* | c* | ...` expanded
// 21,845 copies of an 8,313-tag prefix, 181M plan leaves (2.2 GB, 30 s). A
// leaf costs ~40 bytes through compile (id, bitmap pointer, cache key and
// member check), so the cap bounds a query's plan to ~4 MB and its compile
// to milliseconds; 100,000 is ten times the demo's whole dictionary, and a
// query that needs more belongs in saved crowds.
inline constexpr std::size_t kMaxQueryTags = 100'000;

}  // namespace crowd::query
