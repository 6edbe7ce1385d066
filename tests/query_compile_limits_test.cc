// Compilation is bounded (issue 14, item 2): 64 KiB of `c* | c* | ...` once
// expanded one prefix 21,845 times and ran 68 s past a 10 s budget. Checked
// here, each against an expectation built independently of the code under
// test:
//  - repeated prefixes of a chain (and, in long chains, every repeated leaf)
//    resolve once: the plan of `c* | c* | c*` is the plan of `c*`, and
//    counts do not change;
//  - a query touching more than the documented 100,000 tags after prefix
//    expansion (docs/query-language.md, Limits) is `too_many_tags`, with the
//    numbers, at the operand that passes the cap, lenient or not;
//  - every stage — lexing, parsing, resolving, rewriting — checks the
//    request's deadline: with one already past, each throws TimedOut rather
//    than finishing (a past deadline is the deterministic form of "short").
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "index/index.h"
#include "query/deadline.h"
#include "query/lexer.h"
#include "query/parser.h"
#include "query/query.h"
#include "query/resolve.h"
#include "query/rewrite.h"
#include "tests/support/times_out.h"

namespace crowd::query {
namespace {

using test::times_out;

using Clock = Deadline::Clock;

// The documented cap (docs/query-language.md, Limits; docs/api.md).
constexpr std::size_t kDocumentedTagCap = 100'000;
// Tags under the prefix `c:`; and the tags t:0 .. t:199.
constexpr int kPrefixTags = 1'000;
constexpr int kOtherTags = 200;

// 3,000 users; c:000 .. c:999 and t:0 .. t:199, each held by a few users.
std::unique_ptr<Index> make_index() {
  auto index = std::make_unique<Index>();
  WriteBatch batch;
  std::vector<uint32_t> c_tags;
  std::vector<uint32_t> t_tags;
  for (int i = 0; i < kPrefixTags; ++i) {
    std::string name = std::to_string(i);
    name.insert(0, 3 - name.size(), '0');
    c_tags.push_back(batch.intern("c:" + name));
  }
  for (int i = 0; i < kOtherTags; ++i) t_tags.push_back(batch.intern("t:" + std::to_string(i)));
  for (UserId u = 0; u < 3'000; ++u) {
    const uint32_t mine[] = {c_tags[u % kPrefixTags], c_tags[(u * 7) % kPrefixTags], t_tags[u % kOtherTags]};
    batch.add(u, mine);
  }
  WriteResult ignored;
  EXPECT_TRUE(index->apply(batch, ignored));
  return index;
}

// `copies` copies of `operand` joined by `op`.
std::string repeated(const std::string& operand, const std::string& op, int copies) {
  std::string q;
  for (int i = 0; i < copies; ++i) {
    if (i > 0) q += op;
    q += operand;
  }
  return q;
}

std::string plan_of(std::string_view q, const IndexView& view) {
  auto parsed = parse(q);
  EXPECT_TRUE(std::holds_alternative<Ast>(parsed)) << q;
  auto resolved = resolve(std::get<Ast>(parsed), view, Options{});
  if (auto* e = std::get_if<Error>(&resolved)) return "error: " + e->message;
  return describe(std::get<PlanNode>(resolved), view.dictionary());
}

uint64_t count_of(std::string_view q, const IndexView& view) {
  auto compiled = compile(q, view);
  if (auto* e = std::get_if<Error>(&compiled)) {
    ADD_FAILURE() << q.substr(0, 80) << ": " << e->message;
    return 0;
  }
  Evaluator evaluator;
  return evaluator.count(std::get<Plan>(compiled), view);
}

TEST(CompileLimits, RepeatedOperandsOfAChainResolveOnce) {
  const auto index = make_index();
  const auto view = index->view();
  // The resolved plan (before any rewrite) of a chain of copies is the
  // plan of one copy: the prefix was expanded once.
  EXPECT_EQ(plan_of(repeated("c:*", " | ", 3), *view), plan_of("c:*", *view));
  EXPECT_EQ(plan_of(repeated("c:*", " AND ", 3), *view), plan_of("c:*", *view));
  EXPECT_EQ(plan_of("t:1 | c:00* | t:2 | c:00* | c:00*", *view), "or(t:1, " + plan_of("c:00*", *view) + ", t:2)");
  // In a long chain (more than 32 operands) every repeated leaf collapses:
  // tags, quoted or bare, and ALL. (A short chain keeps repeated tags, which
  // cost one lookup each; rewriting lists each tag of an OR once.)
  EXPECT_EQ(plan_of(repeated("t:1 | \"t:2\" | t:2", " | ", 20), *view), "or(t:1, t:2)");
  EXPECT_EQ(plan_of(repeated("t:1 & ALL", " & ", 20), *view), "and(t:1, all)");
  // Different kinds are different operands: a tag and the prefix of its name.
  EXPECT_EQ(plan_of("t:1 | t:1* | t:1*", *view), "or(t:1, " + plan_of("t:1*", *view) + ")");
  EXPECT_EQ(plan_of(repeated("t:1 | t:1*", " | ", 20), *view), "or(t:1, " + plan_of("t:1*", *view) + ")");
  // Groups are kept as they are.
  EXPECT_EQ(plan_of("(t:1 & t:2) | (t:1 & t:2)", *view), "or(and(t:1, t:2), and(t:1, t:2))");

  // 64 KiB of one prefix ORed with itself (the probe's query) counts what
  // the prefix alone counts; and 8,000 copies inside an AND too.
  const std::string bomb = repeated("c:*", "|", 16'384);
  ASSERT_LE(bomb.size(), kMaxQueryBytes);
  EXPECT_EQ(count_of(bomb, *view), count_of("c:*", *view));
  EXPECT_EQ(count_of("t:3 AND (" + repeated("c:*", " OR ", 8'000) + ")", *view), count_of("t:3 AND c:*", *view));
  // The leftmost unknown tag is still the one reported.
  auto compiled = compile("zz | " + repeated("c:*", " | ", 100) + " | zz", *view);
  ASSERT_TRUE(std::holds_alternative<Error>(compiled));
  EXPECT_EQ(code_name(std::get<Error>(compiled).code), "unknown_tag");
  EXPECT_EQ(std::get<Error>(compiled).position, 0u);
}

// `groups` operands `(c:* AND t:i)`: each touches kPrefixTags + 1 tags, and
// they are all different, so nothing collapses.
std::string wide_query(int groups) {
  std::string q;
  for (int i = 0; i < groups; ++i) {
    if (i > 0) q += " OR ";
    q += "(c:* AND t:" + std::to_string(i) + ")";
  }
  return q;
}

TEST(CompileLimits, MoreTagsThanTheCapAfterExpansionIsTooManyTags) {
  const auto index = make_index();
  const auto view = index->view();
  constexpr int kPerGroup = kPrefixTags + 1;
  const int fits = static_cast<int>(kDocumentedTagCap / kPerGroup);  // 99 groups: 99,099 tags
  ASSERT_LT(fits * kPerGroup, static_cast<int>(kDocumentedTagCap));
  ASSERT_GT((fits + 1) * kPerGroup, static_cast<int>(kDocumentedTagCap));

  EXPECT_TRUE(std::holds_alternative<Plan>(compile(wide_query(fits), *view)));
  for (const bool lenient : {false, true}) {
    const std::string q = wide_query(fits + 1);
    auto compiled = compile(q, *view, Options{.lenient = lenient});
    ASSERT_TRUE(std::holds_alternative<Error>(compiled)) << "lenient " << lenient;
    const Error& e = std::get<Error>(compiled);
    EXPECT_EQ(code_name(e.code), "too_many_tags");
    // The total (100 groups of 1,001) and the limit, grouped by thousands.
    EXPECT_NE(e.message.find("100,100"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("100,000"), std::string::npos) << e.message;
    // At the prefix of the last group: the operand that passed the cap.
    EXPECT_EQ(e.position, q.rfind("c:*")) << e.message;
  }
  // Repeats do not count: the same group 500 times is one group.
  EXPECT_TRUE(std::holds_alternative<Plan>(compile(repeated("c:*", " | ", 500), *view)));
  // A lookalike seed is charged the same way.
  auto seeded = compile("lookalike(" + wide_query(fits + 1) + ", 10)", *view);
  ASSERT_TRUE(std::holds_alternative<Error>(seeded));
  EXPECT_EQ(code_name(std::get<Error>(seeded).code), "too_many_tags");
}

TEST(CompileLimits, EveryStageOfCompilationChecksTheDeadline) {
  const auto index = make_index();
  const auto view = index->view();
  // Distinct operands, so that nothing collapses: 4,000 of them, 22,000 tags.
  std::string q;
  for (int i = 0; i < 4'000; ++i) {
    if (i > 0) q += " OR ";
    q += i % 2 == 0 ? "c:" + std::to_string(100 + i % 900) : "(t:" + std::to_string(i % kOtherTags) + " AND c:00*)";
  }
  ASSERT_LE(q.size(), kMaxQueryBytes);

  EXPECT_TRUE(times_out([&] { (void)tokenize(q); })) << "lexing";
  EXPECT_TRUE(times_out([&] { (void)parse(q); })) << "parsing";
  auto parsed = parse(q);
  ASSERT_TRUE(std::holds_alternative<Ast>(parsed));
  EXPECT_TRUE(times_out([&] { (void)resolve(std::get<Ast>(parsed), *view, Options{}); })) << "resolving";
  auto resolved = resolve(std::get<Ast>(parsed), *view, Options{});
  ASSERT_TRUE(std::holds_alternative<PlanNode>(resolved));
  PlanNode plan = std::get<PlanNode>(resolved);
  EXPECT_TRUE(times_out([&] { rewrite(plan, *view); })) << "rewriting";
  PlanNode flat = std::get<PlanNode>(resolved);
  EXPECT_TRUE(times_out([&] { flatten(flat); })) << "one rewrite pass alone";

  // The probe's query, whole: the deadline error, not a plan.
  const std::string bomb = repeated("c:*", "|", 16'384);
  ASSERT_LE(bomb.size(), kMaxQueryBytes);
  EXPECT_TRUE(times_out([&] { (void)compile(bomb, *view); })) << "compile";
  // Without a deadline the same thread compiles both.
  EXPECT_TRUE(std::holds_alternative<Plan>(compile(q, *view)));
  EXPECT_TRUE(std::holds_alternative<Plan>(compile(bomb, *view)));
}

}  // namespace
}  // namespace crowd::query
