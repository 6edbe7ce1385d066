#include "query/parser.h"

#include <charconv>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "query/date.h"
#include "query/deadline.h"
#include "query/lexer.h"
#include "query/limits.h"

namespace crowd::query {
namespace {

std::optional<CompareOp> compare_op(TokenKind kind) {
  switch (kind) {
    case TokenKind::kLess:
      return CompareOp::kLess;
    case TokenKind::kLessEqual:
      return CompareOp::kLessEqual;
    case TokenKind::kGreater:
      return CompareOp::kGreater;
    case TokenKind::kGreaterEqual:
      return CompareOp::kGreaterEqual;
    case TokenKind::kEqual:
      return CompareOp::kEqual;
    case TokenKind::kNotEqual:
      return CompareOp::kNotEqual;
    default:
      return std::nullopt;
  }
}

bool is_call_name(std::string_view word, std::string_view name) {
  if (word.size() != name.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != name[i]) return false;
  }
  return true;
}

// -?[0-9]+ within int64.
std::optional<int64_t> parse_int(std::string_view word) {
  const std::size_t digits = word.starts_with('-') ? 1 : 0;
  if (word.size() == digits) return std::nullopt;
  for (std::size_t i = digits; i < word.size(); ++i) {
    if (word[i] < '0' || word[i] > '9') return std::nullopt;
  }
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (ec != std::errc() || end != word.data() + word.size()) return std::nullopt;
  return value;
}

bool looks_like_int(std::string_view word) {
  const std::size_t digits = word.starts_with('-') ? 1 : 0;
  if (word.size() == digits) return false;
  for (std::size_t i = digits; i < word.size(); ++i) {
    if (word[i] < '0' || word[i] > '9') return false;
  }
  return true;
}

// Recursive descent; one level of recursion per nesting level (limits.h).
// Helpers off the recursive path are [[gnu::noinline]] so that their string
// temporaries do not sit in every recursive frame: the deepest accepted
// query then needs well under 256 KiB of stack.
class Parser {
 public:
  explicit Parser(std::string_view text) : lexer_(text) {}

  std::variant<Ast, Error> run() {
    advance();
    if (current_.kind == TokenKind::kEnd) return Error{ErrorCode::kParse, "empty query", 0, {}};
    AstNode root;
    if (parse_or(root)) {
      if (current_.kind == TokenKind::kRParen) {
        fail(current_.position, "unmatched ')'");
      } else if (current_.kind != TokenKind::kEnd) {
        expected_operator("end of query");
      }
    }
    if (error_) return std::move(*error_);
    return root;
  }

 private:
  // Moves to the next token; a lexical error becomes the parse error.
  [[gnu::noinline]] void advance() {
    if (lookahead_) {
      current_ = std::move(*lookahead_);
      lookahead_.reset();
    } else {
      current_ = lexer_.next();
    }
    if (current_.kind == TokenKind::kError) fail(current_.position, current_.text);
  }

  // The token after the current one, without consuming it.
  const Token& peek() {
    if (!lookahead_) lookahead_ = lexer_.next();
    return *lookahead_;
  }

  [[gnu::noinline]] bool fail(std::size_t position, std::string message) {
    if (!error_) error_ = Error{ErrorCode::kParse, std::move(message), position, {}};
    return false;
  }

  bool ok() const { return !error_; }

  // One more level of nesting at `position`, or the depth error.
  [[gnu::noinline]] bool enter(std::size_t position) {
    if (depth_ >= kMaxDepth) {
      return fail(position, "query nests deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    ++depth_;
    return true;
  }

  // Two operands side by side. A second one shaped like a tag (field:value,
  // quoted, a prefix) is most likely a missing AND or OR; a bare word, the
  // rest of a tag whose name holds a space (`city:new york`).
  [[gnu::noinline]] bool expected_operator(std::string_view or_what) {
    std::string message = "expected AND, OR or " + std::string(or_what) + ", found " + describe(current_);
    const bool word = current_.kind == TokenKind::kWord;
    if (current_.kind == TokenKind::kQuoted || current_.kind == TokenKind::kPrefix ||
        (word && current_.text.find(':') != std::string_view::npos)) {
      message += " (an AND or OR missing between two tags?)";
    } else if (word) {
      message += " (a tag whose name holds a space must be quoted: \"city:new york\")";
    }
    return fail(current_.position, std::move(message));
  }

  [[gnu::noinline]] bool expected_operand() {
    return fail(current_.position, "expected a tag, prefix, '(', NOT or ALL, found " + describe(current_));
  }

  bool parse_or(AstNode& out) { return parse_chain(out, TokenKind::kOr, AstKind::kOr); }

  bool parse_and(AstNode& out) { return parse_chain(out, TokenKind::kAnd, AstKind::kAnd); }

  // operand { op operand }, collected into one n-ary node without recursing
  // per operator. This function, parse_unary and parse_primary are the
  // recursive path, on the stack once per nesting level: they hold no
  // temporaries, and everything else happens in out-of-line helpers.
  bool parse_chain(AstNode& out, TokenKind op, AstKind kind) {
    if (!(op == TokenKind::kOr ? parse_and(out) : parse_unary(out))) return false;
    if (current_.kind != op) return true;
    return parse_rest_of_chain(out, op, kind);
  }

  // `out` holds the first operand and the operator is current.
  [[gnu::noinline]] bool parse_rest_of_chain(AstNode& out, TokenKind op, AstKind kind) {
    std::vector<AstNode> operands;
    operands.push_back(std::move(out));
    while (current_.kind == op) {
      // Lexing and parsing are O(1) a token and a 64 KiB query is at most
      // ~32,000 operands, all in chains (nesting is capped): a check every
      // 256 operands bounds both stages without a cost a token.
      deadline_.tick();
      advance();
      if (!ok()) return false;
      AstNode& next = operands.emplace_back();  // parsed in place
      if (!(op == TokenKind::kOr ? parse_and(next) : parse_unary(next))) return false;
    }
    const std::size_t position = operands.front().position;
    out = make_nary(kind, std::move(operands), position);
    return true;
  }

  bool parse_unary(AstNode& out) {
    if (current_.kind != TokenKind::kNot) return parse_primary(out);
    return parse_nots(out);
  }

  // NOT chains loop rather than recurse; each NOT still counts one level.
  [[gnu::noinline]] bool parse_nots(AstNode& out) {
    std::vector<std::size_t> nots;
    const int depth_before = depth_;
    while (current_.kind == TokenKind::kNot) {
      if (!enter(current_.position)) return false;
      nots.push_back(current_.position);
      advance();
      if (!ok()) return false;
    }
    const bool parsed = parse_primary(out);
    depth_ = depth_before;
    if (!parsed) return false;
    for (auto it = nots.rbegin(); it != nots.rend(); ++it) out = make_not(std::move(out), *it);
    return true;
  }

  bool parse_primary(AstNode& out) {
    if (current_.kind != TokenKind::kLParen) return parse_leaf(out);
    const std::size_t position = current_.position;
    if (!enter(position)) return false;
    advance();
    if (!ok() || !parse_or(out)) return false;
    --depth_;
    if (current_.kind != TokenKind::kRParen) return unclosed(position);
    advance();
    return ok();
  }

  [[gnu::noinline]] bool unclosed(std::size_t open) {
    if (current_.kind == TokenKind::kEnd) return fail(open, "'(' is never closed");
    return expected_operator("')'");
  }

  // Every primary but a group.
  [[gnu::noinline]] bool parse_leaf(AstNode& out) {
    const std::size_t position = current_.position;
    switch (current_.kind) {
      case TokenKind::kQuoted:
        out = make_tag(std::move(current_.text), position);
        break;
      case TokenKind::kPrefix:
        out = make_prefix(std::move(current_.text), position);
        break;
      case TokenKind::kAll:
        out = make_all(position);
        break;
      case TokenKind::kSaved:
        out = make_saved_crowd(std::move(current_.text), position);
        break;
      case TokenKind::kWord:
        return parse_word(out);
      default:
        return expected_operand();
    }
    advance();
    return ok();
  }

  // A bare word: a tag, or an attribute of a comparison, or a call's name,
  // depending on the token after it.
  [[gnu::noinline]] bool parse_word(AstNode& out) {
    const std::size_t position = current_.position;
    const TokenKind after = peek().kind;
    if (after == TokenKind::kLParen) {
      if (is_call_name(current_.text, "lookalike")) return parse_lookalike(out);
      if (is_call_name(current_.text, "within")) return parse_within(out);
    }
    if (const auto op = compare_op(after)) {
      std::string attribute = std::move(current_.text);
      advance();  // attribute
      const std::string op_name = describe(current_);
      advance();  // operator
      int64_t value = 0;
      if (!ok() || !expect_int(value, "after " + op_name)) return false;
      out = make_compare(std::move(attribute), *op, value, position);
      return true;
    }
    if (after == TokenKind::kBetween) {
      std::string attribute = std::move(current_.text);
      advance();  // attribute
      advance();  // BETWEEN
      int64_t low = 0;
      int64_t high = 0;
      if (!ok() || !expect_int(low, "after BETWEEN")) return false;
      if (current_.kind != TokenKind::kAnd) {
        return fail(current_.position, "expected AND between the bounds of BETWEEN, found " + describe(current_));
      }
      advance();
      if (!ok() || !expect_int(high, "after BETWEEN ... AND")) return false;
      out = make_between(std::move(attribute), low, high, position);
      return true;
    }
    out = make_tag(std::move(current_.text), position);
    advance();
    return ok();
  }

  [[gnu::noinline]] bool expect_int(int64_t& value, const std::string& where) {
    if (current_.kind == TokenKind::kWord) {
      if (const auto parsed = parse_int(current_.text)) {
        value = *parsed;
        advance();
        return ok();
      }
      if (looks_like_int(current_.text)) return fail(current_.position, "integer out of range");
    }
    return fail(current_.position, "expected an integer " + where + ", found " + describe(current_));
  }

  [[gnu::noinline]] bool expect(TokenKind kind, const char* what) {
    if (current_.kind != kind)
      return fail(current_.position, std::string("expected ") + what + ", found " + describe(current_));
    advance();
    return ok();
  }

  // lookalike ( expr , INT )
  [[gnu::noinline]] bool parse_lookalike(AstNode& out) {
    const std::size_t position = current_.position;
    advance();  // name; the '(' follows
    if (!enter(current_.position)) return false;
    advance();
    AstNode seed;
    if (!ok() || !parse_or(seed)) return false;
    if (current_.kind != TokenKind::kComma) {
      if (current_.kind == TokenKind::kEnd) return fail(position, "lookalike( is never closed");
      return expected_operator("',' and the lookalike size");
    }
    advance();
    int64_t size = 0;
    const std::size_t size_position = current_.position;
    if (!ok() || !expect_int(size, "as the lookalike size")) return false;
    if (size < 1) return fail(size_position, "lookalike size must be at least 1, not " + std::to_string(size));
    if (!expect(TokenKind::kRParen, "')' closing lookalike(")) return false;
    --depth_;
    out = make_lookalike(std::move(seed), size, position);
    return true;
  }

  // within ( tag-or-prefix , DATE , DATE ) | within ( tag-or-prefix , DAYS )
  [[gnu::noinline]] bool parse_within(AstNode& out) {
    const std::size_t position = current_.position;
    advance();  // name; the '(' follows
    if (!enter(current_.position)) return false;
    advance();
    if (!ok()) return false;
    if (current_.kind != TokenKind::kWord && current_.kind != TokenKind::kQuoted &&
        current_.kind != TokenKind::kPrefix) {
      return fail(current_.position,
                  "expected a tag or a prefix as the first argument of within(), found " + describe(current_));
    }
    const bool prefix = current_.kind == TokenKind::kPrefix;
    std::string tag = std::move(current_.text);
    advance();
    if (!ok() || !expect(TokenKind::kComma, "','")) return false;
    if (current_.kind != TokenKind::kWord) return expected_span();
    const std::string_view word = current_.text;
    if (word.size() >= 2 && word.back() == 'd' && looks_like_int(word.substr(0, word.size() - 1)) &&
        word.front() != '-') {
      const auto days = parse_int(word.substr(0, word.size() - 1));
      if (!days) return fail(current_.position, "integer out of range");
      if (*days < 1) return fail(current_.position, "within() needs at least 1 day, not " + std::to_string(*days));
      advance();
      if (!ok() || !expect(TokenKind::kRParen, "')' closing within(")) return false;
      --depth_;
      out = make_within_days(std::move(tag), *days, position);
      if (prefix) out.prefix = true;
      return true;
    }
    const auto first = parse_day(word);
    if (!first) return expected_span();
    advance();
    if (!ok() || !expect(TokenKind::kComma, "',' and the last day")) return false;
    if (current_.kind != TokenKind::kWord) return expected_date();
    const auto last = parse_day(current_.text);
    if (!last) return expected_date();
    advance();
    if (!ok() || !expect(TokenKind::kRParen, "')' closing within(")) return false;
    --depth_;
    out = make_within_dates(std::move(tag), *first, *last, position);
    if (prefix) out.prefix = true;
    return true;
  }

  [[gnu::noinline]] bool expected_span() {
    return fail(current_.position,
                "expected a date (YYYY-MM-DD) or a day count (like 30d) in within(), found " + describe(current_));
  }

  [[gnu::noinline]] bool expected_date() {
    return fail(current_.position, "expected a date (YYYY-MM-DD) in within(), found " + describe(current_));
  }

  Lexer lexer_;
  Token current_;
  std::optional<Token> lookahead_;
  std::optional<Error> error_;
  int depth_ = 0;
  DeadlineTicker<256> deadline_;
};

}  // namespace

std::variant<Ast, Error> parse(std::string_view text) { return Parser(text).run(); }

}  // namespace crowd::query
