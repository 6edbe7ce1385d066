// Printer: Ast -> canonical query text.
//
// Canonical form: keywords in upper case (AND, OR, NOT, ALL, BETWEEN),
// call names in lower case, single spaces around binary operators, tags bare
// when they can be (lexer.h can_be_bare) and quoted otherwise, parentheses
// only where precedence or the tree's shape needs them. parse(print(q)) is
// structurally equal to q for every Ast the parser can produce, and for any
// hand-built one whose n-ary nodes have two or more operands, whose names
// (saved crowd, attribute) are non-empty bare words, whose days are in
// 0000-9999 and whose depth fits kMaxDepth.
#pragma once

#include <string>

#include "query/ast.h"

namespace crowd::query {

// O(size of the output); recursion depth = Ast depth.
[[nodiscard]] std::string print(const Ast& ast);

// A tag as query text: bare, or quoted with '"' and '\' escaped.
[[nodiscard]] std::string quote_tag(std::string_view tag);

}  // namespace crowd::query
