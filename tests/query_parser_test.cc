// Parser and printer: structure and precedence, the analytics forms, error
// positions, the depth and size limits, and parse(print(q)) == q on random
// trees.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "index/index.h"
#include "query/date.h"
#include "query/lexer.h"
#include "query/limits.h"
#include "query/parser.h"
#include "query/printer.h"
#include "query/query.h"

namespace crowd::query {
namespace {

Ast parse_ok(std::string_view text) {
  auto result = parse(text);
  if (auto* e = std::get_if<Error>(&result)) {
    ADD_FAILURE() << "unexpected error for [" << text << "]: " << e->message << " at " << e->position;
    return make_all();
  }
  return std::move(std::get<Ast>(result));
}

Error parse_error(std::string_view text) {
  auto result = parse(text);
  if (auto* e = std::get_if<Error>(&result)) return *e;
  ADD_FAILURE() << "expected an error for [" << text << "], got " << print(std::get<Ast>(result));
  return {};
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

AstNode tag(std::string t) { return make_tag(std::move(t)); }
AstNode and_of(std::vector<AstNode> v) { return make_nary(AstKind::kAnd, std::move(v)); }
AstNode or_of(std::vector<AstNode> v) { return make_nary(AstKind::kOr, std::move(v)); }

void expect_tree(std::string_view text, const AstNode& expected) {
  const Ast got = parse_ok(text);
  EXPECT_TRUE(structurally_equal(got, expected))
      << text << "\n  got:      " << print(got) << "\n  expected: " << print(expected);
}

TEST(QueryParser, Precedence) {
  expect_tree("a OR b AND c", or_of({tag("a"), and_of({tag("b"), tag("c")})}));
  expect_tree("a AND b OR c", or_of({and_of({tag("a"), tag("b")}), tag("c")}));
  expect_tree("NOT a AND b", and_of({make_not(tag("a")), tag("b")}));
  expect_tree("a AND NOT b OR c", or_of({and_of({tag("a"), make_not(tag("b"))}), tag("c")}));
  expect_tree("(a OR b) AND c", and_of({or_of({tag("a"), tag("b")}), tag("c")}));
  expect_tree("NOT (a OR b)", make_not(or_of({tag("a"), tag("b")})));
  expect_tree("NOT NOT a", make_not(make_not(tag("a"))));
  expect_tree("!a&b|c", or_of({and_of({make_not(tag("a")), tag("b")}), tag("c")}));
  expect_tree("a and b or not c", or_of({and_of({tag("a"), tag("b")}), make_not(tag("c"))}));
}

TEST(QueryParser, ChainsAreNary) {
  expect_tree("a AND b AND c", and_of({tag("a"), tag("b"), tag("c")}));
  expect_tree("a | b | c | d", or_of({tag("a"), tag("b"), tag("c"), tag("d")}));
  // Parentheses keep their grouping in the tree (rewrites flatten later).
  expect_tree("a AND (b AND c)", and_of({tag("a"), and_of({tag("b"), tag("c")})}));
  expect_tree("((a))", tag("a"));
}

TEST(QueryParser, ContractExamples) {
  expect_tree(
      "gender:female AND age:25-29 AND (cat:cosmetics:buy OR cat:skincare:fav) AND NOT @existing_buyers",
      and_of({tag("gender:female"), tag("age:25-29"), or_of({tag("cat:cosmetics:buy"), tag("cat:skincare:fav")}),
              make_not(make_saved_crowd("existing_buyers"))}));
  expect_tree("城市:杭州 & !member:brand_x", and_of({tag("城市:杭州"), make_not(tag("member:brand_x"))}));
  expect_tree("cat:2520377:* AND spend_90d >= 500",
              and_of({make_prefix("cat:2520377:"), make_compare("spend_90d", CompareOp::kGreaterEqual, 500)}));
  expect_tree("lookalike(member:brand_x AND cat:cosmetics:buy, 1000000)",
              make_lookalike(and_of({tag("member:brand_x"), tag("cat:cosmetics:buy")}), 1000000));
}

TEST(QueryParser, TagsOfEveryKind) {
  expect_tree("\"AND\"", tag("AND"));
  expect_tree("\"brand x\" OR \"say \\\"hi\\\"\"", or_of({tag("brand x"), tag("say \"hi\"")}));
  expect_tree("emoji:🎉 AND 城市:杭州", and_of({tag("emoji:🎉"), tag("城市:杭州")}));
  expect_tree("\"\"", tag(""));
  expect_tree("ALL", make_all());
  expect_tree("all AND NOT a", and_of({make_all(), make_not(tag("a"))}));
  expect_tree("cat:252*", make_prefix("cat:252"));
  expect_tree("\"a b\"*", make_prefix("a b"));
  // Call names are tags unless a '(' follows.
  expect_tree("within AND lookalike", and_of({tag("within"), tag("lookalike")}));
  expect_tree("within* OR lookalike:x", or_of({make_prefix("within"), tag("lookalike:x")}));
}

TEST(QueryParser, Positions) {
  const Ast ast = parse_ok("a AND (NOT \"b c\" OR 城市:杭州) AND x* AND @s AND n > 1");
  ASSERT_EQ(ast.kind, AstKind::kAnd);
  ASSERT_EQ(ast.children.size(), 5u);
  EXPECT_EQ(ast.position, 0u);
  const auto& group = ast.children[1];
  EXPECT_EQ(group.position, 7u);                           // the OR starts at its first operand, the NOT
  EXPECT_EQ(group.children[0].position, 7u);               // NOT
  EXPECT_EQ(group.children[0].children[0].position, 11u);  // the quote
  EXPECT_EQ(group.children[1].position, 20u);
  const std::size_t after = 20 + std::string("城市:杭州) AND ").size();
  EXPECT_EQ(ast.children[2].position, after);       // x*
  EXPECT_EQ(ast.children[3].position, after + 7);   // @s
  EXPECT_EQ(ast.children[4].position, after + 14);  // n
}

TEST(QueryParser, AnalyticsForms) {
  expect_tree("@老客", make_saved_crowd("老客"));
  expect_tree("x < 1", make_compare("x", CompareOp::kLess, 1));
  expect_tree("x<=-2", make_compare("x", CompareOp::kLessEqual, -2));
  expect_tree("x > 3", make_compare("x", CompareOp::kGreater, 3));
  expect_tree("x >= 4", make_compare("x", CompareOp::kGreaterEqual, 4));
  expect_tree("x = 5", make_compare("x", CompareOp::kEqual, 5));
  expect_tree("x != 6", make_compare("x", CompareOp::kNotEqual, 6));
  expect_tree("x BETWEEN 1 AND 10 AND y", and_of({make_between("x", 1, 10), tag("y")}));
  expect_tree("x between -5 and 5", make_between("x", -5, 5));
  expect_tree("x = 9223372036854775807", make_compare("x", CompareOp::kEqual, INT64_MAX));
  expect_tree("x = -9223372036854775808", make_compare("x", CompareOp::kEqual, INT64_MIN));
  expect_tree("NOT x > 5", make_not(make_compare("x", CompareOp::kGreater, 5)));
  expect_tree("within(cat:7:buy, 2017-11-25, 2017-12-03)",
              make_within_dates("cat:7:buy", *parse_day("2017-11-25"), *parse_day("2017-12-03")));
  expect_tree("WITHIN (\"a b\", 30d)", make_within_days("a b", 30));
  expect_tree("within(cat:7:*, 30d)", make_within_prefix(make_within_days("", 30), "cat:7:"));
  expect_tree("within(\"a b\"*, 2017-11-25, 2017-11-26)",
              make_within_prefix(make_within_dates("", *parse_day("2017-11-25"), *parse_day("2017-11-26")), "a b"));
  expect_tree("LookAlike(a OR b, 10)", make_lookalike(or_of({tag("a"), tag("b")}), 10));
  EXPECT_EQ(*parse_day("1970-01-01"), 0);
  EXPECT_EQ(*parse_day("2017-11-25"), 17495);
  EXPECT_EQ(format_day(17495), "2017-11-25");
  EXPECT_FALSE(parse_day("2017-02-29"));
  EXPECT_TRUE(parse_day("2016-02-29"));
  EXPECT_FALSE(parse_day("2017-1-01"));
}

struct BadQuery {
  const char* text;
  std::size_t position;
  const char* message_part;
};

TEST(QueryParser, ErrorPositions) {
  const BadQuery cases[] = {
      {"", 0, "empty query"},
      {"  \t\n ", 0, "empty query"},
      {"(a AND b", 0, "never closed"},
      {"a AND (b OR c", 6, "never closed"},
      {"a AND b)", 7, "unmatched ')'"},
      {"a AND (b OR c))", 14, "unmatched ')'"},
      {"(a b)", 3, "expected AND, OR or ')'"},
      {"a AND", 5, "end of query"},
      {"a AND ", 6, "end of query"},
      {"AND a", 0, "found AND"},
      {"a OR OR b", 5, "found OR"},
      {"NOT", 3, "end of query"},
      {"a AND NOT", 9, "end of query"},
      {"!", 1, "end of query"},
      {"a b", 2, "quoted"},
      {"a \"b\"", 2, "expected AND, OR"},
      {"a \"b\"", 2, "missing between two tags"},
      {"gender:female age:25-29", 14, "missing between two tags"},
      {"city:new york", 9, "must be quoted"},
      {"a cat:2*", 2, "missing between two tags"},
      {"()", 1, "found ')'"},
      {")", 0, "found ')'"},
      {"a , b", 2, "','"},
      {",a", 0, "','"},
      {"a AND ,", 6, "','"},
      {"cat:252 *", 8, "'*'"},
      {"a AND *", 6, "'*'"},
      {"\"ab\\qc\"", 3, "escape"},
      {"a OR \"x", 5, "unterminated"},
      {"a && b", 3, "found AND"},
      {"a\xff", 1, "UTF-8"},
      {"a AND b\xc3", 7, "UTF-8"},
      {"x >= ", 5, "integer"},
      {"x >= y", 5, "integer"},
      {"x > 99999999999999999999", 4, "out of range"},
      {"x BETWEEN 1 OR 2", 12, "expected AND"},
      {"x BETWEEN 1 AND", 15, "integer"},
      {"x BETWEEN AND", 10, "integer"},
      {"a =", 3, "integer"},
      {"= a", 0, "'='"},
      {"a AND < 5", 6, "'<'"},
      {"\"x\" > 5", 4, "'>'"},
      {"@", 0, "saved crowd"},
      {"a AND @ b", 6, "saved crowd"},
      {"and*", 0, "keyword"},
      {"lookalike(a, b)", 13, "integer"},
      {"lookalike(a 5)", 12, "','"},
      {"lookalike(a, 5", 14, "')'"},
      {"lookalike(a", 0, "never closed"},
      {"lookalike()", 10, "found ')'"},
      {"within(@a, 30d)", 7, "a tag or a prefix"},
      {"within(a, 2017-13-01, 2017-12-01)", 10, "date"},
      {"within(a, 2017-11-01)", 20, "','"},
      {"within(a, 2017-11-01, x)", 22, "date"},
      {"within(a, 30)", 10, "day count"},
      {"within(a, -3d)", 10, "day count"},
      {"within(a, 0d)", 10, "at least 1 day"},
      {"lookalike(a, 0)", 13, "at least 1"},
      {"lookalike(a, -2)", 13, "at least 1"},
      {"within(a, 30d", 13, "')'"},
      {"a AND within(", 13, "tag"},
  };
  for (const auto& c : cases) {
    const Error e = parse_error(c.text);
    EXPECT_EQ(e.code, ErrorCode::kParse) << c.text;
    EXPECT_EQ(e.position, c.position) << c.text << ": " << e.message;
    EXPECT_NE(e.message.find(c.message_part), std::string::npos) << c.text << ": " << e.message;
  }
}

TEST(QueryParser, FirstErrorInReadingOrderWins) {
  // A lexical error after a grammatical one is not reached.
  EXPECT_EQ(parse_error("a OR OR \"\\q\"").position, 5u);
  // A grammatical error after a lexical one is not reached.
  EXPECT_EQ(parse_error("\"\\q\" OR OR").position, 1u);
}

// The depth rule (limits.h): every '(' — a group or a call's — and every
// NOT/'!' adds one level for what it encloses; kMaxDepth levels parse, one
// more is a parse error at the token that would open level kMaxDepth + 1.
TEST(QueryParser, DepthLimitExactly) {
  const std::size_t max = kMaxDepth;
  EXPECT_EQ(max, 256u);
  // Parentheses.
  expect_tree(repeat("(", max) + "a" + repeat(")", max), tag("a"));
  Error e = parse_error(repeat("(", max + 1) + "a" + repeat(")", max + 1));
  EXPECT_EQ(e.position, max);
  EXPECT_NE(e.message.find("deeper than 256"), std::string::npos);
  // NOT chains, spelled either way.
  EXPECT_EQ(depth(parse_ok(repeat("NOT ", max) + "a")), max + 1);
  EXPECT_EQ(parse_error(repeat("NOT ", max + 1) + "a").position, 4 * max);
  EXPECT_EQ(depth(parse_ok(repeat("!", max) + "a")), max + 1);
  EXPECT_EQ(parse_error(repeat("!", max + 1) + "a").position, max);
  // Mixed: "(NOT " is two levels.
  const std::size_t half = max / 2;
  parse_ok(repeat("(NOT ", half) + "a" + repeat(")", half));
  EXPECT_EQ(parse_error(repeat("(NOT ", half) + "(a)" + repeat(")", half)).position, 5 * half);
  // A call's '(' counts.
  parse_ok(repeat("(", max - 1) + "lookalike(a, 5)" + repeat(")", max - 1));
  EXPECT_EQ(parse_error(repeat("(", max) + "lookalike(a, 5)" + repeat(")", max)).position, max + 9);
  // Siblings do not add up: only enclosing levels count.
  const std::string deep = repeat("(", max) + "a" + repeat(")", max);
  parse_ok(deep + " AND " + deep + " OR NOT " + repeat("(", max - 1) + "a" + repeat(")", max - 1));
}

TEST(QueryParser, HostileNestingIsAnErrorNotACrash) {
  const std::string opens(100'000, '(');
  Error e = parse_error(opens);
  EXPECT_EQ(e.code, ErrorCode::kParse);
  EXPECT_EQ(e.position, 256u);
  EXPECT_EQ(parse_error(opens + "a" + std::string(100'000, ')')).position, 256u);
  // Through the façade, within the size limit.
  const Index index;
  const auto view = index.view();
  auto compiled = compile(std::string(32'000, '(') + "a" + std::string(32'000, ')'), *view);
  ASSERT_TRUE(std::holds_alternative<Error>(compiled));
  EXPECT_EQ(std::get<Error>(compiled).code, ErrorCode::kParse);
  EXPECT_EQ(std::get<Error>(compiled).position, 256u);
  EXPECT_EQ(parse_error(std::string(60'000, '!') + "a").position, 256u);
  EXPECT_EQ(parse_error(repeat("NOT ", 16'000) + "a").position, 1024u);
  EXPECT_EQ(parse_error(repeat("lookalike(", 6'000)).position, 256u * 10 + 9);
}

// parse() itself takes any length (compile() applies the size limit), so
// these chains are longer than kMaxQueryBytes on purpose.
TEST(QueryParser, LongChainsDoNotNest) {
  std::string text;
  for (int i = 0; i < 20'000; ++i) text += (i ? " AND t" : "t") + std::to_string(i % 100);
  const Ast ast = parse_ok(text);
  EXPECT_EQ(ast.kind, AstKind::kAnd);
  EXPECT_EQ(ast.children.size(), 20'000u);
  EXPECT_EQ(depth(ast), 2u);
  EXPECT_EQ(print(ast), text);
  // OR chains, and the same with symbols and no spaces.
  const Ast ors = parse_ok(repeat("x|", 30'000) + "x");
  EXPECT_EQ(ors.children.size(), 30'001u);
  EXPECT_EQ(depth(ors), 2u);
}

TEST(QueryParser, SizeLimitIsCheckedBeforeLexing) {
  const Index index;
  const auto view = index.view();
  EXPECT_EQ(kMaxQueryBytes, 65'536u);
  // Exactly the limit is accepted (an unknown tag is the next complaint).
  auto at_limit = compile(std::string(kMaxQueryBytes, 'a'), *view);
  ASSERT_TRUE(std::holds_alternative<Error>(at_limit));
  EXPECT_EQ(std::get<Error>(at_limit).code, ErrorCode::kUnknownTag);
  EXPECT_EQ(std::get<Error>(compile(std::string(kMaxQueryBytes, '('), *view)).code, ErrorCode::kParse);
  // One byte more is too large, whatever the bytes are.
  for (const char c : {'a', '(', '\xff', ' '}) {
    auto over = compile(std::string(kMaxQueryBytes + 1, c), *view);
    ASSERT_TRUE(std::holds_alternative<Error>(over));
    EXPECT_EQ(std::get<Error>(over).code, ErrorCode::kTooLarge) << int(c);
    EXPECT_EQ(std::get<Error>(over).position, 0u);
  }
}

TEST(QueryPrinter, CanonicalText) {
  EXPECT_EQ(print(parse_ok("a and b or not c")), "a AND b OR NOT c");
  EXPECT_EQ(print(parse_ok("(a|b)&!(c&d)")), "(a OR b) AND NOT (c AND d)");
  EXPECT_EQ(print(parse_ok("a AND (b AND c)")), "a AND (b AND c)");
  EXPECT_EQ(print(parse_ok("a OR (b OR c)")), "a OR (b OR c)");
  EXPECT_EQ(print(parse_ok("((a)) or (b and c)")), "a OR b AND c");
  EXPECT_EQ(print(parse_ok("NOT (NOT a)")), "NOT NOT a");
  EXPECT_EQ(print(parse_ok(R"("and" | "x y"* | "q\"" | "b\\" | "" | "城市:杭州" | all)")),
            R"("and" OR "x y"* OR "q\"" OR b\ OR "" OR 城市:杭州 OR ALL)");
  EXPECT_EQ(print(parse_ok("@s&x>=-1&y between 1 and 2&x!=0")), "@s AND x >= -1 AND y BETWEEN 1 AND 2 AND x != 0");
  EXPECT_EQ(print(parse_ok("WITHIN(a,2017-11-25,2017-12-03)|within(\"b c\",7d)|LOOKALIKE(a|b,3)")),
            "within(a, 2017-11-25, 2017-12-03) OR within(\"b c\", 7d) OR lookalike(a OR b, 3)");
}

// Random trees of every node kind, with names chosen to stress quoting.
class RandomAstGenerator {
 public:
  explicit RandomAstGenerator(uint64_t seed) : rng_(seed) {}

  AstNode node(int depth) {
    if (depth <= 0 || pick(3) == 0) return leaf();
    switch (pick(5)) {
      case 0:
        return make_not(node(depth - 1));
      case 1:
      case 2:
      case 3: {
        std::vector<AstNode> operands;
        const std::size_t n = 2 + pick(3);
        for (std::size_t i = 0; i < n; ++i) operands.push_back(node(depth - 1));
        return make_nary(pick(2) ? AstKind::kAnd : AstKind::kOr, std::move(operands));
      }
      default:
        // Sizes and day counts below 1 are syntax errors (tested above).
        return make_lookalike(node(depth - 1), std::max<int64_t>(1, number()));
    }
  }

 private:
  std::size_t pick(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }

  int64_t number() {
    switch (pick(4)) {
      case 0:
        return static_cast<int64_t>(rng_());
      case 1:
        return pick(2) ? INT64_MAX : INT64_MIN;
      default:
        return static_cast<int64_t>(pick(2001)) - 1000;
    }
  }

  // Names that can be written bare (saved crowds, attributes).
  std::string word() {
    static const char* const kWords[] = {"a",   "gender:female", "cat:2520377:buy", "城市:杭州", "emoji:🎉", "spend_90d",
                                         "x-1", "lookalike",     "within",          "android",   "a.b/c",   "-"};
    return kWords[pick(std::size(kWords))];
  }

  std::string name() {
    static const char* const kAwkward[] = {
        "and", "OR",  "Not",  "all", "BeTwEeN",        "a b", "a(b)", "q\"uote",    "back\\slash",
        "",    "x=1", "@x",   "a*",  "tab\tnew\nline", "!",   ",",    "2017-11-25", "30d",
        "-5",  "«»",  "\\\"", "\"\""};
    if (pick(3) == 0) return kAwkward[pick(std::size(kAwkward))];
    if (pick(4) == 0) {
      // Random printable ASCII and a few multi-byte characters.
      static const char* const kPieces[] = {"a", "Z", "0", ":", " ", "(", ")",  "\"", "\\", "&", "|", "!",
                                            "*", ",", "@", "<", ">", "=", "城", "🎉",  "é",  "'", "#", "_"};
      std::string s;
      const std::size_t n = pick(8);
      for (std::size_t i = 0; i < n; ++i) s += kPieces[pick(std::size(kPieces))];
      return s;
    }
    return word();
  }

  AstNode leaf() {
    switch (pick(10)) {
      case 0:
        return make_all();
      case 1:
        return make_prefix(name());
      case 2:
        return make_saved_crowd(word());
      case 3:
        if (pick(2)) return make_between(word(), number(), number());
        return make_compare(word(), static_cast<CompareOp>(pick(6)), number());
      case 4: {
        AstNode w = pick(2) ? make_within_days(name(), 1 + static_cast<int64_t>(pick(100'000)))
                            : make_within_dates(name(), static_cast<int64_t>(pick(2'900'000)) - 719'468,
                                                static_cast<int64_t>(pick(30'000)));
        if (pick(3) == 0) w.prefix = true;  // within(name*, ...)
        return w;
      }
      default:
        return make_tag(name());
    }
  }

  std::mt19937_64 rng_;
};

TEST(QueryPrinter, RoundTripsRandomTrees) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    RandomAstGenerator generator(seed);
    for (int i = 0; i < 300; ++i) {
      const AstNode original = generator.node(1 + i % 7);
      const std::string text = print(original);
      auto reparsed = parse(text);
      ASSERT_TRUE(std::holds_alternative<Ast>(reparsed))
          << "seed " << seed << " case " << i << ": [" << text << "] " << std::get<Error>(reparsed).message << " at "
          << std::get<Error>(reparsed).position;
      EXPECT_TRUE(structurally_equal(std::get<Ast>(reparsed), original))
          << "seed " << seed << " case " << i << ": [" << text << "] reparsed as [" << print(std::get<Ast>(reparsed))
          << "]";
      EXPECT_EQ(print(std::get<Ast>(reparsed)), text);
    }
  }
}

// Random byte soup from the language's own pieces: parse() never crashes,
// errors point inside the text, and whatever parses prints back to itself.
TEST(QueryParser, RandomTextNeverCrashes) {
  static const char* const kPieces[] = {
      "a", "b:1", "城",  "🎉",          " ",         "\t",     "(",    ")",        "\"",   "\\",    "&",    "|",
      "!", "*",   ",",   "@",          "<",         ">",      "=",    "AND",      "or",   "Not",   "ALL",  "between",
      "5", "-3",  "30d", "2017-11-25", "lookalike", "within", "\xff", "\xe6\x9d", "\x80", "\"x\"", "\\\"", "!="};
  std::mt19937_64 rng(42);
  int accepted = 0;
  for (int i = 0; i < 20'000; ++i) {
    std::string text;
    const std::size_t n = rng() % 12;
    for (std::size_t k = 0; k < n; ++k) text += kPieces[rng() % std::size(kPieces)];
    auto result = parse(text);
    if (auto* e = std::get_if<Error>(&result)) {
      EXPECT_EQ(e->code, ErrorCode::kParse) << text;
      EXPECT_LE(e->position, text.size()) << text;
      EXPECT_FALSE(e->message.empty()) << text;
      continue;
    }
    ++accepted;
    const Ast& ast = std::get<Ast>(result);
    const std::string printed = print(ast);
    auto again = parse(printed);
    ASSERT_TRUE(std::holds_alternative<Ast>(again)) << "[" << text << "] printed as [" << printed << "]";
    EXPECT_TRUE(structurally_equal(std::get<Ast>(again), ast)) << "[" << text << "] printed as [" << printed << "]";
  }
  EXPECT_GT(accepted, 1'000);
}

TEST(QueryPrinter, StructuralEqualityIgnoresOnlyPositions) {
  EXPECT_TRUE(structurally_equal(make_tag("a", 0), make_tag("a", 9)));
  EXPECT_FALSE(structurally_equal(make_tag("a"), make_prefix("a")));
  EXPECT_FALSE(structurally_equal(make_tag("a"), make_tag("b")));
  EXPECT_FALSE(structurally_equal(make_compare("x", CompareOp::kLess, 1), make_compare("x", CompareOp::kLess, 2)));
  EXPECT_FALSE(structurally_equal(make_between("x", 1, 2), make_between("x", 1, 3)));
  EXPECT_FALSE(structurally_equal(make_within_days("a", 3), make_within_dates("a", 3, 0)));
  EXPECT_FALSE(structurally_equal(make_within_days("a", 3), make_within_prefix(make_within_days("a", 3), "a")));
  EXPECT_FALSE(structurally_equal(and_of({tag("a"), tag("b")}), or_of({tag("a"), tag("b")})));
  EXPECT_FALSE(structurally_equal(and_of({tag("a"), tag("b")}), and_of({tag("b"), tag("a")})));
}

}  // namespace
}  // namespace crowd::query
