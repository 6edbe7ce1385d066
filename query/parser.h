// Parser: query text -> Ast, with byte positions, before any index lookup.
//
// The grammar as implemented (CONTRACT.md §2 is the source of truth):
//
//   query    := expr END
//   expr     := and { OR and }                      -- n-ary: one node per chain
//   and      := unary { AND unary }                 -- n-ary; "a AND NOT b" is an and-not
//   unary    := NOT unary | primary
//   primary  := "(" expr ")"
//             | tag | prefix | ALL | "@" name
//             | compare | call
//   tag      := bare-tag | quoted-tag
//   prefix   := tag "*"                            -- no space before '*'; byte prefix
//   compare  := WORD cmp-op INT | WORD BETWEEN INT AND INT
//   cmp-op   := "<" | "<=" | ">" | ">=" | "=" | "!="
//   call     := "lookalike" "(" expr "," INT ")"
//             | "within" "(" tag "," DATE "," DATE ")"
//             | "within" "(" tag "," DAYS ")"
//
//   AND      := "AND" | "&"        OR := "OR" | "|"        NOT := "NOT" | "!"
//   keywords AND OR NOT ALL BETWEEN: ASCII case-insensitive, and a bare word
//            equal to one (in any case) is the keyword, never a tag.
//   bare-tag := a maximal run of bytes that are neither ASCII whitespace nor
//            one of ( ) " & | ! * , @ < > =   (non-ASCII UTF-8 is allowed)
//   quoted-tag := '"' { any UTF-8 except '"' and '\' | '\"' | '\\' } '"'
//            (any other backslash escape is an error); may be empty
//   name     := a bare-tag run directly after '@' (keywords allowed there)
//   INT      := a bare word matching -?[0-9]+ within signed 64-bit
//   DATE     := a bare word YYYY-MM-DD naming a real date (years 0000-9999)
//   DAYS     := a bare word matching [0-9]+d (e.g. 30d)
//   "lookalike", "within": ASCII case-insensitive; a call only when the next
//            token is "(" (whitespace allowed between); otherwise a bare tag.
//   compare: a bare word is an attribute (not a tag) only when the next token
//            is a comparison operator or BETWEEN.
//
// Precedence: NOT binds tightest, then AND, then OR; parentheses group.
//
// Limits (limits.h): depth — every "(" (group or call) and every NOT adds
// one level for what it encloses; more than kMaxDepth levels is a parse
// error at the token that would exceed it. Size — compile() rejects text
// longer than kMaxQueryBytes (kTooLarge) before lexing; parse() itself takes
// any length safely (chains are iterative, nesting is bounded). Text must be valid UTF-8 (an ill-formed
// sequence is a parse error at its first byte); an empty or all-whitespace
// query is a parse error at 0.
//
// Errors: the first error in reading order, with its byte position; except
// an unclosed "(" reported at the "(" itself once the end is reached.
#pragma once

#include <string_view>
#include <variant>

#include "query/ast.h"
#include "query/error.h"

namespace crowd::query {

// Parses a whole query. O(text length), any length; recursion bounded by
// kMaxDepth. Errors: kParse (anything malformed, with the offending byte's
// position). The size limit is compile()'s (query.h). Checks the calling
// thread's deadline every 256 operands of a chain (deadline.h); may throw
// TimedOut.
[[nodiscard]] std::variant<Ast, Error> parse(std::string_view text);

}  // namespace crowd::query
