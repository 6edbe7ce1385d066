// Rewrites: PlanNode -> cheaper, equivalent PlanNode. Each pass is separately
// callable (and tested); rewrite() runs them all in the order below.
//
// Every pass keeps the set the plan denotes: "the same users", relying only
// on the index invariant that every tag is a subset of the universe (the
// universe is every user holding a tag, and erasure clears all of them).
// Each walks the tree bottom-up once, O(nodes) plus the noted sorts;
// recursion depth = plan depth, bounded via the parser's kMaxDepth. Each
// checks the calling thread's deadline on entry (deadline.h) and may throw
// TimedOut; the query caps keep one pass to about a millisecond.
#pragma once

#include "index/index_view.h"
#include "query/plan.h"

namespace crowd::query {

// Merges an AND under an AND (an OR under an OR) into its parent's operand
// list, also the AND positives of an and-not; replaces an AND/OR with one
// operand by that operand.
void flatten(PlanNode& node);

// Constants: a tag with no users is empty; a union drops members with no
// users (none left: empty; one: that tag); NOT ALL = empty, NOT empty = ALL,
// NOT NOT x = x; AND with an empty operand is empty and drops ALL operands
// (none left: ALL); OR with an ALL operand is ALL and drops empty ones (none
// left: empty); an and-not with an empty positive or an ALL negative is
// empty, drops ALL positives and empty negatives, and without negatives is
// the AND of its positives. Flattens what it collapses.
void fold_constants(PlanNode& node, const IndexView& view);

// Turns the tag and union operands of an OR into one union (a wide union is
// one roaring_bitmap_or_many, cheaper than a chain of pairwise ORs); a union
// lists each tag once. O(tags · log tags) per OR.
void collect_unions(PlanNode& node, const IndexView& view);

// An AND with NOT operands becomes an and-not: the positives ANDed, then each
// NOT's operand subtracted, which never materialises a complement. Without
// positives the universe is the positive ("NOT a AND NOT b").
void form_and_not(PlanNode& node, const IndexView& view);

// Fills PlanNode::estimate bottom-up: exact for tags, ALL and empty; for
// the rest the expected size if operands were independent, capped by what is
// certain (an AND is at most its smallest operand, a union at most the sum).
void estimate_cardinality(PlanNode& node, const IndexView& view);

// estimate_cardinality, then sorts the operands of every AND, OR and union,
// and both halves of every and-not, by ascending estimate (stable): an AND
// then starts from its smallest operand, and the last, largest operand is
// the one counted without being materialised. O(n log n) per node.
void order_by_cardinality(PlanNode& node, const IndexView& view);

// All passes: flatten, fold_constants, collect_unions, form_and_not,
// order_by_cardinality.
void rewrite(PlanNode& node, const IndexView& view);

}  // namespace crowd::query
