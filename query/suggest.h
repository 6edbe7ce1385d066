// Did-you-mean: dictionary entries close to a name the index does not know.
//
// Only ever run on the error path: every call scans the whole dictionary.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "index/tag_dictionary.h"

namespace crowd::query {

inline constexpr std::size_t kMaxSuggestions = 3;

// Levenshtein distance between code point strings, or limit + 1 when it is
// larger than `limit` (the computation stops as soon as that is certain).
// O(|a|·|b|) worst case, O(|b|·limit) typical for unrelated strings.
[[nodiscard]] std::size_t edit_distance(std::u32string_view a, std::u32string_view b, std::size_t limit);

// The largest edit distance suggested for a name of `code_points` code
// points: 1 up to 7, 2 up to 11, 3 beyond.
[[nodiscard]] std::size_t suggestion_tolerance(std::size_t code_points);

// Up to `limit` tags within suggestion_tolerance of `unknown` (edit distance
// over code points), ordered by distance, then tags of the same field
// (text before the first ':') first, then bytes. O(dictionary bytes ·
// tolerance).
[[nodiscard]] std::vector<std::string> suggest_tags(std::string_view unknown, const TagDictionary& dictionary,
                                                    std::size_t limit = kMaxSuggestions);

// Up to `limit` of `names` (numeric attributes, say) within
// suggestion_tolerance of `unknown`, by distance, then bytes. O(names bytes).
[[nodiscard]] std::vector<std::string> suggest_names(std::string_view unknown, const std::vector<std::string>& names,
                                                     std::size_t limit = kMaxSuggestions);

// For a prefix matching no tag: up to `limit` prefixes that do match, each a
// beginning of a real tag within suggestion_tolerance of `prefix`, written
// with the trailing '*'. Same order and cost as suggest_tags.
[[nodiscard]] std::vector<std::string> suggest_prefixes(std::string_view prefix, const TagDictionary& dictionary,
                                                        std::size_t limit = kMaxSuggestions);

}  // namespace crowd::query
