// Token: one lexical unit of the query language (see parser.h for the grammar).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace crowd::query {

enum class TokenKind : uint8_t {
  kEnd,      // end of the text (returned again on every later call)
  kError,    // malformed input: `text` is the message, `position` the offending byte
  kWord,     // a bare tag that is not a keyword (also attribute names, integers, dates)
  kQuoted,   // a quoted tag; `text` holds it unescaped
  kPrefix,   // a bare or quoted tag immediately followed by '*'; `text` is the prefix
  kSaved,    // '@' name; `text` is the name
  kAnd,      // AND, &
  kOr,       // OR, |
  kNot,      // NOT, !
  kAll,      // ALL
  kBetween,  // BETWEEN
  kLParen,
  kRParen,
  kComma,
  kLess,          // <
  kLessEqual,     // <=
  kGreater,       // >
  kGreaterEqual,  // >=
  kEqual,         // =
  kNotEqual,      // !=
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::size_t position = 0;  // byte offset of the token's first byte
  std::string text;
};

// How a token is named in error messages: "AND", "'('", "end of query",
// "tag 'x'".
[[nodiscard]] std::string describe(const Token& token);

}  // namespace crowd::query
