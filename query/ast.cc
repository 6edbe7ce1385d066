#include "query/ast.h"

#include <algorithm>
#include <utility>

namespace crowd::query {

AstNode make_tag(std::string tag, std::size_t position) {
  AstNode n;
  n.kind = AstKind::kTag;
  n.position = position;
  n.text = std::move(tag);
  return n;
}

AstNode make_prefix(std::string prefix, std::size_t position) {
  AstNode n;
  n.kind = AstKind::kPrefix;
  n.position = position;
  n.text = std::move(prefix);
  return n;
}

AstNode make_all(std::size_t position) {
  AstNode n;
  n.kind = AstKind::kAll;
  n.position = position;
  return n;
}

AstNode make_not(AstNode operand, std::size_t position) {
  AstNode n;
  n.kind = AstKind::kNot;
  n.position = position;
  n.children.push_back(std::move(operand));
  return n;
}

AstNode make_nary(AstKind kind, std::vector<AstNode> operands, std::size_t position) {
  AstNode n;
  n.kind = kind;
  n.position = position;
  n.children = std::move(operands);
  return n;
}

AstNode make_saved_crowd(std::string name, std::size_t position) {
  AstNode n;
  n.kind = AstKind::kSavedCrowd;
  n.position = position;
  n.text = std::move(name);
  return n;
}

AstNode make_compare(std::string attribute, CompareOp op, int64_t value, std::size_t position) {
  AstNode n;
  n.kind = AstKind::kCompare;
  n.position = position;
  n.text = std::move(attribute);
  n.op = op;
  n.low = value;
  return n;
}

AstNode make_between(std::string attribute, int64_t low, int64_t high, std::size_t position) {
  AstNode n = make_compare(std::move(attribute), CompareOp::kBetween, low, position);
  n.high = high;
  return n;
}

AstNode make_lookalike(AstNode seed, int64_t size, std::size_t position) {
  AstNode n;
  n.kind = AstKind::kLookalike;
  n.position = position;
  n.low = size;
  n.children.push_back(std::move(seed));
  return n;
}

AstNode make_within_dates(std::string tag, int64_t first_day, int64_t last_day, std::size_t position) {
  AstNode n;
  n.kind = AstKind::kWithin;
  n.position = position;
  n.text = std::move(tag);
  n.low = first_day;
  n.high = last_day;
  return n;
}

AstNode make_within_days(std::string tag, int64_t days, std::size_t position) {
  AstNode n;
  n.kind = AstKind::kWithin;
  n.position = position;
  n.text = std::move(tag);
  n.last_days = true;
  n.low = days;
  return n;
}

AstNode make_within_prefix(AstNode within, std::string prefix) {
  within.text = std::move(prefix);
  within.prefix = true;
  return within;
}

bool structurally_equal(const AstNode& a, const AstNode& b) {
  if (a.kind != b.kind || a.text != b.text || a.op != b.op || a.last_days != b.last_days || a.prefix != b.prefix ||
      a.low != b.low ||
      a.high != b.high || a.children.size() != b.children.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.children.size(); ++i) {
    if (!structurally_equal(a.children[i], b.children[i])) return false;
  }
  return true;
}

std::size_t depth(const AstNode& node) {
  std::size_t deepest = 0;
  for (const auto& child : node.children) deepest = std::max(deepest, depth(child));
  return deepest + 1;
}

const char* spelling(CompareOp op) {
  switch (op) {
    case CompareOp::kLess:
      return "<";
    case CompareOp::kLessEqual:
      return "<=";
    case CompareOp::kGreater:
      return ">";
    case CompareOp::kGreaterEqual:
      return ">=";
    case CompareOp::kEqual:
      return "=";
    case CompareOp::kNotEqual:
      return "!=";
    case CompareOp::kBetween:
      return "BETWEEN";
  }
  return "=";
}

}  // namespace crowd::query
