#include "query/resolve.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "query/suggest.h"

namespace crowd::query {
namespace {

std::string with_suggestions(std::string message, const std::vector<std::string>& suggestions) {
  if (suggestions.empty()) return message;
  message += " (did you mean: ";
  for (std::size_t i = 0; i < suggestions.size(); ++i) {
    if (i > 0) message += ", ";
    message += suggestions[i];
  }
  message += ")";
  return message;
}

class Resolver {
 public:
  Resolver(const IndexView& view, const Options& options) : view_(view), options_(options) {}

  // Pre-order, children left to right: the first error met is the leftmost,
  // because a node's own position precedes its operands'. Only NOT/AND/OR
  // recurse; the frame is kept small (leaves are resolved out of line).
  bool resolve(const AstNode& node, PlanNode& out) {
    if (node.kind != AstKind::kNot && node.kind != AstKind::kAnd && node.kind != AstKind::kOr) {
      return resolve_leaf(node, out);
    }
    out.kind = node.kind == AstKind::kNot   ? PlanKind::kNot
               : node.kind == AstKind::kAnd ? PlanKind::kAnd
                                            : PlanKind::kOr;
    out.position = node.position;
    out.children.resize(node.children.size());
    for (std::size_t i = 0; i < node.children.size(); ++i) {
      if (!resolve(node.children[i], out.children[i])) return false;
    }
    return true;
  }

  [[gnu::noinline]] bool resolve_leaf(const AstNode& node, PlanNode& out) {
    switch (node.kind) {
      case AstKind::kTag: {
        if (const auto id = view_.dictionary().find(node.text)) {
          out = make_tag_node(view_, *id, node.position);
          return true;
        }
        return unknown(
            node,
            [&] {
              auto suggestions = suggest_tags(node.text, view_.dictionary());
              return Error{ErrorCode::kUnknownTag, with_suggestions("unknown tag '" + node.text + "'", suggestions),
                           node.position, std::move(suggestions)};
            },
            out);
      }
      case AstKind::kPrefix: {
        const auto ids = view_.dictionary().with_prefix(node.text);
        if (!ids.empty()) {
          out = make_union_node(view_, std::vector<TagId>(ids.begin(), ids.end()), node.position);
          return true;
        }
        return unknown(
            node,
            [&] {
              auto suggestions = suggest_prefixes(node.text, view_.dictionary());
              return Error{ErrorCode::kUnknownTag,
                           with_suggestions("prefix '" + node.text + "*' matches no tag", suggestions), node.position,
                           std::move(suggestions)};
            },
            out);
      }
      case AstKind::kAll:
        out = make_all_node(view_, node.position);
        return true;
      case AstKind::kSavedCrowd:
        return unknown(
            node,
            [&] {
              return Error{ErrorCode::kUnknownTag, "unknown saved crowd @" + node.text, node.position, {}};
            },
            out);
      case AstKind::kCompare:
        return unknown(
            node,
            [&] {
              return Error{ErrorCode::kUnknownTag, "unknown attribute " + node.text, node.position, {}};
            },
            out);
      case AstKind::kLookalike:
        return fail(Error{ErrorCode::kParse, "lookalike() is not available yet", node.position, {}});
      case AstKind::kWithin:
        return fail(Error{ErrorCode::kParse, "within() is not available yet", node.position, {}});
      default:
        return fail(Error{ErrorCode::kParse, "unsupported query form", node.position, {}});
    }
  }

  std::optional<Error> error;

 private:
  // An unknown name: the empty set when lenient, else the error (built only
  // then: suggestions scan the dictionary).
  template <typename MakeError>
  bool unknown(const AstNode& node, MakeError&& make_error, PlanNode& out) {
    if (options_.lenient) {
      out = make_empty_node(node.position);
      return true;
    }
    return fail(make_error());
  }

  bool fail(Error e) {
    error = std::move(e);
    return false;
  }

  const IndexView& view_;
  const Options& options_;
};

}  // namespace

std::variant<PlanNode, Error> resolve(const Ast& ast, const IndexView& view, const Options& options) {
  Resolver resolver(view, options);
  PlanNode root;
  if (!resolver.resolve(ast, root)) return std::move(*resolver.error);
  return root;
}

}  // namespace crowd::query
