#include "query/repeats.h"

#include <bit>
#include <cstdint>
#include <functional>
#include <string_view>

#include "query/deadline.h"

namespace crowd::query {

std::vector<std::size_t> distinct_operands(const std::vector<AstNode>& chain) {
  const std::size_t n = chain.size();
  std::vector<std::size_t> kept;
  kept.reserve(n);
  // An open-addressing set of operand indices (one allocation, no string
  // copies: a 30-city OR is a common query, and a node-based set of strings
  // cost it more than the rest of resolving). Slots hold index + 1; 0 is
  // empty. At most half full.
  const std::size_t slots = std::bit_ceil(2 * n);
  std::vector<uint32_t> table(slots, 0);
  DeadlineTicker<1024> deadline;
  for (std::size_t i = 0; i < n; ++i) {
    deadline.tick();
    const AstNode& a = chain[i];
    if (a.kind != AstKind::kTag && a.kind != AstKind::kPrefix && a.kind != AstKind::kSavedCrowd &&
        a.kind != AstKind::kAll) {
      kept.push_back(i);
      continue;
    }
    // The kind is mixed in: `a` and `a*` are different operands.
    std::size_t slot = (std::hash<std::string_view>{}(a.text) ^ (static_cast<std::size_t>(a.kind) * 0x9E3779B97F4A7C15u)) &
                       (slots - 1);
    bool repeat = false;
    while (table[slot] != 0) {
      const AstNode& b = chain[table[slot] - 1];
      if (b.kind == a.kind && b.text == a.text) {
        repeat = true;
        break;
      }
      slot = (slot + 1) & (slots - 1);
    }
    if (repeat) continue;
    table[slot] = static_cast<uint32_t>(i + 1);
    kept.push_back(i);
  }
  return kept;
}

}  // namespace crowd::query
