// Random test data: an Index and a NaiveModel holding the same users and tags,
// built through the real write paths (BulkLoader, then WriteBatch +
// Index::apply with removals, erasures and re-additions).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "index/index.h"
#include "tests/support/naive_model.h"

namespace crowd::test {

struct RandomIndexSpec {
  uint64_t seed = 1;
  std::size_t users = 50'000;  // initial users; updates add ~1% more
  // Tags with densities spread log-uniformly from 50% down to 0.1%; a third
  // of them clustered in ordinal ranges (run containers after the bulk load).
  std::size_t tags = 40;
  bool bulk = true;  // initial load through BulkLoader (else WriteBatch)
};

struct RandomIndex {
  std::unique_ptr<Index> index;
  NaiveModel model;
  // Every tag name created, including awkward ones: CJK, emoji, spaces,
  // quotes, backslashes, keyword spellings, and one tag emptied by removals.
  std::vector<std::string> tag_names;
};

// The tag names make_random_index uses for `count` tags: awkward ones first
// (CJK, emoji, spaces, quotes, backslashes, keyword spellings), then names in
// a few fields so that prefixes match several. Deterministic for a seed.
[[nodiscard]] std::vector<std::string> random_tag_names(std::size_t count, uint64_t seed);

// Deterministic for a given spec. O(users · tags).
[[nodiscard]] RandomIndex make_random_index(const RandomIndexSpec& spec);

}  // namespace crowd::test
