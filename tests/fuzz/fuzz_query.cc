// Fuzz target: the query language, text -> tokens -> Ast -> Plan -> counts.
//
// Input: query text (any bytes). Checked on every input:
//  - tokenize() and parse() never crash; they agree on the first lexical
//    error; a parsed query prints back (printer.h) to text that parses to a
//    structurally equal Ast and prints the same again;
//  - compile() strict and lenient, against a small fixed index with every
//    kind of name the language reaches (tags with awkward bytes, prefixes,
//    numeric attributes, dated tags for within(), saved crowds, lookalike()
//    seeds): a parse error is the same error from compile(); a parsed query
//    fails strict compilation only with unknown_tag, and lenient never;
//  - every compiled plan is well formed (check_plan) and counted by both
//    count paths (kOperator, kFused) and kAuto, which must agree with each
//    other, with materialize(), with collect() (whole and in pages), with the
//    plan compiled through a UnionCache, with the plan before rewrites, and
//    strict with lenient when both compile.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "index/bulk_loader.h"
#include "index/index.h"
#include "query/ast.h"
#include "query/evaluator.h"
#include "query/lexer.h"
#include "query/parser.h"
#include "query/printer.h"
#include "query/query.h"
#include "query/resolve.h"
#include "query/union_cache.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace crowd;
using namespace crowd::query;

// A small index over two 2^16 chunks, so both the bitset/array/run container
// kinds and the chunk boundary occur: ~70k users, dense, sparse and
// clustered tags, erased users (holes in the universe), numeric values,
// events on nine days, and two saved crowds.
std::unique_ptr<Index> build_index() {
  auto index = std::make_unique<Index>();
  constexpr uint64_t kUsers = 70'000;
  auto id_of = [](uint64_t i) { return i * 7 + 3; };
  {
    BulkLoader loader(*index);
    const std::vector<std::string> names = {
        "gender:female", "gender:male",    "age:25-29",      "age:30-34",    "兴趣:美妆",     "member:brand_x",
        "aipl:brand_x:L", "aipl:brand_x:I", "city:hangzhou", "student:yes",  "power:high",  "cat:2520377:buy",
        "a",             "b",              "c",              "x y",          "q\"uote",     "and",
        "NOT",           "😀",             "back\\slash",    "lookalike",    "within",      "dense"};
    std::vector<uint32_t> local;
    for (const auto& n : names) local.push_back(loader.tag(n));
    std::vector<uint32_t> tags;
    for (uint64_t i = 0; i < kUsers; ++i) {
      tags.clear();
      tags.push_back(local[i % 2]);                                  // gender: half each
      if (i % 5 < 2) tags.push_back(local[2 + (i / 5) % 2]);         // age
      if (i % 13 == 0) tags.push_back(local[4]);                     // sparse
      if (i >= 30'000 && i < 42'000) tags.push_back(local[5]);       // one run across
      if (i % 101 == 7) tags.push_back(local[6]);                    // very sparse
      if (i % 3 == 0) tags.push_back(local[7]);                      // dense (bitsets)
      if ((i / 1000) % 4 == 1) tags.push_back(local[8]);             // clustered runs
      if (i % 17 < 3) tags.push_back(local[9]);
      if (i % 7 == 1) tags.push_back(local[10]);
      if (i % 1009 == 3) tags.push_back(local[11]);
      for (std::size_t t = 12; t < names.size() - 1; ++t)
        if ((i * 2654435761u >> 7) % (t + 1) == 0) tags.push_back(local[t]);
      if (i % 10 != 0) tags.push_back(local.back());
      CROWD_FUZZ_CHECK(loader.add(id_of(i), tags), "bulk add");
    }
    loader.finish();
  }
  WriteBatch batch;
  const uint32_t spend = batch.intern("spend_90d");
  const uint32_t score = batch.intern("score");
  const uint32_t daily = batch.intern("aipl_daily:brand_x:I");
  std::vector<uint32_t> day_tags;
  for (int64_t d = 17495; d <= 17503; ++d) day_tags.push_back(batch.intern_day("aipl_daily:brand_x:I", d));
  for (uint64_t i = 0; i < kUsers; i += 3) {
    batch.set_value(id_of(i), spend, static_cast<int64_t>((i * 37) % 2000) - 100);
    if (i % 2 == 0) batch.set_value(id_of(i), score, static_cast<int64_t>(i) - 35'000);
  }
  for (uint64_t i = 0; i < kUsers; i += 11) {
    const uint32_t both[] = {daily, day_tags[(i / 11) % day_tags.size()]};
    batch.add(id_of(i), both);
  }
  // Holes: erased users, and removals from tags.
  for (uint64_t i = 5; i < kUsers; i += 97) batch.erase(id_of(i));
  const uint32_t female = batch.intern("gender:female");
  for (uint64_t i = 0; i < kUsers; i += 50) batch.remove(id_of(i), std::span(&female, 1));
  WriteResult result;
  CROWD_FUZZ_CHECK(index->apply(batch, result), "apply");

  // Saved crowds: their tag and their entry (as server/saved_crowds.cc writes them).
  WriteBatch crowds;
  for (const auto& [name, step] : {std::pair<const char*, uint32_t>{"bx_like", 7}, {"x", 1000}}) {
    Bitmap members;
    for (uint32_t o = 0; o < kUsers; o += step) roaring_bitmap_add(members.get(), o);
    crowds.save_crowd(name, std::make_shared<const Bitmap>(std::move(members)), "{}");
  }
  CROWD_FUZZ_CHECK(index->apply(crowds, result), "apply crowds");
  return index;
}

struct Fixture {
  std::unique_ptr<Index> index = build_index();
  std::shared_ptr<const IndexView> view = index->view();
  Evaluator operator_path{CountPath::kOperator};
  Evaluator fused_path{CountPath::kFused};
  Evaluator auto_path{CountPath::kAuto};
  UnionCache unions{std::size_t{64} << 20};
  std::vector<Ordinal> page;
};

Fixture& fixture() {
  static Fixture* f = new Fixture();  // never destroyed: LeakSanitizer ignores it
  return *f;
}

bool same_error(const Error& a, const Error& b) {
  return a.code == b.code && a.position == b.position && a.message == b.message;
}

// Every way of counting a plan agrees; returns the count.
uint64_t check_counts(const Plan& plan, std::string_view text) {
  Fixture& f = fixture();
  const IndexView& view = *f.view;
  const std::string problem = check_plan(plan.root());
  CROWD_FUZZ_CHECK(problem.empty(), "[%.*s]: %s", static_cast<int>(text.size()), text.data(), problem.c_str());
  const uint64_t by_operator = f.operator_path.count(plan, view);
  const uint64_t by_fused = f.fused_path.count(plan, view);
  const uint64_t by_auto = f.auto_path.count(plan, view);
  CROWD_FUZZ_CHECK(by_operator == by_fused && by_fused == by_auto, "[%.*s]: operator %llu fused %llu auto %llu",
                   static_cast<int>(text.size()), text.data(), static_cast<unsigned long long>(by_operator),
                   static_cast<unsigned long long>(by_fused), static_cast<unsigned long long>(by_auto));
  const Bitmap set = f.operator_path.materialize(plan, view);
  CROWD_FUZZ_CHECK(set.cardinality() == by_operator, "[%.*s]: materialize %llu count %llu",
                   static_cast<int>(text.size()), text.data(), static_cast<unsigned long long>(set.cardinality()),
                   static_cast<unsigned long long>(by_operator));
  CROWD_FUZZ_CHECK(roaring_bitmap_is_subset(set.get(), view.universe().bits.get()), "[%.*s]: result outside universe",
                   static_cast<int>(text.size()), text.data());
  // Pages of 1000 (a few pages at most: the index has ~70k users), each
  // resuming after the last member of the previous one, equal the set.
  std::vector<uint32_t> expected(static_cast<std::size_t>(set.cardinality()));
  roaring_bitmap_to_uint32_array(set.get(), expected.data());
  std::size_t seen = 0;
  Ordinal from = 0;
  for (;;) {
    f.auto_path.collect(plan, view, from, 1000, f.page);
    CROWD_FUZZ_CHECK(f.page.size() <= 1000, "page too big");
    for (const Ordinal o : f.page) {
      CROWD_FUZZ_CHECK(seen < expected.size() && expected[seen] == o, "[%.*s]: collect differs at member %zu",
                       static_cast<int>(text.size()), text.data(), seen);
      ++seen;
    }
    if (f.page.size() < 1000) break;
    from = f.page.back() + 1;
  }
  CROWD_FUZZ_CHECK(seen == expected.size(), "[%.*s]: collect gave %zu of %zu", static_cast<int>(text.size()),
                   text.data(), seen, expected.size());
  return by_operator;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = fixture();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (text.size() > kMaxQueryBytes + 16) return -1;  // compile() refuses these in O(1)

  // Lexer alone: a lexical error is what the parser reports too, unless a
  // grammar error comes first (the parser pulls tokens lazily).
  const auto tokens = tokenize(text);
  const auto parsed = parse(text);
  if (const auto* e = std::get_if<Error>(&parsed)) {
    CROWD_FUZZ_CHECK(e->code == ErrorCode::kParse, "parse error code");
    CROWD_FUZZ_CHECK(e->position <= text.size(), "error position %zu past the end %zu", e->position, text.size());
  } else {
    CROWD_FUZZ_CHECK(std::holds_alternative<std::vector<Token>>(tokens), "[%.*s] parses but does not tokenize",
                     static_cast<int>(text.size()), text.data());
    // The printer's promise: parse(print(q)) == q.
    const Ast& ast = std::get<Ast>(parsed);
    const std::string printed = print(ast);
    const auto reparsed = parse(printed);
    CROWD_FUZZ_CHECK(std::holds_alternative<Ast>(reparsed), "[%.*s] prints as [%s], which does not parse: %s",
                     static_cast<int>(text.size()), text.data(), printed.c_str(),
                     std::get<Error>(reparsed).message.c_str());
    CROWD_FUZZ_CHECK(structurally_equal(ast, std::get<Ast>(reparsed)), "[%.*s] prints as [%s], which parses differently",
                     static_cast<int>(text.size()), text.data(), printed.c_str());
    CROWD_FUZZ_CHECK(print(std::get<Ast>(reparsed)) == printed, "[%s] does not print back the same", printed.c_str());
  }

  const IndexView& view = *f.view;
  std::optional<uint64_t> strict_count;
  for (const bool lenient : {false, true}) {
    const auto compiled = compile(text, view, Options{lenient, nullptr});
    if (const auto* e = std::get_if<Error>(&compiled)) {
      if (const auto* pe = std::get_if<Error>(&parsed)) {
        CROWD_FUZZ_CHECK(same_error(*e, *pe) || e->code == ErrorCode::kTooLarge, "compile and parse disagree");
      } else {
        CROWD_FUZZ_CHECK(!lenient, "[%.*s] parses but lenient compile fails: %s", static_cast<int>(text.size()),
                         text.data(), e->message.c_str());
        CROWD_FUZZ_CHECK(e->code == ErrorCode::kUnknownTag || e->code == ErrorCode::kTooLarge,
                         "[%.*s] parses but compile fails with %s", static_cast<int>(text.size()), text.data(),
                         e->message.c_str());
      }
      continue;
    }
    CROWD_FUZZ_CHECK(std::holds_alternative<Ast>(parsed), "compiles but does not parse");
    const Plan& plan = std::get<Plan>(compiled);
    const uint64_t n = check_counts(plan, text);
    if (!lenient) {
      strict_count = n;
    } else if (strict_count) {
      CROWD_FUZZ_CHECK(*strict_count == n, "[%.*s] strict %llu lenient %llu", static_cast<int>(text.size()),
                       text.data(), static_cast<unsigned long long>(*strict_count), static_cast<unsigned long long>(n));
    }
    if (lenient) {
      // Through the union cache (as the server compiles), and before any
      // rewrite: the same set.
      const auto cached = compile(text, view, Options{true, &f.unions});
      CROWD_FUZZ_CHECK(std::holds_alternative<Plan>(cached), "compiles only without the union cache");
      const uint64_t c = check_counts(std::get<Plan>(cached), text);
      CROWD_FUZZ_CHECK(c == n, "[%.*s] cached %llu uncached %llu", static_cast<int>(text.size()), text.data(),
                       static_cast<unsigned long long>(c), static_cast<unsigned long long>(n));
      auto resolved = resolve(std::get<Ast>(parsed), view, Options{true, nullptr});
      CROWD_FUZZ_CHECK(std::holds_alternative<PlanNode>(resolved), "resolves only with rewrites");
      const Plan raw(std::move(std::get<PlanNode>(resolved)), view);
      const Bitmap unrewritten = f.operator_path.materialize(raw, view);
      CROWD_FUZZ_CHECK(unrewritten.cardinality() == n, "[%.*s] rewritten %llu unrewritten %llu",
                       static_cast<int>(text.size()), text.data(), static_cast<unsigned long long>(n),
                       static_cast<unsigned long long>(unrewritten.cardinality()));
    }
  }
  return 0;
}
