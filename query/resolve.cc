#include "query/resolve.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "index/system_view.h"
#include "query/attribute.h"
#include "query/date.h"
#include "query/deadline.h"
#include "query/evaluator.h"
#include "query/lookalike.h"
#include "query/printer.h"
#include "query/repeats.h"
#include "query/rewrite.h"
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

// Thousands of digits, for the numbers in an error message.
std::string grouped(uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// The days a within() covers: its dates, or for within(tag, Nd) the N days
// ending on `as_of` (more days than the calendar holds, 0000-9999 being
// 3.65M, mean all of them).
std::pair<int64_t, int64_t> window_of(const AstNode& node, int64_t as_of) {
  if (!node.last_days) return {node.low, node.high};
  return {as_of - std::min<int64_t>(node.low, 10'000'000) + 1, as_of};
}

// Tags expanded below `node` as Resolver charges them, without expanding
// anything: for the numbers of a kTooManyTags error only. Unknown names
// count as what they would resolve to (a tag 1, a prefix its matches).
uint64_t tags_touched(const AstNode& node, const IndexView& view, int64_t as_of) {
  switch (node.kind) {
    case AstKind::kTag:
    case AstKind::kSavedCrowd:
      return 1;
    case AstKind::kPrefix:
      return view.dictionary().with_prefix(node.text).size();
    case AstKind::kWithin: {
      const auto [first, last] = window_of(node, as_of);
      if (!node.prefix) return view.system().days_between(node.text, first, last).size();
      return view.system().days_between_prefix(node.text, first, last).size();
    }
    case AstKind::kLookalike:
    case AstKind::kNot:
      return tags_touched(node.children[0], view, as_of);
    case AstKind::kAnd:
    case AstKind::kOr: {
      uint64_t sum = 0;
      (void)for_each_distinct(node.children, [&](std::size_t i) {
        sum += tags_touched(node.children[i], view, as_of);
        return true;
      });
      return sum;
    }
    default:
      return 0;
  }
}

class Resolver {
 public:
  Resolver(const Ast& root, const IndexView& view, const Options& options)
      : root_(root), view_(view), options_(options), as_of_(options.as_of.value_or(today_utc())) {}

  // Pre-order, children left to right: the first error met is the leftmost,
  // because a node's own position precedes its operands'. Only NOT/AND/OR
  // recurse; the frame is kept small (leaves and chains are resolved out of
  // line).
  bool resolve(const AstNode& node, PlanNode& out) {
    deadline_.tick();
    if (node.kind == AstKind::kAnd || node.kind == AstKind::kOr) return resolve_chain(node, out);
    if (node.kind != AstKind::kNot) return resolve_leaf(node, out);
    out.kind = PlanKind::kNot;
    out.position = node.position;
    out.children.resize(1);
    return resolve(node.children[0], out.children[0]);
  }

  // AND/OR: a repeated leaf operand is resolved once (repeats.h), before
  // any prefix is expanded; a chain left with one operand is that operand.
  [[gnu::noinline]] bool resolve_chain(const AstNode& node, PlanNode& out) {
    out.kind = node.kind == AstKind::kAnd ? PlanKind::kAnd : PlanKind::kOr;
    out.position = node.position;
    out.children.reserve(node.children.size());
    const bool resolved = for_each_distinct(node.children, [&](std::size_t i) {
      return resolve(node.children[i], out.children.emplace_back());
    });
    if (!resolved) return false;
    if (out.children.size() == 1) {
      PlanNode only = std::move(out.children.front());
      out = std::move(only);
    }
    return true;
  }

  [[gnu::noinline]] bool resolve_leaf(const AstNode& node, PlanNode& out) {
    switch (node.kind) {
      case AstKind::kTag: {
        if (!charge(1, node)) return false;
        if (const auto id = find_user_tag(node.text)) {
          out = make_tag_node(view_, *id, node.position);
          return true;
        }
        return unknown_tag(node, out);
      }
      case AstKind::kPrefix: {
        const auto ids = view_.dictionary().with_prefix(node.text);
        // Charged before the ids are copied: an over-wide query costs a
        // binary search here, never the expansion.
        if (!charge(ids.size(), node)) return false;
        if (ids.size() >= kCheckEvery) Deadline::check();
        if (!ids.empty()) {
          out = make_union_node(view_, std::vector<TagId>(ids.begin(), ids.end()), node.position);
          return true;
        }
        return unknown_prefix(node, out);
      }
      case AstKind::kAll:
        out = make_all_node(view_, node.position);
        return true;
      case AstKind::kSavedCrowd:
        return resolve_saved_crowd(node, out);
      case AstKind::kCompare:
        return resolve_compare(node, out);
      case AstKind::kLookalike:
        return resolve_lookalike(node, out);
      case AstKind::kWithin:
        return resolve_within(node, out);
      default:
        return fail(Error{ErrorCode::kParse, "unsupported query form", node.position, {}});
    }
  }

  std::optional<Error> error;
  ResolveNotes notes;

 private:
  // A window over a tag (or every tag of a prefix) with no dated day at all
  // is always empty: legal, but almost surely a plain tag taken for a dated
  // one, so the answer says so rather than a silent 0.
  void warn_if_never_dated(const AstNode& node) {
    const SystemView system = view_.system();
    if (node.prefix ? system.has_days_with_prefix(node.text) : !system.days(node.text).empty()) return;
    std::string w = "within(" + quote_tag(node.text) + (node.prefix ? "*" : "") + ", ...): ";
    w += node.prefix ? "no tag starting with '" + node.text + "' has" : "'" + node.text + "' has";
    w += " no dated events, so the window holds no one (a plain tag says only \"ever\"; events with a day "
         "make dated tags)";
    auto& warnings = notes.warnings;
    if (std::find(warnings.begin(), warnings.end(), w) == warnings.end()) warnings.push_back(std::move(w));
  }

  // A user's tag by name; the index's own tags cannot be named.
  [[nodiscard]] std::optional<TagId> find_user_tag(std::string_view name) const { return view_.find_tag(name); }

  // @name: the saved crowd's own tag, which changes only when the crowd is
  // refreshed or one of its users is deleted (so pages of it are stable).
  [[gnu::noinline]] bool resolve_saved_crowd(const AstNode& node, PlanNode& out) {
    if (!charge(1, node)) return false;
    if (const auto crowd = view_.system().saved_crowd(node.text)) {
      out = make_tag_node(view_, crowd->id, node.position);
      out.label = "@" + node.text;
      return true;
    }
    return unknown(
        node, [&] { return Error{ErrorCode::kUnknownTag, "unknown saved crowd @" + node.text, node.position, {}}; },
        out);
  }

  // attr op n: a bit-sliced range (attribute.h), computed here once.
  [[gnu::noinline]] bool resolve_compare(const AstNode& node, PlanNode& out) {
    auto set = compare_attribute(view_, node.text, node.op, node.low, node.high);
    if (!set) {
      return unknown(
          node,
          [&] {
            auto close = suggest_names(node.text, view_.system().attributes());
            return Error{ErrorCode::kUnknownTag, with_suggestions("unknown attribute " + node.text, close),
                         node.position, std::move(close)};
          },
          out);
    }
    std::string label = node.text + " " + spelling(node.op) + " " + std::to_string(node.low);
    if (node.op == CompareOp::kBetween) label += " AND " + std::to_string(node.high);
    out = make_computed_node(std::make_shared<const TagBits>(std::move(*set)), std::move(label), node.position);
    return true;
  }

  // lookalike(expr, N): the seed is evaluated and expanded here, once; the
  // expansion is then a set like any tag.
  [[gnu::noinline]] bool resolve_lookalike(const AstNode& node, PlanNode& out) {
    PlanNode seed_plan;
    if (!resolve(node.children[0], seed_plan)) return false;
    rewrite(seed_plan, view_);
    const Plan plan(std::move(seed_plan), view_);
    Evaluator evaluator;
    const Bitmap seed = evaluator.materialize(plan, view_);
    // Privacy guard (--min-seed-size): a tiny seed would let an expansion
    // single out the people it was drawn from. Never lenient.
    if (seed.cardinality() < options_.min_seed) {
      return fail(Error{ErrorCode::kCrowdTooSmall,
                        "the lookalike seed has fewer than " + std::to_string(options_.min_seed) +
                            " users (--min-seed-size)",
                        node.position,
                        {}});
    }
    LookalikeOptions options;
    options.size = static_cast<uint64_t>(node.low);
    LookalikeResult expanded = lookalike(view_, seed.get(), options);
    out = make_computed_node(std::make_shared<const TagBits>(std::move(expanded.users)),
                             "lookalike(" + describe(plan.root(), view_.dictionary()) + ", " +
                                 std::to_string(node.low) + ")",
                             node.position);
    return true;
  }

  // within(tag, first, last) / within(tag, Nd): the union of the tag's day
  // tags in the range; Nd is the N days ending on the as-of day (options.h),
  // never the index's newest day. A tag the index knows with no events
  // in the range is the empty set.
  [[gnu::noinline]] bool resolve_within(const AstNode& node, PlanNode& out) {
    if (node.prefix) {
      if (view_.dictionary().with_prefix(node.text).empty()) return unknown_prefix(node, out);
    } else if (!find_user_tag(node.text)) {
      return unknown_tag(node, out);
    }
    warn_if_never_dated(node);
    if (node.last_days) notes.as_of = as_of_;
    const auto [first, last] = window_of(node, as_of_);
    // A prefix: every matching tag's days in the range (a window over a
    // category), read as one range of the dictionary.
    const std::vector<TagId> days = node.prefix ? view_.system().days_between_prefix(node.text, first, last)
                                                : view_.system().days_between(node.text, first, last);
    if (!charge(days.size(), node)) return false;
    if (days.empty()) {
      out = make_empty_node(node.position);
    } else if (days.size() == 1) {
      out = make_tag_node(view_, days.front(), node.position);
    } else {
      out = make_union_node(view_, std::move(days), node.position);
    }
    return true;
  }

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

  // node.text names no tag of users: the error, with close names.
  bool unknown_tag(const AstNode& node, PlanNode& out) {
    return unknown(
        node,
        [&] {
          auto suggestions = suggest_tags(node.text, view_.dictionary());
          return Error{ErrorCode::kUnknownTag, with_suggestions("unknown tag '" + node.text + "'", suggestions),
                       node.position, std::move(suggestions)};
        },
        out);
  }

  // node.text, a prefix, matches no tag of users: the error, with close prefixes.
  bool unknown_prefix(const AstNode& node, PlanNode& out) {
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

  bool fail(Error e) {
    error = std::move(e);
    return false;
  }

  // `n` more tags for the plan at `node`, or the kTooManyTags error once the
  // query's total would pass options.max_tags (limits.h).
  bool charge(std::size_t n, const AstNode& node) {
    tags_ += n;
    if (tags_ <= options_.max_tags) return true;
    return too_many_tags(node);
  }

  [[gnu::noinline]] bool too_many_tags(const AstNode& node) {
    const uint64_t total = tags_touched(root_, view_, as_of_);
    std::string what = node.kind == AstKind::kPrefix ? "the prefix '" + node.text + "*'" : "'" + node.text + "'";
    return fail(Error{ErrorCode::kTooManyTags,
                      "the query touches " + grouped(total) + " tags once prefixes are expanded; the limit is " +
                          grouped(options_.max_tags) + " (passed at " + what + ")",
                      node.position,
                      {}});
  }

  // Prefix expansions at least this wide check the deadline before copying.
  static constexpr std::size_t kCheckEvery = 4096;

  const Ast& root_;
  const IndexView& view_;
  const Options& options_;
  const int64_t as_of_;              // relative windows end here
  std::size_t tags_ = 0;             // charged so far
  DeadlineTicker<64> deadline_;      // one tick a node
};

}  // namespace

std::variant<PlanNode, Error> resolve(const Ast& ast, const IndexView& view, const Options& options,
                                      ResolveNotes* notes) {
  Resolver resolver(ast, view, options);
  PlanNode root;
  if (!resolver.resolve(ast, root)) return std::move(*resolver.error);
  if (notes != nullptr) *notes = std::move(resolver.notes);
  return root;
}

}  // namespace crowd::query
