#include "query/repeats.h"

#include <string_view>
#include <unordered_set>

#include "query/deadline.h"

namespace crowd::query {
namespace {

bool is_plain_leaf(AstKind kind) {
  return kind == AstKind::kTag || kind == AstKind::kPrefix || kind == AstKind::kSavedCrowd || kind == AstKind::kAll;
}

// Below this many operands a pairwise scan (at most 120 comparisons, most
// failing on the first byte) is cheaper than building a hash set.
constexpr std::size_t kPairwiseUpTo = 16;

}  // namespace

std::vector<std::size_t> distinct_operands(const std::vector<AstNode>& chain) {
  std::vector<std::size_t> kept;
  kept.reserve(chain.size());
  if (chain.size() <= kPairwiseUpTo) {
    for (std::size_t i = 0; i < chain.size(); ++i) {
      const AstNode& a = chain[i];
      bool repeat = false;
      if (is_plain_leaf(a.kind)) {
        for (const std::size_t j : kept) {
          if (chain[j].kind == a.kind && chain[j].text == a.text) {
            repeat = true;
            break;
          }
        }
      }
      if (!repeat) kept.push_back(i);
    }
    return kept;
  }
  // The kind is folded into the key as a one-byte tag ahead of the text:
  // `a` and `a*` are different operands.
  std::unordered_set<std::string> seen;
  seen.reserve(chain.size());
  DeadlineTicker<1024> deadline;
  for (std::size_t i = 0; i < chain.size(); ++i) {
    deadline.tick();
    const AstNode& a = chain[i];
    if (!is_plain_leaf(a.kind)) {
      kept.push_back(i);
      continue;
    }
    std::string key;
    key.reserve(a.text.size() + 1);
    key.push_back(static_cast<char>(a.kind));
    key += a.text;
    if (seen.insert(std::move(key)).second) kept.push_back(i);
  }
  return kept;
}

}  // namespace crowd::query
