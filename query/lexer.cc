#include "query/lexer.h"

#include "query/deadline.h"

#include <optional>

#include <array>
#include <utility>

#include "query/utf8.h"

namespace crowd::query {
namespace {

bool equals_ignoring_ascii_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (x != b[i]) return false;  // b is upper case
  }
  return true;
}

}  // namespace

bool is_query_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

bool is_bare_tag_byte(unsigned char c) {
  if (is_query_space(c)) return false;
  switch (c) {
    case '(':
    case ')':
    case '"':
    case '&':
    case '|':
    case '!':
    case '*':
    case ',':
    case '@':
    case '<':
    case '>':
    case '=':
      return false;
    default:
      return true;
  }
}

std::optional<TokenKind> keyword(std::string_view word) {
  static constexpr std::array<std::pair<std::string_view, TokenKind>, 5> kKeywords = {{
      {"AND", TokenKind::kAnd},
      {"OR", TokenKind::kOr},
      {"NOT", TokenKind::kNot},
      {"ALL", TokenKind::kAll},
      {"BETWEEN", TokenKind::kBetween},
  }};
  if (word.size() < 2 || word.size() > 7) return std::nullopt;
  for (const auto& [spelling, kind] : kKeywords) {
    if (equals_ignoring_ascii_case(word, spelling)) return kind;
  }
  return std::nullopt;
}

bool can_be_bare(std::string_view tag) {
  if (tag.empty() || keyword(tag)) return false;
  for (const char c : tag) {
    if (!is_bare_tag_byte(static_cast<unsigned char>(c))) return false;
  }
  return first_invalid_utf8(tag) == std::string_view::npos;
}

std::string describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd:
      return "end of query";
    case TokenKind::kError:
      return "invalid input";
    case TokenKind::kWord:
      return "'" + token.text + "'";
    case TokenKind::kQuoted:
      return "quoted tag";
    case TokenKind::kPrefix:
      return "prefix '" + token.text + "*'";
    case TokenKind::kSaved:
      return "'@" + token.text + "'";
    case TokenKind::kAnd:
      return "AND";
    case TokenKind::kOr:
      return "OR";
    case TokenKind::kNot:
      return "NOT";
    case TokenKind::kAll:
      return "ALL";
    case TokenKind::kBetween:
      return "BETWEEN";
    case TokenKind::kLParen:
      return "'('";
    case TokenKind::kRParen:
      return "')'";
    case TokenKind::kComma:
      return "','";
    case TokenKind::kLess:
      return "'<'";
    case TokenKind::kLessEqual:
      return "'<='";
    case TokenKind::kGreater:
      return "'>'";
    case TokenKind::kGreaterEqual:
      return "'>='";
    case TokenKind::kEqual:
      return "'='";
    case TokenKind::kNotEqual:
      return "'!='";
  }
  return "token";
}

Token Lexer::error(std::size_t position, std::string message) {
  at_ = text_.size();  // stop: everything after an error is unreliable
  return Token{TokenKind::kError, position, std::move(message)};
}

Token Lexer::next() {
  deadline_.tick();
  while (at_ < text_.size() && is_query_space(static_cast<unsigned char>(text_[at_]))) ++at_;
  if (at_ >= text_.size()) return Token{TokenKind::kEnd, text_.size(), {}};
  const std::size_t start = at_;
  const char c = text_[at_];
  const char following = at_ + 1 < text_.size() ? text_[at_ + 1] : '\0';
  const auto single = [&](TokenKind kind, std::size_t length = 1) {
    at_ += length;
    return Token{kind, start, {}};
  };
  switch (c) {
    case '(':
      return single(TokenKind::kLParen);
    case ')':
      return single(TokenKind::kRParen);
    case ',':
      return single(TokenKind::kComma);
    case '&':
      return single(TokenKind::kAnd);
    case '|':
      return single(TokenKind::kOr);
    case '!':
      return following == '=' ? single(TokenKind::kNotEqual, 2) : single(TokenKind::kNot);
    case '<':
      return following == '=' ? single(TokenKind::kLessEqual, 2) : single(TokenKind::kLess);
    case '>':
      return following == '=' ? single(TokenKind::kGreaterEqual, 2) : single(TokenKind::kGreater);
    case '=':
      return single(TokenKind::kEqual);
    case '*':
      return error(start, "'*' must directly follow a tag (a prefix is written tag*, with no space)");
    case '"':
      return quoted(start);
    case '@':
      return saved(start);
    default:
      return word(start);
  }
}

std::optional<std::size_t> Lexer::skip_bare_run() {
  while (at_ < text_.size()) {
    const auto c = static_cast<unsigned char>(text_[at_]);
    if (!is_bare_tag_byte(c)) break;
    if (c < 0x80) {
      ++at_;
      continue;
    }
    const auto length = utf8_sequence_length(text_, at_);
    if (length == 0) return at_;
    at_ += length;
  }
  return std::nullopt;
}

Token Lexer::word(std::size_t start) {
  if (const auto bad = skip_bare_run()) return error(*bad, "invalid UTF-8");
  std::string_view text = text_.substr(start, at_ - start);
  const bool starred = at_ < text_.size() && text_[at_] == '*';
  if (const auto kind = keyword(text)) {
    if (starred) {
      std::string message(1, '\'');
      message.append(text).append("' is a keyword and cannot start a prefix; quote it: \"").append(text).append("\"*");
      return error(start, std::move(message));
    }
    return Token{*kind, start, {}};
  }
  if (starred) {
    ++at_;
    return Token{TokenKind::kPrefix, start, std::string(text)};
  }
  return Token{TokenKind::kWord, start, std::string(text)};
}

Token Lexer::quoted(std::size_t start) {
  ++at_;  // the opening quote
  std::string text;
  while (true) {
    if (at_ >= text_.size()) return error(start, "unterminated quoted tag");
    const auto c = static_cast<unsigned char>(text_[at_]);
    if (c == '"') {
      ++at_;
      break;
    }
    if (c == '\\') {
      const char escaped = at_ + 1 < text_.size() ? text_[at_ + 1] : '\0';
      if (at_ + 1 >= text_.size()) return error(start, "unterminated quoted tag");
      if (escaped != '"' && escaped != '\\') {
        return error(at_, "invalid escape in quoted tag (only \\\" and \\\\ are allowed)");
      }
      text.push_back(escaped);
      at_ += 2;
      continue;
    }
    if (c < 0x80) {
      text.push_back(static_cast<char>(c));
      ++at_;
      continue;
    }
    const auto length = utf8_sequence_length(text_, at_);
    if (length == 0) return error(at_, "invalid UTF-8");
    text.append(text_.substr(at_, length));
    at_ += length;
  }
  if (at_ < text_.size() && text_[at_] == '*') {
    ++at_;
    return Token{TokenKind::kPrefix, start, std::move(text)};
  }
  return Token{TokenKind::kQuoted, start, std::move(text)};
}

Token Lexer::saved(std::size_t start) {
  ++at_;  // '@'
  const std::size_t name_start = at_;
  if (const auto bad = skip_bare_run()) return error(*bad, "invalid UTF-8");
  if (at_ == name_start) return error(start, "expected a saved crowd name after '@'");
  return Token{TokenKind::kSaved, start, std::string(text_.substr(name_start, at_ - name_start))};
}

std::variant<std::vector<Token>, Error> tokenize(std::string_view text) {
  Lexer lexer(text);
  std::vector<Token> tokens;
  DeadlineTicker<256> deadline;  // the parser checks per operand instead
  while (true) {
    deadline.tick();
    Token t = lexer.next();
    if (t.kind == TokenKind::kEnd) return tokens;
    if (t.kind == TokenKind::kError) return Error{ErrorCode::kParse, std::move(t.text), t.position, {}};
    tokens.push_back(std::move(t));
  }
}

}  // namespace crowd::query
