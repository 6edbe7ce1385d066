// Lexer: query text -> tokens, one at a time.
//
// The parser pulls tokens lazily, so the first error in reading order wins
// whether it is lexical (a bad escape, invalid UTF-8) or grammatical.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "query/deadline.h"
#include "query/error.h"
#include "query/token.h"

namespace crowd::query {

// Bytes that end a bare tag: ASCII whitespace and ( ) " & | ! * , @ < > =.
// Every other byte, including all of non-ASCII UTF-8, belongs to one. O(1).
[[nodiscard]] bool is_bare_tag_byte(unsigned char c);
// ASCII whitespace: space, \t, \n, \v, \f, \r. O(1).
[[nodiscard]] bool is_query_space(unsigned char c);

// The keyword a bare word spells (AND OR NOT ALL BETWEEN, ASCII
// case-insensitive), if any. O(1).
[[nodiscard]] std::optional<TokenKind> keyword(std::string_view word);

// True when `tag` can be written bare: non-empty, only bare-tag bytes, valid
// UTF-8 and not a keyword. Otherwise it must be quoted. O(tag length).
[[nodiscard]] bool can_be_bare(std::string_view tag);

class Lexer {
 public:
  // `text` must outlive the lexer.
  explicit Lexer(std::string_view text) : text_(text) {}

  // The next token. O(token length). After a kError or kEnd token the lexer
  // keeps returning kEnd. Checks the calling thread's deadline every 256
  // tokens (deadline.h): may throw TimedOut.
  [[nodiscard]] Token next();

 private:
  // Advances over a run of bare-tag bytes (UTF-8 checked); returns the
  // offset of an ill-formed sequence, if any.
  [[nodiscard]] std::optional<std::size_t> skip_bare_run();
  [[nodiscard]] Token word(std::size_t start);
  [[nodiscard]] Token quoted(std::size_t start);
  [[nodiscard]] Token saved(std::size_t start);
  [[nodiscard]] Token error(std::size_t position, std::string message);

  std::string_view text_;
  std::size_t at_ = 0;
  // 64 KiB of query is up to ~32,000 tokens; every 256 costs one clock read.
  DeadlineTicker<256> deadline_;
};

// All tokens up to and excluding kEnd, or the first error. For tests and
// tools; the parser uses Lexer directly. Checks the calling thread's
// deadline every 256 tokens (deadline.h); may throw TimedOut.
[[nodiscard]] std::variant<std::vector<Token>, Error> tokenize(std::string_view text);

}  // namespace crowd::query
