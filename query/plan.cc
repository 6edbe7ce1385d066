#include "query/plan.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "query/printer.h"

namespace crowd::query {

PlanNode make_empty_node(std::size_t position) {
  PlanNode n;
  n.kind = PlanKind::kEmpty;
  n.position = position;
  return n;
}

PlanNode make_all_node(const IndexView& view, std::size_t position) {
  PlanNode n;
  n.kind = PlanKind::kAll;
  n.estimate = view.universe().cardinality;
  n.position = position;
  return n;
}

PlanNode make_tag_node(const IndexView& view, TagId id, std::size_t position) {
  PlanNode n;
  n.kind = PlanKind::kTag;
  n.tag = id;
  n.bits = view.tag(id).bits.get();
  n.estimate = view.tag(id).cardinality;
  n.position = position;
  return n;
}

PlanNode make_computed_node(std::shared_ptr<const TagBits> set, std::string label, std::size_t position) {
  PlanNode n;
  n.kind = PlanKind::kTag;
  n.bits = set->bits.get();
  n.estimate = set->cardinality;
  n.computed = std::move(set);
  n.label = std::move(label);
  n.position = position;
  return n;
}

PlanNode make_union_node(const IndexView& view, std::vector<TagId> ids, std::size_t position) {
  PlanNode n;
  n.kind = PlanKind::kUnion;
  n.position = position;
  n.union_bits.reserve(ids.size());
  for (const TagId id : ids) {
    n.union_bits.push_back(view.tag(id).bits.get());
    n.estimate += view.tag(id).cardinality;
  }
  n.union_tags = std::move(ids);
  return n;
}

Plan::Plan(PlanNode root, const IndexView& view) : root_(std::move(root)), view_(&view), depth_(query::depth(root_)) {
  assert(check_plan(root_).empty());
}

std::size_t depth(const PlanNode& node) {
  std::size_t deepest = 0;
  for (const auto& child : node.children) deepest = std::max(deepest, depth(child));
  return deepest + 1;
}

namespace {

void describe_into(const PlanNode& node, const TagDictionary& dictionary, std::string& out) {
  const auto list = [&](const char* name, std::size_t from, std::size_t to) {
    out += name;
    out.push_back('(');
    for (std::size_t i = from; i < to; ++i) {
      if (i > from) out += ", ";
      describe_into(node.children[i], dictionary, out);
    }
    out.push_back(')');
  };
  switch (node.kind) {
    case PlanKind::kEmpty:
      out += "empty";
      return;
    case PlanKind::kAll:
      out += "all";
      return;
    case PlanKind::kTag:
      out += !node.label.empty() ? node.label : quote_tag(dictionary.name(node.tag));
      return;
    case PlanKind::kUnion:
      out += "union(";
      for (std::size_t i = 0; i < node.union_tags.size(); ++i) {
        if (i > 0) out += ", ";
        out += quote_tag(dictionary.name(node.union_tags[i]));
      }
      out.push_back(')');
      return;
    case PlanKind::kAnd:
      list("and", 0, node.children.size());
      return;
    case PlanKind::kOr:
      list("or", 0, node.children.size());
      return;
    case PlanKind::kNot:
      list("not", 0, node.children.size());
      return;
    case PlanKind::kAndNot:
      out += "andnot(";
      list("and", 0, node.positives);
      out += ", ";
      list("minus", node.positives, node.children.size());
      out.push_back(')');
      return;
  }
}

}  // namespace

std::string check_plan(const PlanNode& node) {
  const std::size_t n = node.children.size();
  const bool leaf = node.kind == PlanKind::kEmpty || node.kind == PlanKind::kAll || node.kind == PlanKind::kTag ||
                    node.kind == PlanKind::kUnion;
  if (leaf && n != 0) return "a leaf with operands";
  switch (node.kind) {
    case PlanKind::kTag:
      if (node.bits == nullptr || (node.tag == kNoTag) == !node.computed) return "a tag without its bitmap";
      break;
    case PlanKind::kUnion:
      if (node.union_tags.empty() || node.union_tags.size() != node.union_bits.size()) return "a malformed union";
      for (const auto* bits : node.union_bits) {
        if (bits == nullptr) return "a union member without its bitmap";
      }
      break;
    case PlanKind::kNot:
      if (n != 1) return "a NOT without exactly one operand";
      break;
    case PlanKind::kAnd:
    case PlanKind::kOr:
      if (n < 2) return "an AND/OR with fewer than two operands";
      break;
    case PlanKind::kAndNot:
      if (node.positives == 0 || node.positives >= n) return "an and-not without positives or negatives";
      break;
    default:
      break;
  }
  for (const auto& c : node.children) {
    if (auto defect = check_plan(c); !defect.empty()) return defect;
  }
  return {};
}

std::string describe(const PlanNode& node, const TagDictionary& dictionary) {
  std::string out;
  describe_into(node, dictionary, out);
  return out;
}

}  // namespace crowd::query
