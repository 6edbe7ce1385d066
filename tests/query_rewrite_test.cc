// Rewrite passes, each on its own, on a small index with known cardinalities.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "index/index.h"
#include "index/write_batch.h"
#include "query/parser.h"
#include "query/resolve.h"
#include "query/rewrite.h"

namespace crowd::query {
namespace {

// 1000 users. big: 900, mid: 300, small: 30, tiny: 3 (nested ranges);
// cat:1:pv 100, cat:1:buy 10, cat:2:pv 50; gone and cat:3:zero were created
// and then emptied; user 999 holds no tag.
class QueryRewrite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    index_ = new Index();
    WriteBatch batch;
    const auto tag = [&](const char* name) { return batch.intern(name); };
    const uint32_t big = tag("big"), mid = tag("mid"), small = tag("small"), tiny = tag("tiny");
    const uint32_t pv1 = tag("cat:1:pv"), buy1 = tag("cat:1:buy"), pv2 = tag("cat:2:pv");
    const uint32_t gone = tag("gone"), zero = tag("cat:3:zero");
    for (uint32_t u = 0; u < 1000; ++u) {
      std::vector<uint32_t> tags;
      if (u < 900) tags.push_back(big);
      if (u < 300) tags.push_back(mid);
      if (u < 30) tags.push_back(small);
      if (u < 3) tags.push_back(tiny);
      if (u >= 500 && u < 600) tags.push_back(pv1);
      if (u >= 500 && u < 510) tags.push_back(buy1);
      if (u >= 700 && u < 750) tags.push_back(pv2);
      if (u == 5) {
        tags.push_back(gone);
        tags.push_back(zero);
      }
      batch.add(1000 + u, tags);
    }
    WriteResult r;
    ASSERT_TRUE(index_->apply(batch, r));
    WriteBatch empty_them;
    const uint32_t both[] = {empty_them.intern("gone"), empty_them.intern("cat:3:zero")};
    empty_them.remove(1005, both);
    ASSERT_TRUE(index_->apply(empty_them, r));
    view_ = index_->view();
    ASSERT_EQ(view_->universe().cardinality, 1000u);
  }
  static void TearDownTestSuite() {
    view_.reset();
    delete index_;
  }

  static PlanNode resolved(std::string_view text, bool lenient = false) {
    auto ast = parse(text);
    EXPECT_TRUE(std::holds_alternative<Ast>(ast)) << text;
    if (!std::holds_alternative<Ast>(ast)) return make_empty_node();
    auto plan = resolve(std::get<Ast>(ast), *view_, Options{lenient});
    EXPECT_TRUE(std::holds_alternative<PlanNode>(plan)) << text;
    if (!std::holds_alternative<PlanNode>(plan)) return make_empty_node();
    return std::move(std::get<PlanNode>(plan));
  }
  // Also checks that the node is well formed: every pass must keep it so.
  static std::string show(const PlanNode& node) {
    EXPECT_EQ(check_plan(node), "") << describe(node, view_->dictionary());
    return describe(node, view_->dictionary());
  }

  static std::string flattened(std::string_view text) {
    auto n = resolved(text);
    flatten(n);
    return show(n);
  }
  static std::string folded(std::string_view text, bool lenient = false) {
    auto n = resolved(text, lenient);
    flatten(n);
    fold_constants(n, *view_);
    return show(n);
  }
  static std::string collected(std::string_view text) {
    auto n = resolved(text);
    collect_unions(n, *view_);
    return show(n);
  }
  static std::string and_notted(std::string_view text) {
    auto n = resolved(text);
    flatten(n);
    form_and_not(n, *view_);
    return show(n);
  }
  static std::string ordered(std::string_view text) {
    auto n = resolved(text);
    order_by_cardinality(n, *view_);
    return show(n);
  }
  static std::string rewritten(std::string_view text, bool lenient = false) {
    auto n = resolved(text, lenient);
    rewrite(n, *view_);
    return show(n);
  }

  static Index* index_;
  static std::shared_ptr<const IndexView> view_;
};

Index* QueryRewrite::index_ = nullptr;
std::shared_ptr<const IndexView> QueryRewrite::view_;

TEST_F(QueryRewrite, ResolveKeepsTheTreeAndExpandsPrefixes) {
  EXPECT_EQ(show(resolved("big AND (mid AND small)")), "and(big, and(mid, small))");
  EXPECT_EQ(show(resolved("cat:1*")), "union(cat:1:buy, cat:1:pv)");  // byte order of names
  EXPECT_EQ(show(resolved("cat:*")), "union(cat:1:buy, cat:1:pv, cat:2:pv, cat:3:zero)");
  EXPECT_EQ(show(resolved("NOT ALL")), "not(all)");
  EXPECT_EQ(show(resolved("big OR nope", true)), "or(big, empty)");
}

TEST_F(QueryRewrite, Flatten) {
  EXPECT_EQ(flattened("big AND (mid AND (small AND tiny))"), "and(big, mid, small, tiny)");
  EXPECT_EQ(flattened("(big OR mid) OR (small OR (tiny))"), "or(big, mid, small, tiny)");
  EXPECT_EQ(flattened("big AND (mid OR small)"), "and(big, or(mid, small))");
  EXPECT_EQ(flattened("big OR (mid AND (small AND tiny))"), "or(big, and(mid, small, tiny))");
  EXPECT_EQ(flattened("NOT (big AND (mid AND small))"), "not(and(big, mid, small))");
  // Not a folding pass.
  EXPECT_EQ(flattened("NOT NOT big"), "not(not(big))");
  EXPECT_EQ(flattened("big AND ALL"), "and(big, all)");
  // The positives of an and-not.
  PlanNode n;
  n.kind = PlanKind::kAndNot;
  n.children.push_back(resolved("big AND mid"));
  n.children.push_back(resolved("small"));
  n.children.push_back(resolved("tiny"));
  n.positives = 2;
  flatten(n);
  EXPECT_EQ(show(n), "andnot(and(big, mid, small), minus(tiny))");
}

TEST_F(QueryRewrite, FoldConstants) {
  EXPECT_EQ(folded("gone"), "empty");
  EXPECT_EQ(folded("big AND gone"), "empty");
  EXPECT_EQ(folded("big OR gone"), "big");
  EXPECT_EQ(folded("big OR gone OR mid"), "or(big, mid)");
  EXPECT_EQ(folded("NOT ALL"), "empty");
  EXPECT_EQ(folded("NOT gone"), "all");
  EXPECT_EQ(folded("NOT NOT big"), "big");
  EXPECT_EQ(folded("NOT NOT NOT big"), "not(big)");
  EXPECT_EQ(folded("big AND ALL"), "big");
  EXPECT_EQ(folded("ALL AND ALL"), "all");
  EXPECT_EQ(folded("big OR ALL"), "all");
  EXPECT_EQ(folded("big AND NOT ALL"), "empty");
  EXPECT_EQ(folded("big OR NOT ALL"), "big");
  EXPECT_EQ(folded("big AND NOT gone"), "big");
  EXPECT_EQ(folded("big AND (gone OR mid)"), "and(big, mid)");
  EXPECT_EQ(folded("big AND (gone OR (mid AND ALL))"), "and(big, mid)");
  EXPECT_EQ(folded("cat:3*"), "empty");
  EXPECT_EQ(folded("cat:2*"), "cat:2:pv");
  EXPECT_EQ(folded("cat:*"), "union(cat:1:buy, cat:1:pv, cat:2:pv)");
  // Lenient unknowns are empty sets and fold like them.
  EXPECT_EQ(folded("big AND nope", true), "empty");
  EXPECT_EQ(folded("big OR nope*", true), "big");
  EXPECT_EQ(folded("NOT @nobody", true), "all");
  EXPECT_EQ(folded("x > 5 OR NOT big", true), "not(big)");
}

TEST_F(QueryRewrite, FoldConstantsInAndNot) {
  const auto and_not = [&](std::vector<const char*> positives, std::vector<const char*> negatives) {
    PlanNode n;
    n.kind = PlanKind::kAndNot;
    for (const char* p : positives) n.children.push_back(resolved(p));
    for (const char* q : negatives) n.children.push_back(resolved(q));
    n.positives = positives.size();
    fold_constants(n, *view_);
    return show(n);
  };
  EXPECT_EQ(and_not({"big", "gone"}, {"small"}), "empty");
  EXPECT_EQ(and_not({"big"}, {"ALL"}), "empty");
  EXPECT_EQ(and_not({"big", "ALL"}, {"small", "gone"}), "andnot(and(big), minus(small))");
  EXPECT_EQ(and_not({"ALL"}, {"small"}), "andnot(and(all), minus(small))");
  EXPECT_EQ(and_not({"big", "mid"}, {"gone"}), "and(big, mid)");
  EXPECT_EQ(and_not({"big"}, {"gone"}), "big");
  EXPECT_EQ(and_not({"ALL"}, {"gone"}), "all");
}

TEST_F(QueryRewrite, CollectUnions) {
  EXPECT_EQ(collected("small OR tiny"), "union(small, tiny)");
  EXPECT_EQ(collected("small OR tiny OR (mid AND big)"), "or(and(mid, big), union(small, tiny))");
  EXPECT_EQ(collected("cat:1* OR cat:2:pv OR cat:1:pv"), "union(cat:1:pv, cat:1:buy, cat:2:pv)");  // by tag id
  EXPECT_EQ(collected("small OR small"), "small");
  EXPECT_EQ(collected("small OR NOT tiny"), "or(not(tiny), small)");
  EXPECT_EQ(collected("big AND (small OR tiny)"), "and(big, union(small, tiny))");
  EXPECT_EQ(collected("small AND tiny"), "and(small, tiny)");
  // An OR with no leaf operand is left alone (whole).
  EXPECT_EQ(collected("(big AND mid) OR (small AND tiny) OR NOT big"), "or(and(big, mid), and(small, tiny), not(big))");
}

TEST_F(QueryRewrite, FormAndNot) {
  EXPECT_EQ(and_notted("big AND NOT small AND mid"), "andnot(and(big, mid), minus(small))");
  EXPECT_EQ(and_notted("NOT small AND NOT tiny"), "andnot(and(all), minus(small, tiny))");
  EXPECT_EQ(and_notted("NOT small"), "not(small)");
  EXPECT_EQ(and_notted("big OR NOT small"), "or(big, not(small))");
  EXPECT_EQ(and_notted("big AND NOT (small OR tiny)"), "andnot(and(big), minus(or(small, tiny)))");
  EXPECT_EQ(and_notted("big AND NOT NOT small"), "andnot(and(big), minus(not(small)))");
  EXPECT_EQ(and_notted("(big AND NOT small) OR (mid AND NOT tiny)"),
            "or(andnot(and(big), minus(small)), andnot(and(mid), minus(tiny)))");
}

TEST_F(QueryRewrite, EstimateCardinality) {
  const auto estimate = [&](std::string_view text) {
    auto n = resolved(text);
    estimate_cardinality(n, *view_);
    return n.estimate;
  };
  EXPECT_EQ(estimate("big"), 900u);
  EXPECT_EQ(estimate("ALL"), 1000u);
  EXPECT_EQ(estimate("gone"), 0u);
  EXPECT_EQ(estimate("cat:1*"), 110u);  // sum of members
  EXPECT_EQ(estimate("NOT big"), 100u);
  EXPECT_EQ(estimate("big AND mid"), 270u);   // independence: 0.9 * 0.3
  EXPECT_LE(estimate("small AND tiny"), 3u);  // never above the smallest operand
  EXPECT_EQ(estimate("mid AND ALL"), 300u);
  EXPECT_EQ(estimate("big OR mid"), 930u);  // 1 - 0.1 * 0.7
  EXPECT_EQ(estimate("big OR ALL"), 1000u);
}

TEST_F(QueryRewrite, OrderByCardinality) {
  EXPECT_EQ(ordered("big AND small AND mid"), "and(small, mid, big)");
  EXPECT_EQ(ordered("big OR tiny OR mid"), "or(tiny, mid, big)");
  EXPECT_EQ(ordered("(big OR mid) AND tiny AND (big AND small)"), "and(tiny, and(small, big), or(mid, big))");
  EXPECT_EQ(ordered("cat:1*"), "union(cat:1:buy, cat:1:pv)");
  EXPECT_EQ(ordered("cat:2:pv OR cat:1:buy OR cat:1:pv"), "or(cat:1:buy, cat:2:pv, cat:1:pv)");
  // Ties keep their order.
  EXPECT_EQ(ordered("mid AND big AND ALL"), "and(mid, big, all)");
  auto n = resolved("big AND NOT small AND mid AND NOT tiny AND NOT cat:1:pv");
  flatten(n);
  form_and_not(n, *view_);
  order_by_cardinality(n, *view_);
  EXPECT_EQ(show(n), "andnot(and(mid, big), minus(tiny, small, cat:1:pv))");
}

TEST_F(QueryRewrite, AllPasses) {
  EXPECT_EQ(rewritten("big AND NOT tiny AND (small OR mid) AND NOT gone AND ALL"),
            "andnot(and(union(small, mid), big), minus(tiny))");
  EXPECT_EQ(rewritten("(NOT NOT big AND (mid AND ALL)) OR cat:3*"), "and(mid, big)");
  EXPECT_EQ(rewritten("NOT big AND NOT mid"), "andnot(and(all), minus(mid, big))");
  EXPECT_EQ(rewritten("cat:1* OR cat:2*"), "union(cat:1:buy, cat:2:pv, cat:1:pv)");
  EXPECT_EQ(rewritten("big AND nope", true), "empty");
  EXPECT_EQ(rewritten("tiny OR NOT ALL OR gone"), "tiny");
  // Rewriting is idempotent.
  auto n = resolved("big AND NOT tiny AND (small OR mid OR cat:1*) AND NOT (gone OR cat:2:pv)");
  rewrite(n, *view_);
  const std::string once = show(n);
  rewrite(n, *view_);
  EXPECT_EQ(show(n), once);
}

}  // namespace
}  // namespace crowd::query
