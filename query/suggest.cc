#include "query/suggest.h"

#include <algorithm>
#include <tuple>
#include <unordered_set>

#include "query/utf8.h"

namespace crowd::query {
namespace {

struct Candidate {
  std::size_t distance;
  bool other_field;
  std::string text;
  bool operator<(const Candidate& o) const {
    return std::tie(distance, other_field, text) < std::tie(o.distance, o.other_field, o.text);
  }
};

// Two-row Levenshtein table over a (rows) and b (columns). After the last
// row, `row` holds the distances from all of a to every prefix of b.
// Returns false once every cell of a row exceeds `limit`: row minima never
// decrease, so no later row can come back under it.
bool levenshtein_rows(std::u32string_view a, std::u32string_view b, std::size_t limit, std::vector<std::size_t>& row,
                      std::vector<std::size_t>& previous) {
  row.resize(b.size() + 1);
  previous.resize(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::swap(row, previous);
    row[0] = i;
    std::size_t smallest = row[0];
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({previous[j] + 1, row[j - 1] + 1, substitute});
      smallest = std::min(smallest, row[j]);
    }
    if (smallest > limit) return false;
  }
  return true;
}

std::vector<std::string> best(std::vector<Candidate>& candidates, std::size_t limit) {
  std::sort(candidates.begin(), candidates.end());
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (auto& c : candidates) {
    if (out.size() == limit) break;
    if (seen.insert(c.text).second) out.push_back(std::move(c.text));
  }
  return out;
}

}  // namespace

std::size_t edit_distance(std::u32string_view a, std::u32string_view b, std::size_t limit) {
  const std::size_t gap = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (gap > limit) return limit + 1;
  std::vector<std::size_t> row;
  std::vector<std::size_t> previous;
  if (!levenshtein_rows(a, b, limit, row, previous)) return limit + 1;
  return std::min(row.back(), limit + 1);
}

std::size_t suggestion_tolerance(std::size_t code_points) {
  if (code_points < 8) return 1;
  if (code_points < 12) return 2;
  return 3;
}

std::vector<std::string> suggest_tags(std::string_view unknown, const TagDictionary& dictionary, std::size_t limit) {
  std::u32string wanted;
  decode_utf8(unknown, wanted);
  const std::size_t tolerance = suggestion_tolerance(wanted.size());
  const std::string_view field = tag_field(unknown);
  std::vector<Candidate> candidates;
  std::u32string name;
  std::vector<std::size_t> row;
  std::vector<std::size_t> previous;
  for (TagId id = 0; id < dictionary.size(); ++id) {
    if (dictionary.is_system(id)) continue;
    const std::string& tag = dictionary.name(id);
    // Byte length bounds code point length from above, and from below by a
    // factor of four: a cheap filter before decoding.
    if (tag.size() + tolerance < wanted.size() || tag.size() > 4 * (wanted.size() + tolerance)) continue;
    decode_utf8(tag, name);
    const std::size_t gap = name.size() > wanted.size() ? name.size() - wanted.size() : wanted.size() - name.size();
    if (gap > tolerance) continue;
    if (!levenshtein_rows(wanted, name, tolerance, row, previous)) continue;
    const std::size_t distance = row.back();
    if (distance > tolerance) continue;
    candidates.push_back(Candidate{distance, tag_field(tag) != field, tag});
  }
  return best(candidates, limit);
}

std::vector<std::string> suggest_names(std::string_view unknown, const std::vector<std::string>& names,
                                       std::size_t limit) {
  std::u32string wanted;
  decode_utf8(unknown, wanted);
  const std::size_t tolerance = suggestion_tolerance(wanted.size());
  std::vector<Candidate> candidates;
  std::u32string name;
  std::vector<std::size_t> row;
  std::vector<std::size_t> previous;
  for (const std::string& candidate : names) {
    decode_utf8(candidate, name);
    if (!levenshtein_rows(wanted, name, tolerance, row, previous) || row.back() > tolerance) continue;
    candidates.push_back(Candidate{row.back(), false, candidate});
  }
  return best(candidates, limit);
}

std::vector<std::string> suggest_prefixes(std::string_view prefix, const TagDictionary& dictionary, std::size_t limit) {
  std::u32string wanted;
  decode_utf8(prefix, wanted);
  const std::size_t tolerance = suggestion_tolerance(wanted.size());
  const std::string_view field = tag_field(prefix);
  std::vector<Candidate> candidates;
  std::u32string name;
  std::vector<std::size_t> row;
  std::vector<std::size_t> previous;
  for (TagId id = 0; id < dictionary.size(); ++id) {
    if (dictionary.is_system(id)) continue;
    const std::string& tag = dictionary.name(id);
    decode_utf8(tag, name);
    if (name.size() + tolerance < wanted.size()) continue;
    // Only beginnings of the tag up to tolerance code points longer than the
    // prefix can be close to it.
    const std::u32string_view head = std::u32string_view(name).substr(0, wanted.size() + tolerance);
    if (!levenshtein_rows(wanted, head, tolerance, row, previous)) continue;
    // The closest beginning; among equals the one whose length is nearest
    // the prefix's, then the shorter (more general) one.
    std::size_t chosen = 0;
    for (std::size_t j = 1; j < row.size(); ++j) {
      const auto off = [&](std::size_t k) { return k > wanted.size() ? k - wanted.size() : wanted.size() - k; };
      if (row[j] < row[chosen] || (row[j] == row[chosen] && off(j) < off(chosen))) chosen = j;
    }
    if (row[chosen] > tolerance || chosen == 0) continue;
    std::string text = encode_utf8(head.substr(0, chosen));
    const bool other_field = tag_field(text) != field;
    text.push_back('*');
    candidates.push_back(Candidate{row[chosen], other_field, std::move(text)});
  }
  return best(candidates, limit);
}

}  // namespace crowd::query
