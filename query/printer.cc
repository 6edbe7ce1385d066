#include "query/printer.h"

#include "query/date.h"
#include "query/lexer.h"

namespace crowd::query {
namespace {

// Whether `child`, printed as an operand of a node of kind `parent`, needs
// parentheses to parse back into the same tree: looser-binding operators,
// and an AND directly under an AND (or OR under OR), which would otherwise
// merge into the parent's chain.
bool needs_parens(AstKind parent, const AstNode& child) {
  switch (child.kind) {
    case AstKind::kOr:
      return parent == AstKind::kOr || parent == AstKind::kAnd || parent == AstKind::kNot;
    case AstKind::kAnd:
      return parent == AstKind::kAnd || parent == AstKind::kNot;
    default:
      return false;
  }
}

void print_into(const AstNode& node, std::string& out);

void print_operand(AstKind parent, const AstNode& child, std::string& out) {
  const bool parens = needs_parens(parent, child);
  if (parens) out.push_back('(');
  print_into(child, out);
  if (parens) out.push_back(')');
}

void print_into(const AstNode& node, std::string& out) {
  switch (node.kind) {
    case AstKind::kTag:
      out += quote_tag(node.text);
      return;
    case AstKind::kPrefix:
      out += quote_tag(node.text);
      out.push_back('*');
      return;
    case AstKind::kAll:
      out += "ALL";
      return;
    case AstKind::kNot:
      out += "NOT ";
      print_operand(AstKind::kNot, node.children.front(), out);
      return;
    case AstKind::kAnd:
    case AstKind::kOr: {
      const char* separator = node.kind == AstKind::kAnd ? " AND " : " OR ";
      for (std::size_t i = 0; i < node.children.size(); ++i) {
        if (i > 0) out += separator;
        print_operand(node.kind, node.children[i], out);
      }
      return;
    }
    case AstKind::kSavedCrowd:
      out.push_back('@');
      out += node.text;
      return;
    case AstKind::kCompare:
      out += node.text;
      out.push_back(' ');
      out += spelling(node.op);
      out.push_back(' ');
      out += std::to_string(node.low);
      if (node.op == CompareOp::kBetween) {
        out += " AND ";
        out += std::to_string(node.high);
      }
      return;
    case AstKind::kLookalike:
      out += "lookalike(";
      print_into(node.children.front(), out);
      out += ", ";
      out += std::to_string(node.low);
      out.push_back(')');
      return;
    case AstKind::kWithin:
      out += "within(";
      out += quote_tag(node.text);
      if (node.prefix) out.push_back('*');
      out += ", ";
      if (node.last_days) {
        out += std::to_string(node.low);
        out.push_back('d');
      } else {
        out += format_day(node.low);
        out += ", ";
        out += format_day(node.high);
      }
      out.push_back(')');
      return;
  }
}

}  // namespace

std::string quote_tag(std::string_view tag) {
  if (can_be_bare(tag)) return std::string(tag);
  std::string out;
  out.reserve(tag.size() + 2);
  out.push_back('"');
  for (const char c : tag) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string print(const Ast& ast) {
  std::string out;
  print_into(ast, out);
  return out;
}

}  // namespace crowd::query
