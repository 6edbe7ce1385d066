// QueryGenerator: random queries over an index's tag names, as an Ast (what
// the naive model evaluates) and as text in random spellings (what the
// compiler reads). The evaluator's model battery and the cluster's golden
// test draw their queries from it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "query/ast.h"
#include "query/lexer.h"
#include "query/utf8.h"

namespace crowd::test {

class QueryGenerator {
 public:
  QueryGenerator(uint64_t seed, const std::vector<std::string>& names, bool unknowns)
      : rng_(seed), names_(names), unknowns_(unknowns) {}

  query::AstNode node(int depth) {
    if (depth <= 0 || pick(4) == 0) return leaf();
    switch (pick(6)) {
      case 0: {
        query::AstNode n = node(depth - 1);
        const std::size_t nots = 1 + (pick(4) == 0 ? pick(3) : 0);
        for (std::size_t i = 0; i < nots; ++i) n = query::make_not(std::move(n));
        return n;
      }
      default: {
        std::vector<query::AstNode> operands;
        const std::size_t n = 2 + pick(pick(5) == 0 ? 8 : 3);
        for (std::size_t i = 0; i < n; ++i) operands.push_back(node(depth - 1));
        return query::make_nary(pick(2) ? query::AstKind::kAnd : query::AstKind::kOr, std::move(operands));
      }
    }
  }

  // `noise`: random keyword case and symbols, whitespace and redundant
  // parentheses. Composite operands are always parenthesised, so the text
  // parses back into exactly `n`.
  std::string render(const query::AstNode& n, bool noise = true) {
    switch (n.kind) {
      case query::AstKind::kTag:
        return spell_tag(n.text, noise);
      case query::AstKind::kPrefix:
        return spell_tag(n.text, noise) + "*";
      case query::AstKind::kAll:
        return noise ? choose({"ALL", "all", "All"}) : "ALL";
      case query::AstKind::kNot:
        return (noise ? choose({"NOT ", "not ", "!", "! ", "NOT\t"}) : "NOT ") + operand(n.children[0], noise);
      case query::AstKind::kAnd:
      case query::AstKind::kOr: {
        const bool is_and = n.kind == query::AstKind::kAnd;
        std::string out;
        for (std::size_t i = 0; i < n.children.size(); ++i) {
          if (i > 0) {
            if (!noise) {
              out += is_and ? " AND " : " OR ";
            } else {
              out += is_and ? choose({" AND ", " and ", "&", " & ", "\nAND "})
                            : choose({" OR ", " or ", "|", " | ", " Or\t"});
            }
          }
          out += operand(n.children[i], noise);
        }
        return out;
      }
      default:
        return "?";
    }
  }

 private:
  std::size_t pick(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }
  std::string choose(std::initializer_list<const char*> options) { return *(options.begin() + pick(options.size())); }

  std::string operand(const query::AstNode& child, bool noise) {
    const bool composite = child.kind == query::AstKind::kAnd || child.kind == query::AstKind::kOr;
    if (!composite && !(noise && pick(10) == 0)) return render(child, noise);
    std::string text(1, '(');  // appended, not "(" + ...: GCC 12 warns spuriously on that
    text += render(child, noise);
    text.push_back(')');
    return text;
  }

  std::string spell_tag(const std::string& tag, bool noise) {
    if (query::can_be_bare(tag) && (!noise || pick(4) != 0)) return tag;
    std::string out = "\"";
    for (const char c : tag) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out + "\"";
  }

  std::string name() {
    if (unknowns_ && pick(12) == 0) return "nope:" + std::to_string(pick(5));
    return names_[pick(names_.size())];
  }

  // A beginning of a real tag name, cut at a code point boundary.
  std::string prefix() {
    if (unknowns_ && pick(10) == 0) return "zz:";
    if (pick(20) == 0) return "";
    const std::string& full = names_[pick(names_.size())];
    std::vector<std::size_t> cuts;  // the end of each code point
    for (std::size_t i = 0; i < full.size();) {
      i += std::max<std::size_t>(1, query::utf8_sequence_length(full, i));
      cuts.push_back(i);
    }
    const std::size_t cut = cuts[pick(cuts.size())];
    return full.substr(0, cut);
  }

  query::AstNode leaf() {
    const std::size_t r = pick(20);
    if (r == 0) return query::make_all();
    if (r <= 3) return query::make_prefix(prefix());
    return query::make_tag(name());
  }

  std::mt19937_64 rng_;
  const std::vector<std::string>& names_;
  bool unknowns_;
};

}  // namespace crowd::test
