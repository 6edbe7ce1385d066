// The analytics routes' reference: insight, overlap, flow and funnel worked
// out user by user over plain sorted ID lists (what NaiveModel::evaluate
// returns), sharing nothing with Roaring or query/insight.h, crowd_sets.h.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "index/ids.h"

namespace crowd::test {

using IdList = std::vector<UserId>;  // sorted, distinct

inline bool holds(const IdList& set, UserId u) { return std::binary_search(set.begin(), set.end(), u); }

inline uint64_t intersection_size(const IdList& a, const IdList& b) {
  uint64_t n = 0;
  for (const UserId u : a) n += holds(b, u) ? 1 : 0;
  return n;
}

// The query-language spelling of a tag: always quoted, escaping " and \.
inline std::string quoted(std::string_view tag) {
  std::string out = "\"";
  for (const char c : tag) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// The field of a tag, by its definition (the bytes before the first ':').
inline std::string field_of(const std::string& tag) { return tag.substr(0, tag.find(':')); }

// One expected insight row.
struct ModelRow {
  std::string tag;
  uint64_t count = 0;
  uint64_t population = 0;
};

// Insight by definition: for each tag, users of the crowd holding it; rows of
// count >= min_count; sorted by TGI (count / population, exactly: population 0
// last) or by count, descending, ties by tag bytes; the first `top` (0: all).
inline std::vector<ModelRow> model_insight_field(const IdList& crowd, const std::map<std::string, IdList>& holders,
                                                 const std::string& field, uint64_t min_count, std::size_t top,
                                                 bool by_count) {
  std::vector<ModelRow> rows;
  for (const auto& [tag, users] : holders) {
    if (field_of(tag) != field) continue;
    const uint64_t count = intersection_size(crowd, users);
    if (count < min_count) continue;
    rows.push_back({tag, count, users.size()});
  }
  std::sort(rows.begin(), rows.end(), [&](const ModelRow& a, const ModelRow& b) {
    if (by_count) {
      if (a.count != b.count) return a.count > b.count;
    } else if (a.population == 0 || b.population == 0) {
      if ((a.population == 0) != (b.population == 0)) return b.population == 0;
    } else {
      // a.count / a.population vs b.count / b.population, in long double
      // products (exact for the small test populations).
      const long double lhs = static_cast<long double>(a.count) * b.population;
      const long double rhs = static_cast<long double>(b.count) * a.population;
      if (lhs != rhs) return lhs > rhs;
    }
    return a.tag < b.tag;
  });
  if (top != 0 && rows.size() > top) rows.resize(top);
  return rows;
}

// Users in exactly the crowds of each bitmask (regions[m - 1], m >= 1).
inline std::vector<uint64_t> model_regions(const IdList& universe, const std::vector<IdList>& crowds) {
  std::vector<uint64_t> regions((std::size_t{1} << crowds.size()) - 1, 0);
  for (const UserId u : universe) {
    std::size_t m = 0;
    for (std::size_t i = 0; i < crowds.size(); ++i) m |= holds(crowds[i], u) ? std::size_t{1} << i : 0;
    if (m != 0) ++regions[m - 1];
  }
  return regions;
}

// Users in at least one of `sets`.
inline uint64_t model_union_size(const IdList& universe, const std::vector<IdList>& sets) {
  uint64_t n = 0;
  for (const UserId u : universe) {
    n += std::any_of(sets.begin(), sets.end(), [&](const IdList& s) { return holds(s, u); }) ? 1 : 0;
  }
  return n;
}

// Users in every one of sets[0..k], for each k.
inline std::vector<uint64_t> model_funnel(const std::vector<IdList>& steps) {
  std::vector<uint64_t> counts(steps.size(), 0);
  for (const UserId u : steps.empty() ? IdList{} : steps[0]) {
    for (std::size_t k = 0; k < steps.size() && holds(steps[k], u); ++k) ++counts[k];
  }
  return counts;
}

}  // namespace crowd::test
