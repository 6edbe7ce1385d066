// Plan: a query compiled against one IndexView — every name resolved to a
// bitmap of that view, rewrites applied — ready to evaluate any number of
// times on any thread (it is immutable once built).
//
// A clean tree of eight node kinds with resolved bitmap pointers and no
// strings, so evaluators dispatch on `kind` and nothing else (and a later
// fused per-2^16-chunk evaluator can walk the same tree).
//
// Lifetime: a Plan borrows the bitmaps of the IndexView it was compiled
// against; keep that view (its shared_ptr) alive while the Plan is used.
#pragma once

#include <roaring/roaring.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "index/ids.h"
#include "index/index_view.h"

namespace crowd::query {

enum class PlanKind : uint8_t {
  kEmpty,   // no user
  kAll,     // the universe
  kTag,     // one tag: `tag`, `bits`
  kUnion,   // OR of several tags (an expanded prefix, or ORed tags): `union_tags`, `union_bits`
  kAnd,     // intersection of `children` (2+)
  kAndNot,  // AND of children[0, positives) minus each of children[positives, end)
  kOr,      // union of `children` (2+)
  kNot,     // universe minus children[0]
};

struct PlanNode {
  PlanKind kind = PlanKind::kEmpty;
  // kTag, kAll, kEmpty: exact cardinality. Others: an estimate (the rewrite
  // pass `estimate_cardinality` fills it; used only to order operands).
  uint64_t estimate = 0;
  // Byte offset in the query text this node came from (diagnostics only).
  std::size_t position = 0;

  TagId tag = kNoTag;                               // kTag (kNoTag when `computed`)
  const roaring_bitmap_t* bits = nullptr;           // kTag
  // kTag, optional: a set the query computed itself rather than a stored
  // tag (an attribute range, a lookalike expansion); `tag` is then kNoTag
  // and `bits` points into it. `label`, when set, is how describe() prints
  // the leaf (computed sets, saved crowds).
  std::shared_ptr<const TagBits> computed;
  std::string label;
  std::vector<TagId> union_tags;                    // kUnion, parallel to union_bits
  std::vector<const roaring_bitmap_t*> union_bits;  // kUnion
  // kUnion, optional: the whole union from the UnionCache (union_cache.h).
  // When set, evaluators read it as one tag; it lives as long as the plan.
  std::shared_ptr<const TagBits> cached_union;
  // kUnion: its members are values of one exclusive field (the tag library:
  // no user holds two), so its size is the sum of theirs (Evaluator::count).
  bool disjoint = false;
  std::size_t positives = 0;                        // kAndNot
  std::vector<PlanNode> children;                   // kAnd, kAndNot, kOr, kNot
};

// Node constructors.
[[nodiscard]] PlanNode make_empty_node(std::size_t position = 0);
[[nodiscard]] PlanNode make_all_node(const IndexView& view, std::size_t position = 0);
// id < view.tag_count().
[[nodiscard]] PlanNode make_tag_node(const IndexView& view, TagId id, std::size_t position = 0);
// A leaf over a set the query computed (see PlanNode::computed).
[[nodiscard]] PlanNode make_computed_node(std::shared_ptr<const TagBits> set, std::string label,
                                          std::size_t position = 0);
// A kTag leaf's bits and numbers, stored or computed.
[[nodiscard]] inline const TagBits& leaf_bits(const PlanNode& node, const IndexView& view) {
  return node.computed ? *node.computed : view.tag(node.tag);
}
// Every id < view.tag_count(); estimate is the sum of their cardinalities.
[[nodiscard]] PlanNode make_union_node(const IndexView& view, std::vector<TagId> ids, std::size_t position = 0);

class Plan {
 public:
  // `root` must have been built against `view`.
  Plan(PlanNode root, const IndexView& view);

  [[nodiscard]] const PlanNode& root() const { return root_; }
  // The view the plan was compiled against (evaluators check it in debug builds).
  [[nodiscard]] const IndexView& view() const { return *view_; }
  // Deepest chain of nodes (a single tag is 1): evaluators size scratch space by it.
  [[nodiscard]] std::size_t depth() const { return depth_; }
  // Notes for the answer about a query that compiled but likely does not
  // mean what it says (resolve.h); usually none.
  [[nodiscard]] const std::vector<std::string>& warnings() const { return warnings_; }
  void set_warnings(std::vector<std::string> w) { warnings_ = std::move(w); }
  // The day the query's relative windows counted back from (options.h);
  // nullopt when it has none.
  [[nodiscard]] std::optional<int64_t> as_of() const { return as_of_; }
  void set_as_of(std::optional<int64_t> day) { as_of_ = day; }

 private:
  PlanNode root_;
  const IndexView* view_;
  std::size_t depth_;
  std::vector<std::string> warnings_;
  std::optional<int64_t> as_of_;
};

// The plan as an S-expression with tag names, for tests, logs and EXPLAIN:
// "and(a, not(b), union(c, d))", "all", "empty". Tags print as query text
// (quoted when needed). O(nodes); recursion depth = plan depth.
[[nodiscard]] std::string describe(const PlanNode& node, const TagDictionary& dictionary);

// Deepest chain of nodes from `node` down. O(nodes).
[[nodiscard]] std::size_t depth(const PlanNode& node);

// Empty when `node` is well formed, else what is wrong with the first bad
// node: a tag needs its bitmap; a union 1+ members with parallel ids and
// bitmaps; NOT one operand; AND/OR 2+; an and-not 1+ positives and 1+
// negatives; leaves no operands. Every pass keeps a plan well formed (except
// that resolve() may produce a one-member union). For tests and debug
// builds (Plan's constructor asserts it). O(nodes).
[[nodiscard]] std::string check_plan(const PlanNode& node);

}  // namespace crowd::query
