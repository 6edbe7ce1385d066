#include "query/rewrite.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "query/deadline.h"

namespace crowd::query {
namespace {

// Each pass is a thin recursive walk calling an out-of-line *_here step, so
// the recursive frames stay small (recursion depth = plan depth).

bool is_nary(PlanKind kind) { return kind == PlanKind::kAnd || kind == PlanKind::kOr; }

// Replaces `node` by its own child (moved out first: assigning a subobject
// to its owner directly would destroy it mid-move).
void replace_with_child(PlanNode& node, std::size_t index) {
  PlanNode child = std::move(node.children[index]);
  node = std::move(child);
}

void replace(PlanNode& node, PlanNode with) { node = std::move(with); }

// One level of flattening at `node`, its children already flat.
[[gnu::noinline]] void flatten_here(PlanNode& node) {
  if (is_nary(node.kind)) {
    bool nested = false;
    for (const auto& c : node.children) nested |= c.kind == node.kind;
    if (nested) {
      std::vector<PlanNode> merged;
      for (auto& c : node.children) {
        if (c.kind == node.kind) {
          for (auto& g : c.children) merged.push_back(std::move(g));
        } else {
          merged.push_back(std::move(c));
        }
      }
      node.children = std::move(merged);
    }
    if (node.children.size() == 1) replace_with_child(node, 0);
    return;
  }
  if (node.kind == PlanKind::kAndNot) {
    bool nested = false;
    for (std::size_t i = 0; i < node.positives; ++i) nested |= node.children[i].kind == PlanKind::kAnd;
    if (!nested) return;
    std::vector<PlanNode> merged;
    for (std::size_t i = 0; i < node.positives; ++i) {
      auto& c = node.children[i];
      if (c.kind == PlanKind::kAnd) {
        for (auto& g : c.children) merged.push_back(std::move(g));
      } else {
        merged.push_back(std::move(c));
      }
    }
    const std::size_t positives = merged.size();
    for (std::size_t i = node.positives; i < node.children.size(); ++i) merged.push_back(std::move(node.children[i]));
    node.children = std::move(merged);
    node.positives = positives;
  }
}

bool any_of_kind(const std::vector<PlanNode>& nodes, std::size_t from, std::size_t to, PlanKind kind) {
  for (std::size_t i = from; i < to; ++i) {
    if (nodes[i].kind == kind) return true;
  }
  return false;
}

// Removes nodes of `kind` from [from, to); returns how many were removed.
std::size_t drop_kind(std::vector<PlanNode>& nodes, std::size_t from, std::size_t to, PlanKind kind) {
  const auto first = nodes.begin() + static_cast<std::ptrdiff_t>(from);
  const auto last = nodes.begin() + static_cast<std::ptrdiff_t>(to);
  const auto kept_end = std::stable_partition(first, last, [kind](const PlanNode& n) { return n.kind != kind; });
  const auto removed = static_cast<std::size_t>(last - kept_end);
  nodes.erase(kept_end, last);
  return removed;
}

[[gnu::noinline]] void fold_here(PlanNode& node, const IndexView& view) {
  const std::size_t position = node.position;
  switch (node.kind) {
    case PlanKind::kEmpty:
    case PlanKind::kAll:
      return;
    case PlanKind::kTag:
      if (leaf_bits(node, view).cardinality == 0) replace(node, make_empty_node(position));
      return;
    case PlanKind::kUnion: {
      std::vector<TagId> kept;
      for (const TagId id : node.union_tags) {
        if (view.tag(id).cardinality != 0) kept.push_back(id);
      }
      if (kept.empty()) {
        replace(node, make_empty_node(position));
      } else if (kept.size() == 1) {
        replace(node, make_tag_node(view, kept.front(), position));
      } else if (kept.size() != node.union_tags.size()) {
        replace(node, make_union_node(view, std::move(kept), position));
      }
      return;
    }
    case PlanKind::kNot: {
      const PlanKind inner = node.children.front().kind;
      if (inner == PlanKind::kAll) {
        replace(node, make_empty_node(position));
      } else if (inner == PlanKind::kEmpty) {
        replace(node, make_all_node(view, position));
      } else if (inner == PlanKind::kNot) {
        PlanNode grandchild = std::move(node.children.front().children.front());
        node = std::move(grandchild);
      }
      return;
    }
    case PlanKind::kAnd:
    case PlanKind::kOr: {
      const bool is_and = node.kind == PlanKind::kAnd;
      const PlanKind absorbing = is_and ? PlanKind::kEmpty : PlanKind::kAll;
      const PlanKind neutral = is_and ? PlanKind::kAll : PlanKind::kEmpty;
      if (any_of_kind(node.children, 0, node.children.size(), absorbing)) {
        replace(node, is_and ? make_empty_node(position) : make_all_node(view, position));
        return;
      }
      drop_kind(node.children, 0, node.children.size(), neutral);
      if (node.children.empty()) {
        replace(node, is_and ? make_all_node(view, position) : make_empty_node(position));
        return;
      }
      flatten_here(node);
      return;
    }
    case PlanKind::kAndNot: {
      const std::size_t size = node.children.size();
      if (any_of_kind(node.children, 0, node.positives, PlanKind::kEmpty) ||
          any_of_kind(node.children, node.positives, size, PlanKind::kAll)) {
        replace(node, make_empty_node(position));
        return;
      }
      drop_kind(node.children, node.positives, size, PlanKind::kEmpty);
      node.positives -= drop_kind(node.children, 0, node.positives, PlanKind::kAll);
      if (node.positives == 0) {
        node.children.insert(node.children.begin(), make_all_node(view, position));
        node.positives = 1;
      }
      if (node.children.size() == node.positives) {
        node.kind = PlanKind::kAnd;
        node.positives = 0;
        // An AND of only ALL is ALL; of one operand, that operand.
        if (node.children.size() > 1) drop_kind(node.children, 0, node.children.size(), PlanKind::kAll);
        if (node.children.empty()) {
          replace(node, make_all_node(view, position));
          return;
        }
      }
      flatten_here(node);
      return;
    }
  }
}

void fold_recursive(PlanNode& node, const IndexView& view) {
  for (auto& c : node.children) fold_recursive(c, view);
  fold_here(node, view);
}

[[gnu::noinline]] void collect_here(PlanNode& node, const IndexView& view) {
  if (node.kind == PlanKind::kUnion) {
    // A prefix's range lists each tag once, but a hand-built union may
    // repeat one: list each once.
    auto ids = node.union_tags;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    if (ids.size() == 1) {
      replace(node, make_tag_node(view, ids.front(), node.position));
    } else if (ids.size() != node.union_tags.size()) {
      replace(node, make_union_node(view, std::move(ids), node.position));
    }
    return;
  }
  if (node.kind != PlanKind::kOr) return;
  const bool any_leaf = std::any_of(node.children.begin(), node.children.end(), [](const PlanNode& c) {
    return (c.kind == PlanKind::kTag && !c.computed) || c.kind == PlanKind::kUnion;
  });
  if (!any_leaf) return;
  std::vector<TagId> ids;
  std::size_t leaves = 0;
  std::size_t first_leaf_position = node.position;
  std::vector<PlanNode> others;
  for (auto& c : node.children) {
    if (c.kind == PlanKind::kTag && !c.computed) {
      if (leaves++ == 0) first_leaf_position = c.position;
      ids.push_back(c.tag);
    } else if (c.kind == PlanKind::kUnion) {
      if (leaves++ == 0) first_leaf_position = c.position;
      ids.insert(ids.end(), c.union_tags.begin(), c.union_tags.end());
    } else {
      others.push_back(std::move(c));
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  PlanNode leaf = ids.size() == 1 ? make_tag_node(view, ids.front(), first_leaf_position)
                                  : make_union_node(view, std::move(ids), first_leaf_position);
  if (others.empty()) {
    replace(node, std::move(leaf));
    return;
  }
  others.push_back(std::move(leaf));
  node.children = std::move(others);
}

void collect_recursive(PlanNode& node, const IndexView& view) {
  for (auto& c : node.children) collect_recursive(c, view);
  collect_here(node, view);
}

[[gnu::noinline]] void and_not_here(PlanNode& node, const IndexView& view) {
  if (node.kind != PlanKind::kAnd && node.kind != PlanKind::kAndNot) return;
  const std::size_t positives_before = node.kind == PlanKind::kAnd ? node.children.size() : node.positives;
  if (!any_of_kind(node.children, 0, positives_before, PlanKind::kNot)) return;
  std::vector<PlanNode> positives;
  std::vector<PlanNode> negatives;
  for (std::size_t i = 0; i < node.children.size(); ++i) {
    auto& c = node.children[i];
    if (i < positives_before && c.kind == PlanKind::kNot) {
      negatives.push_back(std::move(c.children.front()));
    } else if (i < positives_before) {
      positives.push_back(std::move(c));
    } else {
      negatives.push_back(std::move(c));
    }
  }
  if (positives.empty()) positives.push_back(make_all_node(view, node.position));
  node.kind = PlanKind::kAndNot;
  node.positives = positives.size();
  node.children = std::move(positives);
  for (auto& n : negatives) node.children.push_back(std::move(n));
}

void and_not_recursive(PlanNode& node, const IndexView& view) {
  for (auto& c : node.children) and_not_recursive(c, view);
  and_not_here(node, view);
}

void estimate_recursive(PlanNode& node, const IndexView& view, double universe) {
  for (auto& c : node.children) estimate_recursive(c, view, universe);
  const auto share = [universe](const PlanNode& n) {
    return universe > 0 ? static_cast<double>(n.estimate) / universe : 0.0;
  };
  const auto to_count = [universe](double p) {
    return static_cast<uint64_t>(std::llround(std::clamp(p, 0.0, 1.0) * universe));
  };
  switch (node.kind) {
    case PlanKind::kEmpty:
      node.estimate = 0;
      return;
    case PlanKind::kAll:
      node.estimate = view.universe().cardinality;
      return;
    case PlanKind::kTag:
      node.estimate = leaf_bits(node, view).cardinality;
      return;
    case PlanKind::kUnion: {
      uint64_t sum = 0;
      for (const TagId id : node.union_tags) sum += view.tag(id).cardinality;
      node.estimate = std::min<uint64_t>(sum, view.universe().cardinality);
      return;
    }
    case PlanKind::kNot:
      node.estimate =
          view.universe().cardinality - std::min(node.children.front().estimate, view.universe().cardinality);
      return;
    case PlanKind::kOr: {
      double none = 1.0;
      uint64_t largest = 0;
      for (const auto& c : node.children) {
        none *= 1.0 - share(c);
        largest = std::max(largest, c.estimate);
      }
      node.estimate = std::max(largest, to_count(1.0 - none));
      return;
    }
    case PlanKind::kAnd:
    case PlanKind::kAndNot: {
      const std::size_t positives = node.kind == PlanKind::kAnd ? node.children.size() : node.positives;
      double p = 1.0;
      uint64_t smallest = view.universe().cardinality;
      for (std::size_t i = 0; i < node.children.size(); ++i) {
        const auto& c = node.children[i];
        if (i < positives) {
          p *= share(c);
          smallest = std::min(smallest, c.estimate);
        } else {
          p *= 1.0 - share(c);
        }
      }
      node.estimate = std::min(smallest, to_count(p));
      return;
    }
  }
}

void sort_by_estimate(std::vector<PlanNode>& nodes, std::size_t from, std::size_t to) {
  std::stable_sort(nodes.begin() + static_cast<std::ptrdiff_t>(from), nodes.begin() + static_cast<std::ptrdiff_t>(to),
                   [](const PlanNode& a, const PlanNode& b) { return a.estimate < b.estimate; });
}

void order_recursive(PlanNode& node, const IndexView& view) {
  for (auto& c : node.children) order_recursive(c, view);
  switch (node.kind) {
    case PlanKind::kAnd:
    case PlanKind::kOr:
      sort_by_estimate(node.children, 0, node.children.size());
      return;
    case PlanKind::kAndNot:
      sort_by_estimate(node.children, 0, node.positives);
      sort_by_estimate(node.children, node.positives, node.children.size());
      return;
    case PlanKind::kUnion: {
      std::vector<TagId> ids = node.union_tags;
      std::stable_sort(ids.begin(), ids.end(),
                       [&view](TagId a, TagId b) { return view.tag(a).cardinality < view.tag(b).cardinality; });
      for (std::size_t i = 0; i < ids.size(); ++i) {
        node.union_tags[i] = ids[i];
        node.union_bits[i] = view.tag(ids[i]).bits.get();
      }
      return;
    }
    default:
      return;
  }
}

void flatten_recursive(PlanNode& node) {
  for (auto& c : node.children) flatten_recursive(c);
  flatten_here(node);
}

}  // namespace

// Each pass checks the deadline once, on entry. A pass is O(nodes) plus its
// sorts, and the caps (64 KiB of text: ~32,000 nodes; kMaxQueryTags union
// members) keep the longest pass to about a millisecond, so that is often
// enough; a check per node would read the thread-local deadline on every
// node of every query (measured: +40% on resolve+rewrite of the bench mix).
void flatten(PlanNode& node) {
  Deadline::check();
  flatten_recursive(node);
}

void fold_constants(PlanNode& node, const IndexView& view) {
  Deadline::check();
  fold_recursive(node, view);
}

void collect_unions(PlanNode& node, const IndexView& view) {
  Deadline::check();
  collect_recursive(node, view);
}

void form_and_not(PlanNode& node, const IndexView& view) {
  Deadline::check();
  and_not_recursive(node, view);
}

void estimate_cardinality(PlanNode& node, const IndexView& view) {
  Deadline::check();
  estimate_recursive(node, view, static_cast<double>(view.universe().cardinality));
}

void order_by_cardinality(PlanNode& node, const IndexView& view) {
  estimate_cardinality(node, view);
  order_recursive(node, view);
}

void rewrite(PlanNode& node, const IndexView& view) {
  flatten(node);
  fold_constants(node, view);
  collect_unions(node, view);
  form_and_not(node, view);
  order_by_cardinality(node, view);
}

}  // namespace crowd::query
