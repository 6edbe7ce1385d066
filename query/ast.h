// Ast: the parsed query, before any lookup in the index.
//
// One node type with a kind tag (the evaluator never sees it: resolve.h
// turns it into a Plan). AND and OR are n-ary: a chain "a AND b AND c"
// parses iteratively into one node with three children, so a 20,000-term
// chain is one level deep. Nesting depth is bounded by the parser
// (limits.h), which is what keeps the recursive walks over an Ast —
// printing, comparison, destruction — within a few thousand frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace crowd::query {

enum class AstKind : uint8_t {
  kTag,         // text: the tag's bytes
  kPrefix,      // text: the prefix's bytes (without '*')
  kAll,         // the universe
  kNot,         // children: 1
  kAnd,         // children: 2 or more, in source order
  kOr,          // children: 2 or more, in source order
  kSavedCrowd,  // @text
  kCompare,     // text op low, or text BETWEEN low AND high
  kLookalike,   // lookalike(children[0], low)
  kWithin,      // within(text, low, high) with days since 1970-01-01, or within(text, low "d");
                // `prefix`: text is a prefix (within(cat:1:*, 30d)), every tag it matches
};

enum class CompareOp : uint8_t { kLess, kLessEqual, kGreater, kGreaterEqual, kEqual, kNotEqual, kBetween };

struct AstNode {
  AstKind kind = AstKind::kAll;
  // Byte offset in the query text where the node starts: the tag (its
  // opening quote if quoted), '@', the attribute, the call's name, the NOT,
  // or an AND/OR's first operand. Not part of structural equality.
  std::size_t position = 0;
  std::string text;                  // kTag, kPrefix, kSavedCrowd, kCompare (attribute), kWithin (tag)
  CompareOp op = CompareOp::kEqual;  // kCompare
  bool last_days = false;            // kWithin: true for within(tag, Nd)
  bool prefix = false;               // kWithin: text is a prefix (without '*')
  int64_t low = 0;   // kCompare: operand (BETWEEN: lower bound); kLookalike: size; kWithin: first day or N
  int64_t high = 0;  // kCompare BETWEEN: upper bound; kWithin with dates: last day
  std::vector<AstNode> children;
};

using Ast = AstNode;

// Constructors that leave every unused field at its default, so that
// structural equality can compare all fields.
[[nodiscard]] AstNode make_tag(std::string tag, std::size_t position = 0);
[[nodiscard]] AstNode make_prefix(std::string prefix, std::size_t position = 0);
[[nodiscard]] AstNode make_all(std::size_t position = 0);
[[nodiscard]] AstNode make_not(AstNode operand, std::size_t position = 0);
// `kind` is kAnd or kOr; `operands` must hold at least two nodes.
[[nodiscard]] AstNode make_nary(AstKind kind, std::vector<AstNode> operands, std::size_t position = 0);
[[nodiscard]] AstNode make_saved_crowd(std::string name, std::size_t position = 0);
// op != kBetween.
[[nodiscard]] AstNode make_compare(std::string attribute, CompareOp op, int64_t value, std::size_t position = 0);
[[nodiscard]] AstNode make_between(std::string attribute, int64_t low, int64_t high, std::size_t position = 0);
[[nodiscard]] AstNode make_lookalike(AstNode seed, int64_t size, std::size_t position = 0);
[[nodiscard]] AstNode make_within_dates(std::string tag, int64_t first_day, int64_t last_day, std::size_t position = 0);
[[nodiscard]] AstNode make_within_days(std::string tag, int64_t days, std::size_t position = 0);
// The same over every tag starting with `prefix`.
[[nodiscard]] AstNode make_within_prefix(AstNode within, std::string prefix);

// Equal kinds, texts, operators, numbers and children; positions ignored.
// O(nodes); recursion depth = Ast depth.
[[nodiscard]] bool structurally_equal(const AstNode& a, const AstNode& b);

// Deepest chain of nodes from `node` down (a leaf is 1). O(nodes).
[[nodiscard]] std::size_t depth(const AstNode& node);

// The operator's spelling in query text: "<", "<=", ..., "BETWEEN".
[[nodiscard]] const char* spelling(CompareOp op);

}  // namespace crowd::query
