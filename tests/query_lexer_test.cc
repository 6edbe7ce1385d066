// Lexer: token kinds, texts and positions; lexical errors and their positions.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "query/lexer.h"

namespace crowd::query {
namespace {

std::vector<Token> lex(std::string_view text) {
  auto result = tokenize(text);
  if (auto* e = std::get_if<Error>(&result)) {
    ADD_FAILURE() << "unexpected error for [" << text << "]: " << e->message << " at " << e->position;
    return {};
  }
  return std::get<std::vector<Token>>(result);
}

std::vector<TokenKind> kinds(std::string_view text) {
  std::vector<TokenKind> out;
  for (const auto& t : lex(text)) out.push_back(t.kind);
  return out;
}

Error lex_error(std::string_view text) {
  auto result = tokenize(text);
  if (auto* e = std::get_if<Error>(&result)) return *e;
  ADD_FAILURE() << "expected a lexical error for [" << text << "]";
  return {};
}

using K = TokenKind;

TEST(QueryLexer, OperatorsAndPunctuation) {
  EXPECT_EQ(kinds("( ) , & | ! < <= > >= = !="),
            (std::vector<K>{K::kLParen, K::kRParen, K::kComma, K::kAnd, K::kOr, K::kNot, K::kLess, K::kLessEqual,
                            K::kGreater, K::kGreaterEqual, K::kEqual, K::kNotEqual}));
  // No spaces needed around delimiters.
  EXPECT_EQ(kinds("a&b|!c"), (std::vector<K>{K::kWord, K::kAnd, K::kWord, K::kOr, K::kNot, K::kWord}));
  EXPECT_EQ(kinds("x>=5"), (std::vector<K>{K::kWord, K::kGreaterEqual, K::kWord}));
}

TEST(QueryLexer, KeywordsAreCaseInsensitive) {
  for (const char* text : {"AND", "and", "And", "aNd"}) EXPECT_EQ(kinds(text), std::vector<K>{K::kAnd}) << text;
  for (const char* text : {"OR", "or", "oR"}) EXPECT_EQ(kinds(text), std::vector<K>{K::kOr}) << text;
  for (const char* text : {"NOT", "not", "Not"}) EXPECT_EQ(kinds(text), std::vector<K>{K::kNot}) << text;
  for (const char* text : {"ALL", "all", "aLl"}) EXPECT_EQ(kinds(text), std::vector<K>{K::kAll}) << text;
  for (const char* text : {"BETWEEN", "between"}) EXPECT_EQ(kinds(text), std::vector<K>{K::kBetween}) << text;
  // Only whole words: these are tags.
  for (const char* text : {"ANDROID", "order", "notice", "allx", "an", "a"}) {
    EXPECT_EQ(kinds(text), std::vector<K>{K::kWord}) << text;
  }
}

TEST(QueryLexer, BareTagsRunToADelimiter) {
  const auto tokens = lex("gender:female cat:2520377:buy 城市:杭州 emoji:🎉 a-b_c.d/e#f$g%h'");
  ASSERT_EQ(tokens.size(), 5u);
  EXPECT_EQ(tokens[0].text, "gender:female");
  EXPECT_EQ(tokens[0].position, 0u);
  EXPECT_EQ(tokens[1].text, "cat:2520377:buy");
  EXPECT_EQ(tokens[1].position, 14u);
  EXPECT_EQ(tokens[2].text, "城市:杭州");
  EXPECT_EQ(tokens[2].position, 30u);
  EXPECT_EQ(tokens[3].text, "emoji:🎉");
  EXPECT_EQ(tokens[3].position, 30u + std::string("城市:杭州").size() + 1);
  EXPECT_EQ(tokens[4].text, "a-b_c.d/e#f$g%h'");
  for (const auto& t : tokens) EXPECT_EQ(t.kind, K::kWord);
}

TEST(QueryLexer, EveryDelimiterEndsABareTag) {
  for (const char d : std::string("()\"&|!*,@<>= \t\n\r\v\f")) {
    std::string text = "ab";
    text.push_back(d);
    Lexer lexer(text);
    const Token first = lexer.next();
    EXPECT_EQ(first.kind, d == '*' ? K::kPrefix : K::kWord) << int(d);
    EXPECT_EQ(first.text, "ab") << int(d);
  }
}

TEST(QueryLexer, QuotedTagsAndEscapes) {
  auto tokens = lex(R"("brand x:fan" "AND" "say \"hi\"" "back\\slash" "" "城市:杭州")");
  ASSERT_EQ(tokens.size(), 6u);
  EXPECT_EQ(tokens[0].kind, K::kQuoted);
  EXPECT_EQ(tokens[0].text, "brand x:fan");
  EXPECT_EQ(tokens[1].kind, K::kQuoted);  // a quoted keyword is a tag
  EXPECT_EQ(tokens[1].text, "AND");
  EXPECT_EQ(tokens[2].text, "say \"hi\"");
  EXPECT_EQ(tokens[3].text, "back\\slash");
  EXPECT_EQ(tokens[4].text, "");
  EXPECT_EQ(tokens[5].text, "城市:杭州");
  EXPECT_EQ(tokens[1].position, 14u);
}

TEST(QueryLexer, QuotedTagsMayHoldAnything) {
  const auto tokens = lex("\"a (b) & c | !d * , @ < > = \t\n\"");
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].text, "a (b) & c | !d * , @ < > = \t\n");
}

TEST(QueryLexer, Prefixes) {
  auto tokens = lex("cat:252* \"brand x\"* a*&b");
  ASSERT_EQ(tokens.size(), 5u);
  EXPECT_EQ(tokens[0].kind, K::kPrefix);
  EXPECT_EQ(tokens[0].text, "cat:252");
  EXPECT_EQ(tokens[1].kind, K::kPrefix);
  EXPECT_EQ(tokens[1].text, "brand x");
  EXPECT_EQ(tokens[2].kind, K::kPrefix);
  EXPECT_EQ(tokens[2].text, "a");
  EXPECT_EQ(tokens[3].kind, K::kAnd);
  // A quoted keyword can be a prefix; a bare one cannot.
  tokens = lex("\"and\"*");
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].kind, K::kPrefix);
  EXPECT_EQ(lex_error("AND*").position, 0u);
  EXPECT_EQ(lex_error("x OR and*").position, 5u);
}

TEST(QueryLexer, SavedCrowds) {
  auto tokens = lex("@existing_buyers AND NOT @老客");
  ASSERT_EQ(tokens.size(), 4u);
  EXPECT_EQ(tokens[0].kind, K::kSaved);
  EXPECT_EQ(tokens[0].text, "existing_buyers");
  EXPECT_EQ(tokens[3].kind, K::kSaved);
  EXPECT_EQ(tokens[3].text, "老客");
  EXPECT_EQ(lex_error("a AND @ b").position, 6u);
  EXPECT_EQ(lex_error("@").position, 0u);
}

TEST(QueryLexer, Errors) {
  // '*' not directly after a tag.
  EXPECT_EQ(lex_error("cat:252 *").position, 8u);
  EXPECT_EQ(lex_error("*").position, 0u);
  EXPECT_EQ(lex_error("a**").position, 2u);
  // Escapes other than \" and \\: at the backslash.
  EXPECT_EQ(lex_error(R"("ab\nc")").position, 3u);
  EXPECT_EQ(lex_error(R"(x "\t")").position, 3u);
  EXPECT_EQ(lex_error(R"("\u0041")").position, 1u);
  // Unterminated quotes: at the opening quote.
  EXPECT_EQ(lex_error("a \"bc").position, 2u);
  EXPECT_EQ(lex_error("\"ab\\").position, 0u);
  EXPECT_EQ(lex_error("\"ab\\\"").position, 0u);
}

TEST(QueryLexer, InvalidUtf8IsRejectedAtTheOffendingByte) {
  EXPECT_EQ(lex_error("ab\xff").position, 2u);
  EXPECT_EQ(lex_error("a b\x80 c").position, 3u);           // stray continuation byte
  EXPECT_EQ(lex_error("abc\xe6\x9d").position, 3u);         // truncated at the end
  EXPECT_EQ(lex_error("abc\xe6\x9d d").position, 3u);       // truncated before a space
  EXPECT_EQ(lex_error("\xc0\xaf").position, 0u);            // overlong '/'
  EXPECT_EQ(lex_error("x \xed\xa0\x80").position, 2u);      // surrogate U+D800
  EXPECT_EQ(lex_error("x \xf4\x90\x80\x80").position, 2u);  // above U+10FFFF
  EXPECT_EQ(lex_error("\"ok \xfe\"").position, 4u);         // inside quotes
  EXPECT_EQ(lex_error("@crowd\xff").position, 6u);          // in a saved crowd name
  // Well-formed edge cases pass.
  EXPECT_EQ(lex("\xf4\x8f\xbf\xbf").size(), 1u);       // U+10FFFF
  EXPECT_EQ(lex("\xef\xbf\xbf \xc2\x80").size(), 2u);  // U+FFFF, U+0080
}

TEST(QueryLexer, EndIsSticky) {
  Lexer lexer("a");
  EXPECT_EQ(lexer.next().kind, K::kWord);
  const Token end = lexer.next();
  EXPECT_EQ(end.kind, K::kEnd);
  EXPECT_EQ(end.position, 1u);
  EXPECT_EQ(lexer.next().kind, K::kEnd);
  Lexer broken("* a");
  EXPECT_EQ(broken.next().kind, K::kError);
  EXPECT_EQ(broken.next().kind, K::kEnd);
}

TEST(QueryLexer, CanBeBare) {
  EXPECT_TRUE(can_be_bare("gender:female"));
  EXPECT_TRUE(can_be_bare("城市:杭州"));
  EXPECT_TRUE(can_be_bare("android"));
  EXPECT_FALSE(can_be_bare(""));
  EXPECT_FALSE(can_be_bare("and"));
  EXPECT_FALSE(can_be_bare("Between"));
  EXPECT_FALSE(can_be_bare("a b"));
  EXPECT_FALSE(can_be_bare("a*"));
  EXPECT_FALSE(can_be_bare("x=1"));
  EXPECT_FALSE(can_be_bare("bad\xff"));
}

}  // namespace
}  // namespace crowd::query
