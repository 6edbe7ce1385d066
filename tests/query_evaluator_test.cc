// Evaluator (and the whole compile pipeline) against the naive per-user model
// on random indexes and random queries; unknown names, suggestions and their
// positions.
#include <gtest/gtest.h>

#include <pthread.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "query/lexer.h"
#include "query/parser.h"
#include "query/printer.h"
#include "query/query.h"
#include "query/resolve.h"
#include "query/rewrite.h"
#include "query/suggest.h"
#include "query/union_cache.h"
#include "query/utf8.h"
#include "tests/support/query_generator.h"
#include "tests/support/random_index.h"

namespace crowd::query {
namespace {

using test::make_random_index;
using test::QueryGenerator;
using test::RandomIndex;
using test::RandomIndexSpec;

std::vector<UserId> externals(const Bitmap& bits, const IndexView& view) {
  std::vector<uint32_t> ordinals(bits.cardinality());
  roaring_bitmap_to_uint32_array(bits.get(), ordinals.data());
  std::vector<UserId> out;
  out.reserve(ordinals.size());
  for (const uint32_t o : ordinals) out.push_back(view.external(o));
  std::sort(out.begin(), out.end());
  return out;
}

// Both count paths forced (the fused pass and operator at a time) must give
// the model's answer on every plan, whichever one count() would choose.
void check_count_paths(const Plan& plan, const IndexView& view, std::size_t expected, const std::string& what) {
  thread_local Evaluator fused(CountPath::kFused);
  thread_local Evaluator by_operator(CountPath::kOperator);
  ASSERT_EQ(fused.count(plan, view), expected) << what << " (fused)\n  plan: " << describe(plan.root(), view.dictionary());
  ASSERT_EQ(by_operator.count(plan, view), expected)
      << what << " (operator)\n  plan: " << describe(plan.root(), view.dictionary());
}

// Compiles `text` and checks count and materialize against `expected`,
// through compile() and through every prefix of the rewrite pipeline.
void check_against_model(const std::string& text, const std::vector<UserId>& expected, const IndexView& view,
                         Evaluator& evaluator, bool every_pass) {
  auto compiled = compile(text, view, Options{.lenient = true});
  ASSERT_TRUE(std::holds_alternative<Plan>(compiled)) << text << ": " << std::get<Error>(compiled).message;
  const Plan& plan = std::get<Plan>(compiled);
  ASSERT_EQ(check_plan(plan.root()), "") << text;
  ASSERT_EQ(evaluator.count(plan, view), expected.size())
      << text << "\n  plan: " << describe(plan.root(), view.dictionary());
  ASSERT_EQ(externals(evaluator.materialize(plan, view), view), expected) << text;
  check_count_paths(plan, view, expected.size(), text);

  // Again with unions of 3+ tags read from a cache shared by every query of
  // the test (entries of earlier views must never leak into this one).
  static UnionCache unions(64 << 20);
  auto cached = compile(text, view, Options{.lenient = true, .union_cache = &unions});
  ASSERT_TRUE(std::holds_alternative<Plan>(cached)) << text;
  const Plan& cached_plan = std::get<Plan>(cached);
  ASSERT_EQ(evaluator.count(cached_plan, view), expected.size()) << text << " (union cache)";
  ASSERT_EQ(externals(evaluator.materialize(cached_plan, view), view), expected) << text << " (union cache)";
  check_count_paths(cached_plan, view, expected.size(), text + " (union cache)");
  if (!every_pass) return;

  // The same query with no rewrites, then with each pass added in turn: the
  // evaluator must handle every shape, and no pass may change the answer.
  auto parsed = parse(text);
  auto resolved = resolve(std::get<Ast>(parsed), view, Options{.lenient = true});
  PlanNode node = std::get<PlanNode>(resolved);
  const char* names[] = {"none", "flatten", "fold_constants", "collect_unions", "form_and_not", "order_by_cardinality"};
  for (int pass = 0; pass < 6; ++pass) {
    switch (pass) {
      case 1:
        flatten(node);
        break;
      case 2:
        fold_constants(node, view);
        break;
      case 3:
        collect_unions(node, view);
        break;
      case 4:
        form_and_not(node, view);
        break;
      case 5:
        order_by_cardinality(node, view);
        break;
      default:
        break;
    }
    ASSERT_EQ(check_plan(node), "") << "after " << names[pass] << ": " << describe(node, view.dictionary());
    const Plan partial(node, view);
    ASSERT_EQ(evaluator.count(partial, view), expected.size())
        << text << "\n  after " << names[pass] << ": " << describe(node, view.dictionary());
    check_count_paths(partial, view, expected.size(), text + " after " + names[pass]);
    if (pass == 0) {
      ASSERT_EQ(externals(evaluator.materialize(partial, view), view), expected) << text;
    }
  }
}

struct Scenario {
  RandomIndexSpec spec;
  int queries;
};

class QueryEvaluatorRandom : public ::testing::TestWithParam<Scenario> {};

TEST_P(QueryEvaluatorRandom, MatchesTheNaiveModel) {
  const Scenario scenario = GetParam();
  const RandomIndex data = make_random_index(scenario.spec);
  const auto view = data.index->view();
  ASSERT_EQ(view->universe().cardinality, data.model.universe_size());

  // Snapshot of the view, to prove evaluation never writes to it.
  std::vector<Bitmap> before;
  for (TagId id = 0; id < view->tag_count(); ++id) before.push_back(view->tag(id).bits.clone());
  const Bitmap universe_before = view->universe().bits.clone();

  Evaluator evaluator;
  // Every tag alone: the cached cardinality and the bitmap.
  for (const auto& name : data.tag_names) {
    const std::string text = quote_tag(name);
    auto compiled = compile(text, *view);
    ASSERT_TRUE(std::holds_alternative<Plan>(compiled)) << text;
    EXPECT_EQ(evaluator.count(std::get<Plan>(compiled), *view), data.model.holders(name)) << text;
    check_count_paths(std::get<Plan>(compiled), *view, data.model.holders(name), text);
  }

  QueryGenerator generator(scenario.spec.seed * 7919 + 1, data.tag_names, /*unknowns=*/true);
  int strict_errors = 0;
  for (int i = 0; i < scenario.queries; ++i) {
    const AstNode ast = generator.node(1 + i % 6);
    const std::string text = generator.render(ast);
    SCOPED_TRACE("query " + std::to_string(i) + ": " + text);
    auto parsed = parse(text);
    ASSERT_TRUE(std::holds_alternative<Ast>(parsed))
        << std::get<Error>(parsed).message << " at " << std::get<Error>(parsed).position;
    ASSERT_TRUE(structurally_equal(std::get<Ast>(parsed), ast)) << print(std::get<Ast>(parsed));
    const std::vector<UserId> expected = data.model.evaluate(ast);

    check_against_model(text, expected, *view, evaluator, /*every_pass=*/true);
    if (::testing::Test::HasFatalFailure()) return;

    // Strict mode: the leftmost unknown name is the error, else the same answer.
    auto strict = compile(text, *view);
    if (const auto unknown = data.model.first_unknown(std::get<Ast>(parsed))) {
      ++strict_errors;
      ASSERT_TRUE(std::holds_alternative<Error>(strict));
      const Error& e = std::get<Error>(strict);
      EXPECT_EQ(e.code, ErrorCode::kUnknownTag);
      EXPECT_EQ(e.position, *unknown) << e.message;
    } else {
      ASSERT_TRUE(std::holds_alternative<Plan>(strict)) << std::get<Error>(strict).message;
      EXPECT_EQ(evaluator.count(std::get<Plan>(strict), *view), expected.size());
    }
  }
  EXPECT_GT(strict_errors, scenario.queries / 20);  // the generator did exercise unknown names
  EXPECT_LT(strict_errors, scenario.queries);

  for (TagId id = 0; id < view->tag_count(); ++id) {
    ASSERT_TRUE(roaring_bitmap_equals(before[id].get(), view->tag(id).bits.get())) << view->dictionary().name(id);
  }
  EXPECT_TRUE(roaring_bitmap_equals(universe_before.get(), view->universe().bits.get()));
}

INSTANTIATE_TEST_SUITE_P(QuerySeeds, QueryEvaluatorRandom,
                         ::testing::Values(Scenario{{.seed = 1, .users = 70'000, .tags = 40, .bulk = true}, 150},
                                           Scenario{{.seed = 2, .users = 70'000, .tags = 30, .bulk = false}, 150},
                                           Scenario{{.seed = 3, .users = 140'000, .tags = 50, .bulk = true}, 100},
                                           Scenario{{.seed = 4, .users = 3'000, .tags = 25, .bulk = false}, 200}));

class QueryEvaluator : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new RandomIndex(make_random_index({.seed = 11, .users = 20'000, .tags = 40, .bulk = true}));
    view_ = data_->index->view();
  }
  static void TearDownTestSuite() {
    view_.reset();
    delete data_;
  }

  static std::variant<Plan, Error> compile_text(std::string_view text, bool lenient = false) {
    return compile(text, *view_, Options{.lenient = lenient});
  }
  static uint64_t count(std::string_view text, bool lenient = false) {
    auto compiled = compile_text(text, lenient);
    if (auto* e = std::get_if<Error>(&compiled)) {
      ADD_FAILURE() << text << ": " << e->message;
      return UINT64_MAX;
    }
    Evaluator evaluator;
    return evaluator.count(std::get<Plan>(compiled), *view_);
  }
  static Error error(std::string_view text, bool lenient = false) {
    auto compiled = compile_text(text, lenient);
    if (auto* e = std::get_if<Error>(&compiled)) return *e;
    ADD_FAILURE() << "expected an error for " << text;
    return {};
  }
  static std::size_t model_count(std::string_view text) {
    return data_->model.evaluate(std::get<Ast>(parse(text))).size();
  }

  static RandomIndex* data_;
  static std::shared_ptr<const IndexView> view_;
};

RandomIndex* QueryEvaluator::data_ = nullptr;
std::shared_ptr<const IndexView> QueryEvaluator::view_;

TEST_F(QueryEvaluator, UniverseSemantics) {
  const std::size_t universe = data_->model.universe_size();
  EXPECT_EQ(count("ALL"), universe);
  EXPECT_EQ(count("NOT ALL"), 0u);
  // NOT counts users with no tag at all, and never deleted users.
  EXPECT_EQ(count("NOT gender:female"), universe - data_->model.holders("gender:female"));
  EXPECT_EQ(count("NOT \"\"*"), model_count("NOT \"\"*"));
  EXPECT_GT(count("NOT \"\"*"), 0u) << "the random index should hold users without tags";
  EXPECT_EQ(count("temp:emptied"), 0u);
  EXPECT_EQ(count("NOT temp:emptied"), universe);
  EXPECT_EQ(count("gender:female OR NOT gender:female"), universe);
  EXPECT_EQ(count("gender:female AND NOT gender:female"), 0u);
}

TEST_F(QueryEvaluator, DeepNestingNearTheLimit) {
  // Alternating OR(NOT(...), tag) and AND(..., tag): about 1.5 levels a step.
  QueryGenerator generator(5, data_->tag_names, false);
  AstNode ast = make_tag("gender:female");
  const auto& names = data_->tag_names;
  for (int i = 0; i < 160; ++i) {
    std::vector<AstNode> pair;
    if (i % 2 == 0) {
      pair.push_back(make_not(std::move(ast)));
    } else {
      pair.push_back(std::move(ast));
    }
    pair.push_back(make_tag(names[static_cast<std::size_t>(i) % names.size()]));
    ast = make_nary(i % 2 == 0 ? AstKind::kOr : AstKind::kAnd, std::move(pair));
  }
  const std::string text = generator.render(ast, /*noise=*/false);
  Evaluator evaluator;
  check_against_model(text, data_->model.evaluate(ast), *view_, evaluator, /*every_pass=*/true);
}

// Runs `body` on a thread with a stack of `bytes`.
void run_with_stack(std::size_t bytes, const std::function<void()>& body) {
  pthread_attr_t attributes;
  ASSERT_EQ(pthread_attr_init(&attributes), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attributes, bytes), 0);
  pthread_t thread;
  auto trampoline = [](void* f) -> void* {
    (*static_cast<const std::function<void()>*>(f))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attributes, trampoline, const_cast<std::function<void()>*>(&body)), 0);
  ASSERT_EQ(pthread_join(thread, nullptr), 0);
  pthread_attr_destroy(&attributes);
}

// The server may evaluate on threads or coroutines with small stacks: the
// deepest queries the parser accepts must parse, compile, evaluate and print
// in 256 KiB (measured need in Release: under 96 KiB). Sanitizers inflate
// frames several times, so they get more.
TEST_F(QueryEvaluator, DeepestQueriesFitInASmallStack) {
#if defined(__SANITIZE_ADDRESS__)
  constexpr std::size_t kStack = 4 << 20;
#else
  constexpr std::size_t kStack = 256 << 10;
#endif
  const std::size_t levels = kMaxDepth;
  const auto repeat = [](std::string_view piece, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += piece;
    return out;
  };
  std::string nested_first = "gender:female";  // ((a OR b) AND b) ...: nesting in the first operand
  std::string nested_last = "gender:female";   // b OR (b AND (...)): nesting in the last operand
  for (std::size_t i = 0; i + 1 < levels; ++i) {
    const char* op = i % 2 ? " AND " : " OR ";
    nested_first = "(" + nested_first + op + "gender:male)";
    nested_last = std::string("gender:male") + op + "(" + nested_last + ")";
  }
  const std::string texts[] = {
      repeat("(", levels) + "gender:female" + repeat(")", levels),
      repeat("NOT ", levels) + "gender:female",
      repeat("(NOT ", levels / 2) + "gender:female OR 城市:*" + repeat(")", levels / 2),
      nested_first,
      nested_last,
  };
  for (const auto& text : texts) {
    const std::size_t expected = model_count(text);
    uint64_t counted = UINT64_MAX;
    uint64_t materialized = UINT64_MAX;
    std::string printed;
    run_with_stack(kStack, [&] {
      auto compiled = compile(text, *view_);
      if (!std::holds_alternative<Plan>(compiled)) return;
      Evaluator evaluator;
      counted = evaluator.count(std::get<Plan>(compiled), *view_);
      materialized = evaluator.materialize(std::get<Plan>(compiled), *view_).cardinality();
      printed = print(std::get<Ast>(parse(text)));
    });
    EXPECT_EQ(counted, expected) << text.substr(0, 40);
    EXPECT_EQ(materialized, expected) << text.substr(0, 40);
    EXPECT_FALSE(printed.empty());
  }
}

TEST_F(QueryEvaluator, LongChainsWithinTheSizeLimit) {
  const auto& names = data_->tag_names;
  for (const char* separator : {" OR ", "&", " AND NOT "}) {
    std::string text = quote_tag(names[0]);
    for (std::size_t i = 1; text.size() < kMaxQueryBytes - 100; ++i) {
      text += separator;
      text += quote_tag(names[i % names.size()]);
    }
    const Ast ast = std::get<Ast>(parse(text));
    Evaluator evaluator;
    check_against_model(text, data_->model.evaluate(ast), *view_, evaluator, /*every_pass=*/false);
  }
}

TEST_F(QueryEvaluator, MovedPlansAndReusedEvaluators) {
  Evaluator evaluator;
  auto compiled = compile_text("(gender:female OR 城市:*) AND NOT cat:1*");
  Plan plan = std::move(std::get<Plan>(compiled));
  const uint64_t expected = model_count("(gender:female OR 城市:*) AND NOT cat:1*");
  EXPECT_EQ(evaluator.count(plan, *view_), expected);
  Plan moved = std::move(plan);
  EXPECT_EQ(evaluator.count(moved, *view_), expected);
  EXPECT_EQ(evaluator.materialize(moved, *view_).cardinality(), expected);
  Evaluator other = std::move(evaluator);
  EXPECT_EQ(other.count(moved, *view_), expected);
}

TEST_F(QueryEvaluator, EmptyIndex) {
  const Index empty;
  const auto view = empty.view();
  Evaluator evaluator;
  for (const char* text : {"ALL", "NOT ALL", "NOT x", "x OR y*", "ALL AND NOT x"}) {
    auto compiled = compile(text, *view, Options{.lenient = true});
    ASSERT_TRUE(std::holds_alternative<Plan>(compiled)) << text;
    EXPECT_EQ(evaluator.count(std::get<Plan>(compiled), *view), 0u) << text;
    EXPECT_TRUE(evaluator.materialize(std::get<Plan>(compiled), *view).empty()) << text;
  }
}

TEST_F(QueryEvaluator, UnknownTagsAndTheirPositions) {
  Error e = error("gender:female AND nope1 AND nope2");
  EXPECT_EQ(e.code, ErrorCode::kUnknownTag);
  EXPECT_EQ(e.position, 18u);
  EXPECT_EQ(e.message.rfind("unknown tag 'nope1'", 0), 0u) << e.message;
  e = error("(gender:female OR (城市:杭州 AND \"城市:南京\")) AND nope");
  EXPECT_EQ(e.position, std::string("(gender:female OR (城市:杭州 AND ").size());
  e = error("cat:999* OR nope");
  EXPECT_EQ(e.position, 0u);
  EXPECT_EQ(e.message.rfind("prefix 'cat:999*' matches no tag", 0), 0u) << e.message;
  // Syntax errors anywhere win over unknown names.
  e = error("nope AND (gender:female");
  EXPECT_EQ(e.code, ErrorCode::kParse);
  EXPECT_EQ(e.position, 9u);
  // Lenient: unknown names are empty sets.
  EXPECT_EQ(count("gender:female OR nope OR zz:*", true), data_->model.holders("gender:female"));
}

TEST_F(QueryEvaluator, AnalyticsFormsResolveOrReportUnknownNames) {
  Error e = error("gender:female AND NOT @existing_buyers");
  EXPECT_EQ(e.code, ErrorCode::kUnknownTag);
  EXPECT_EQ(e.position, 22u);
  EXPECT_EQ(e.message, "unknown saved crowd @existing_buyers");
  e = error("spend_90d >= 500 AND nope");
  EXPECT_EQ(e.code, ErrorCode::kUnknownTag);
  EXPECT_EQ(e.position, 0u);
  EXPECT_EQ(e.message, "unknown attribute spend_90d");
  e = error("gender:female AND x BETWEEN 1 AND 2");
  EXPECT_EQ(e.message, "unknown attribute x");
  EXPECT_EQ(e.position, 18u);
  // lookalike(): never the seed, exactly N users when there are that many.
  const std::size_t universe = data_->model.universe_size();
  const std::size_t female = data_->model.holders("gender:female");
  EXPECT_EQ(count("lookalike(gender:female, 1000)"), std::min<std::size_t>(1000, universe - female));
  EXPECT_EQ(count("lookalike(gender:female, 1000) AND gender:female"), 0u);
  e = error("gender:female OR lookalike(gender:female, 0)");
  EXPECT_EQ(e.code, ErrorCode::kParse);
  EXPECT_EQ(e.position, 42u);
  EXPECT_EQ(e.message, "lookalike size must be at least 1, not 0");
  // A syntax error, so it wins over an unknown name before it, lenient or not.
  EXPECT_EQ(error("nope OR within(gender:female, 0d)").code, ErrorCode::kParse);
  EXPECT_EQ(error("within(nope, 0d)", /*lenient=*/true).code, ErrorCode::kParse);
  // within(): a known tag without dated events is the empty set; an unknown
  // tag is unknown; 0 days is no span.
  EXPECT_EQ(count("within(gender:female, 30d)"), 0u);
  EXPECT_EQ(count("within(gender:female, 2017-11-25, 2017-12-03) OR gender:female"), female);
  EXPECT_EQ(error("within(nope, 30d)").code, ErrorCode::kUnknownTag);
  EXPECT_EQ(count("within(nope, 30d)", /*lenient=*/true), 0u);
  EXPECT_EQ(error("within(gender:female, 0d)").code, ErrorCode::kParse);
  // Leftmost resolve error wins, whichever kind, inside calls too.
  EXPECT_EQ(error("nope AND lookalike(a, 5)").position, 0u);
  EXPECT_EQ(error("lookalike(nope, 5) AND zz").position, 10u);
  // Lenient: saved crowds and attributes are empty sets too.
  EXPECT_EQ(count("NOT @x AND NOT spend > 5", true), universe);
  // Call names without '(' are plain tags (here: real ones).
  EXPECT_EQ(count("lookalike OR within"), model_count("lookalike OR within"));
}

TEST_F(QueryEvaluator, Suggestions) {
  Error e = error("gender:femal");
  ASSERT_FALSE(e.suggestions.empty());
  EXPECT_EQ(e.suggestions.front(), "gender:female");
  EXPECT_LE(e.suggestions.size(), 3u);
  EXPECT_EQ(e.message.rfind("unknown tag 'gender:femal' (did you mean: gender:female", 0), 0u) << e.message;
  e = error("Gender:female");
  ASSERT_FALSE(e.suggestions.empty());
  EXPECT_EQ(e.suggestions.front(), "gender:female");
  e = error("城市:杭");
  ASSERT_FALSE(e.suggestions.empty());
  EXPECT_EQ(e.suggestions.front(), "城市:杭州");
  e = error("城市:杭洲");
  ASSERT_FALSE(e.suggestions.empty());
  EXPECT_EQ(e.suggestions.front(), "城市:杭州");
  e = error("completely-unrelated-name");
  EXPECT_TRUE(e.suggestions.empty());
  EXPECT_EQ(e.message, "unknown tag 'completely-unrelated-name'");
  e = error("gendr:*");
  ASSERT_FALSE(e.suggestions.empty());
  EXPECT_EQ(e.suggestions.front(), "gender:*");
  EXPECT_EQ(e.message.rfind("prefix 'gendr:*' matches no tag (did you mean: gender:*", 0), 0u) << e.message;
}

TEST(QuerySuggest, EditDistance) {
  const auto d = [](std::string_view a, std::string_view b, std::size_t limit = 10) {
    std::u32string x, y;
    decode_utf8(a, x);
    decode_utf8(b, y);
    return edit_distance(x, y, limit);
  };
  EXPECT_EQ(d("", ""), 0u);
  EXPECT_EQ(d("abc", "abc"), 0u);
  EXPECT_EQ(d("", "abc"), 3u);
  EXPECT_EQ(d("kitten", "sitting"), 3u);
  EXPECT_EQ(d("杭州", "杭洲"), 1u);         // code points, not bytes
  EXPECT_EQ(d("abcdef", "uvwxyz", 2), 3u);  // capped at limit + 1
  EXPECT_EQ(d("a", "abcdefgh", 3), 4u);
}

TEST(QuerySuggest, PrefersTheSameField) {
  const auto dictionary = TagDictionary().with_added(std::vector<std::string>{"age:30", "agx:31", "sex:31", "age:31x"});
  // "age:31" is one edit from "age:30", "agx:31", "sex:31"... ranked by
  // distance, then same field first, then bytes.
  const auto s = suggest_tags("age:31", *dictionary);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], "age:30");
  EXPECT_EQ(s[1], "age:31x");
  EXPECT_EQ(s[2], "agx:31");
}

}  // namespace
}  // namespace crowd::query
