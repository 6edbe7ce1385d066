// count_in_crowd against CRoaring's own roaring_bitmap_and_cardinality, tag by
// tag, over every pairing of container kinds: crowds and tags as bitset,
// array (small and large) and run containers, shared chunks and chunks only
// one side has.
#include <gtest/gtest.h>
#include <roaring/roaring.h>

#include <random>
#include <vector>

#include "index/bitmap.h"
#include "query/crowd_counts.h"

namespace crowd::query {
namespace {

// A bitmap over 12 chunks whose density differs by chunk: some chunks dense
// (bitsets), some sparse (arrays, as small as a handful), some in runs, some
// absent. `runs` makes every third present chunk a few long runs.
Bitmap make_set(std::mt19937_64& rng, bool runs) {
  Bitmap b;
  std::uniform_real_distribution<double> unit(0, 1);
  const double densities[] = {0, 0.0001, 0.001, 0.01, 0.05, 0.2, 0.6, 0.99};
  for (uint32_t chunk = 0; chunk < 12; ++chunk) {
    const double d = densities[rng() % 8];
    if (d == 0) continue;
    const uint32_t base = chunk << 16;
    if (runs && chunk % 3 == 0) {
      for (uint32_t start = static_cast<uint32_t>(rng() % 5000); start < 65536; start += 3000 + rng() % 9000) {
        roaring_bitmap_add_range(b.get(), base + start, base + std::min<uint32_t>(65536, start + 1 + rng() % 2500));
      }
      continue;
    }
    for (uint32_t v = 0; v < 65536; ++v) {
      if (unit(rng) < d) b.add(base + v);
    }
  }
  b.optimize();
  return b;
}

TEST(CrowdCounts, MatchesAndCardinalityOnEveryContainerPairing) {
  std::mt19937_64 rng(42);
  std::vector<Bitmap> tags;
  for (int i = 0; i < 60; ++i) tags.push_back(make_set(rng, i % 2 == 0));
  tags.emplace_back();  // an empty tag
  std::vector<const roaring_bitmap_t*> bits;
  for (const auto& t : tags) bits.push_back(t.get());
  for (int round = 0; round < 30; ++round) {
    const Bitmap crowd = make_set(rng, round % 3 == 0);
    std::vector<uint64_t> counts;
    count_in_crowd(crowd.get(), bits, counts);
    ASSERT_EQ(counts.size(), bits.size());
    for (std::size_t t = 0; t < bits.size(); ++t) {
      EXPECT_EQ(counts[t], roaring_bitmap_and_cardinality(crowd.get(), bits[t])) << "round " << round << " tag " << t;
    }
  }
}

TEST(CrowdCounts, EmptyInputs) {
  const Bitmap empty;
  Bitmap some;
  for (uint32_t v = 0; v < 100000; v += 7) some.add(v);
  std::vector<uint64_t> counts = {9, 9, 9};
  count_in_crowd(some.get(), {}, counts);
  EXPECT_TRUE(counts.empty());
  const std::vector<const roaring_bitmap_t*> bits = {some.get(), empty.get()};
  count_in_crowd(empty.get(), bits, counts);
  EXPECT_EQ(counts, (std::vector<uint64_t>{0, 0}));
  count_in_crowd(some.get(), bits, counts);
  EXPECT_EQ(counts, (std::vector<uint64_t>{some.cardinality(), 0}));
}

}  // namespace
}  // namespace crowd::query
