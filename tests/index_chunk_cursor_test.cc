// ChunkCursor and the chunk kernels against an independent expectation: the
// bitmap's members from roaring_bitmap_to_uint32_array, grouped by their high
// 16 bits, and container kind counts from roaring_bitmap_statistics. Bitmaps
// with array, bitset and run chunks (a full one among them), mixed and
// shared (copy-on-write) ones, empty ones, and the DenseChunks overlay.
#include "index/chunk_cursor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "index/bitmap.h"
#include "index/dense_chunks.h"

namespace crowd {
namespace {

using Members = std::map<uint16_t, std::vector<uint16_t>>;  // chunk key → low 16 bits, ascending

Members expected_members(const roaring_bitmap_t* b) {
  std::vector<uint32_t> all(roaring_bitmap_get_cardinality(b));
  roaring_bitmap_to_uint32_array(b, all.data());
  Members out;
  for (const uint32_t v : all) out[static_cast<uint16_t>(v >> 16)].push_back(static_cast<uint16_t>(v & 0xFFFF));
  return out;
}

// A chunk's members, decoded from whichever form it has.
std::vector<uint16_t> members_of(const Chunk& c) {
  std::vector<uint16_t> out;
  switch (c.kind) {
    case ChunkKind::kArray:
      out.assign(c.values(), c.values() + c.size);
      break;
    case ChunkKind::kBitset:
      for (uint32_t v = 0; v < kChunkUsers; ++v) {
        if ((c.words()[v >> 6] >> (v & 63)) & 1) out.push_back(static_cast<uint16_t>(v));
      }
      break;
    case ChunkKind::kRun:
      for (int32_t i = 0; i < c.size; ++i) {
        for (uint32_t v = c.runs()[i].value; v <= uint32_t{c.runs()[i].value} + c.runs()[i].length; ++v) {
          out.push_back(static_cast<uint16_t>(v));
        }
      }
      break;
    case ChunkKind::kNone:
      break;
  }
  return out;
}

struct KindCounts {
  uint32_t array = 0, bitset = 0, run = 0;
};

// Walks every chunk with done/current/advance, checking each against the
// expectation; returns the kinds seen.
KindCounts check_walk(const roaring_bitmap_t* b, const DenseChunks* dense = nullptr) {
  const Members want = expected_members(b);
  KindCounts kinds;
  auto it = want.begin();
  int32_t position = 0;
  for (ChunkCursor c(b, dense); !c.done(); c.advance(), ++it, ++position) {
    EXPECT_NE(it, want.end());
    if (it == want.end()) break;
    const Chunk chunk = c.current();
    EXPECT_EQ(c.position(), position);
    EXPECT_EQ(c.key(), it->first);
    EXPECT_EQ(chunk.key, it->first);
    EXPECT_TRUE(chunk.present());
    EXPECT_EQ(members_of(chunk), it->second) << "chunk " << chunk.key;
    EXPECT_EQ(chunk.cardinality(), it->second.size());
    EXPECT_EQ(chunk.full(), it->second.size() == kChunkUsers);
    if (chunk.kind == ChunkKind::kArray) ++kinds.array;
    if (chunk.kind == ChunkKind::kBitset) ++kinds.bitset;
    if (chunk.kind == ChunkKind::kRun) ++kinds.run;
  }
  EXPECT_EQ(it, want.end());
  return kinds;
}

void expect_kinds_match_statistics(const roaring_bitmap_t* b) {
  roaring_statistics_t st;
  roaring_bitmap_statistics(b, &st);
  const KindCounts k = check_walk(b);
  EXPECT_EQ(k.array, st.n_array_containers);
  EXPECT_EQ(k.bitset, st.n_bitset_containers);
  EXPECT_EQ(k.run, st.n_run_containers);
}

// Chunks 0 and 3: small arrays; 1: a random bitset; 5: two runs; 7: full;
// 9: an array of 4,096 (the largest array); 12: a bitset of 4,097.
Bitmap mixed_bitmap(uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bitmap b;
  for (uint32_t v : {3u, 17u, 65535u}) b.add(v);
  for (int i = 0; i < 100; ++i) b.add((3u << 16) | static_cast<uint32_t>(rng() & 0xFFFF));
  for (int i = 0; i < 30000; ++i) b.add((1u << 16) | static_cast<uint32_t>(rng() & 0xFFFF));
  roaring_bitmap_add_range(b.get(), (5u << 16) + 100, (5u << 16) + 30001);
  roaring_bitmap_add_range(b.get(), (5u << 16) + 40000, (5u << 16) + 50000);
  roaring_bitmap_add_range(b.get(), 7u << 16, 8u << 16);
  for (uint32_t i = 0; i < 4096; ++i) b.add((9u << 16) | (i * 16));
  for (uint32_t i = 0; i < 4097; ++i) b.add((12u << 16) | (i * 15));
  roaring_bitmap_run_optimize(b.get());
  return b;
}

TEST(ChunkCursor, EmptyBitmapHasNoChunks) {
  Bitmap b;
  ChunkCursor c(b.get());
  EXPECT_TRUE(c.done());
  EXPECT_EQ(c.chunks(), 0);
  EXPECT_FALSE(c.seek(0).present());
  EXPECT_FALSE(c.seek(65535).present());
  EXPECT_EQ(c.seek(65535).key, 65535);
  EXPECT_FALSE(c.prefetch(65535));
}

TEST(ChunkCursor, WalksMixedKindsLikeTheMemberArray) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const Bitmap b = mixed_bitmap(seed);
    roaring_statistics_t st;
    roaring_bitmap_statistics(b.get(), &st);
    ASSERT_GT(st.n_array_containers, 0u);
    ASSERT_GT(st.n_bitset_containers, 0u);
    ASSERT_GT(st.n_run_containers, 0u);
    expect_kinds_match_statistics(b.get());
  }
}

TEST(ChunkCursor, KindsAtTheArrayBitsetBoundary) {
  const Bitmap b = mixed_bitmap(7);
  ChunkCursor c(b.get());
  EXPECT_EQ(c.seek(0).kind, ChunkKind::kArray);
  EXPECT_EQ(c.seek(1).kind, ChunkKind::kBitset);
  EXPECT_EQ(c.seek(5).kind, ChunkKind::kRun);
  EXPECT_EQ(c.seek(5).size, 2);  // runs, not members
  EXPECT_TRUE(c.seek(7).full());
  const Chunk largest_array = c.seek(9);
  EXPECT_EQ(largest_array.kind, ChunkKind::kArray);
  EXPECT_EQ(largest_array.size, kMaxArrayMembers);
  const Chunk smallest_bitset = c.seek(12);
  EXPECT_EQ(smallest_bitset.kind, ChunkKind::kBitset);
  EXPECT_EQ(smallest_bitset.size, kMaxArrayMembers + 1);
}

TEST(ChunkCursor, SeekFindsPresentKeysAndSkipsAbsentOnes) {
  const Bitmap b = mixed_bitmap(3);
  const Members want = expected_members(b.get());
  ChunkCursor c(b.get());
  for (uint32_t key = 0; key < 20; ++key) {
    const Chunk chunk = c.seek(static_cast<uint16_t>(key));
    EXPECT_EQ(chunk.key, key);
    const auto it = want.find(static_cast<uint16_t>(key));
    EXPECT_EQ(chunk.present(), it != want.end()) << key;
    if (it != want.end()) {
      EXPECT_EQ(members_of(chunk), it->second);
    }
    // Asking again for the same key gives the same chunk.
    const Chunk again = c.seek(static_cast<uint16_t>(key));
    EXPECT_EQ(again.kind, chunk.kind);
    EXPECT_EQ(again.data, chunk.data);
  }
  EXPECT_TRUE(c.done());  // past chunk 12
  EXPECT_FALSE(c.seek(65535).present());
}

TEST(ChunkCursor, SeekSkippingChunksAndPastTheEnd) {
  const Bitmap b = mixed_bitmap(4);
  ChunkCursor c(b.get());
  EXPECT_EQ(members_of(c.seek(9)), expected_members(b.get()).at(9));
  EXPECT_FALSE(c.seek(10).present());
  EXPECT_TRUE(c.seek(12).present());
  EXPECT_FALSE(c.seek(13).present());
  EXPECT_TRUE(c.done());
  EXPECT_FALSE(c.seek(40000).present());
  EXPECT_FALSE(c.prefetch(40001));
}

TEST(ChunkCursor, PrefetchThenSeek) {
  const Bitmap b = mixed_bitmap(5);
  ChunkCursor c(b.get());
  EXPECT_TRUE(c.prefetch(1));
  EXPECT_FALSE(c.prefetch(2));
  EXPECT_TRUE(c.prefetch(3));
  EXPECT_EQ(members_of(c.seek(3)), expected_members(b.get()).at(3));
}

TEST(ChunkCursor, RandomBitmapsOfEveryDensity) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 20; ++round) {
    Bitmap b;
    const uint32_t chunks = 1 + static_cast<uint32_t>(rng() % 8);
    for (uint32_t k = 0; k < chunks; ++k) {
      const uint32_t key = static_cast<uint32_t>(rng() % 64);
      const uint32_t n = static_cast<uint32_t>(rng() % 3 == 0 ? rng() % 60000 : rng() % 5000);
      for (uint32_t i = 0; i < n; ++i) b.add((key << 16) | static_cast<uint32_t>(rng() & 0xFFFF));
      if (rng() % 3 == 0) {
        const uint32_t start = static_cast<uint32_t>(rng() % 60000);
        roaring_bitmap_add_range(b.get(), (key << 16) + start, (key << 16) + start + 1 + rng() % 5000);
      }
    }
    if (round % 2 == 0) roaring_bitmap_run_optimize(b.get());
    expect_kinds_match_statistics(b.get());
  }
}

TEST(ChunkCursor, ReadsThroughSharedContainers) {
  Bitmap source = mixed_bitmap(6);
  roaring_bitmap_set_copy_on_write(source.get(), true);
  Bitmap copy(roaring_bitmap_copy(source.get()));
  check_walk(copy.get());
  check_walk(source.get());
  EXPECT_EQ(expected_members(copy.get()), expected_members(source.get()));
}

TEST(ChunkCursor, DenseChunksMakeLargeArraysReadAsBitsets) {
  const Bitmap b = mixed_bitmap(8);
  const DenseChunks dense(b.get(), 1000);  // chunk 9 (4,096) qualifies; chunks 0 and 3 do not
  ChunkCursor plain(b.get());
  ChunkCursor overlaid(b.get(), &dense);
  EXPECT_EQ(plain.seek(9).kind, ChunkKind::kArray);
  if (dense.bytes() > 0) {  // within the process-wide budget
    const Chunk c = overlaid.seek(9);
    EXPECT_EQ(c.kind, ChunkKind::kBitset);
    EXPECT_EQ(c.size, kMaxArrayMembers);
    EXPECT_EQ(members_of(c), members_of(plain.seek(9)));
  }
  EXPECT_EQ(ChunkCursor(b.get(), &dense).seek(3).kind, ChunkKind::kArray);  // too small to expand
  check_walk(b.get(), &dense);
}

// ---- Kernels ----------------------------------------------------------------------------------

std::vector<uint64_t> random_words(std::mt19937_64& rng, unsigned sparsity) {
  std::vector<uint64_t> w(kChunkWords);
  for (auto& x : w) {
    x = rng();
    for (unsigned i = 0; i < sparsity; ++i) x &= rng();
  }
  return w;
}

uint64_t naive_popcount(const uint64_t* w) {
  uint64_t n = 0;
  for (std::size_t i = 0; i < kChunkWords; ++i) n += static_cast<uint64_t>(__builtin_popcountll(w[i]));
  return n;
}

TEST(ChunkKernels, PopcountsMatchAPlainLoop) {
  std::mt19937_64 rng(9);
  for (unsigned sparsity = 0; sparsity < 5; ++sparsity) {
    const auto a = random_words(rng, sparsity);
    const auto b = random_words(rng, sparsity);
    std::vector<uint64_t> both(kChunkWords);
    for (std::size_t i = 0; i < kChunkWords; ++i) both[i] = a[i] & b[i];
    EXPECT_EQ(chunk_popcount(a.data()), naive_popcount(a.data()));
    EXPECT_EQ(chunk_and_popcount(a.data(), b.data()), naive_popcount(both.data()));
  }
}

std::vector<uint16_t> random_members(std::mt19937_64& rng, std::size_t n) {
  std::vector<uint16_t> v(n);
  for (auto& x : v) x = static_cast<uint16_t>(rng());
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

TEST(ChunkKernels, MemberListsMatchTheStandardAlgorithms) {
  std::mt19937_64 rng(10);
  for (const auto& [na, nb] : std::vector<std::pair<std::size_t, std::size_t>>{
           {0, 10}, {10, 0}, {5, 4000}, {4000, 5}, {1000, 1200}, {4096, 4096}, {30, 3000}}) {
    const auto a = random_members(rng, na);
    const auto b = random_members(rng, nb);
    std::vector<uint16_t> want;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(want));
    std::vector<uint16_t> out(a.size() + b.size() + 16);
    out.resize(static_cast<std::size_t>(intersect_members(a.data(), a.size(), b.data(), b.size(), out.data())));
    EXPECT_EQ(out, want) << na << " & " << nb;
    if (a.size() < b.size()) {
      EXPECT_EQ(count_common_skewed(a.data(), a.size(), b.data(), b.size()), want.size());
    }
    want.clear();
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(want));
    out.assign(a.size() + 16, 0);
    out.resize(static_cast<std::size_t>(subtract_members(a.data(), a.size(), b.data(), b.size(), out.data())));
    EXPECT_EQ(out, want) << na << " - " << nb;
  }
}

TEST(ChunkKernels, RunsSetAndCountTheirRange) {
  std::mt19937_64 rng(11);
  const auto words = random_words(rng, 1);
  for (const ChunkRun run : {ChunkRun{0, 0}, ChunkRun{0, 0xFFFF}, ChunkRun{63, 1}, ChunkRun{100, 5000},
                             ChunkRun{65535, 0}, ChunkRun{64, 63}}) {
    uint64_t want = 0;
    for (uint32_t v = run.value; v <= uint32_t{run.value} + run.length; ++v) want += (words[v >> 6] >> (v & 63)) & 1;
    EXPECT_EQ(count_in_run(words.data(), run), want);
    std::vector<uint64_t> set(kChunkWords, 0);
    set_run(set.data(), run);
    EXPECT_EQ(naive_popcount(set.data()), uint64_t{run.length} + 1);
    EXPECT_EQ(count_in_run(set.data(), run), uint64_t{run.length} + 1);
  }
}

TEST(ChunkKernels, AppendChunkPicksTheContainerCRoaringWould) {
  std::mt19937_64 rng(12);
  Bitmap out;
  Members want;
  for (const uint16_t key : {uint16_t{2}, uint16_t{4}, uint16_t{9}, uint16_t{300}}) {
    std::vector<uint64_t> w = random_words(rng, key == 4 ? 0 : 4);  // ~50% or ~3% of a chunk
    if (key == 9) std::fill(w.begin(), w.end(), 0);                   // empty: nothing appended
    append_chunk(out.get(), key, w.data(), naive_popcount(w.data()));
    for (uint32_t v = 0; v < kChunkUsers; ++v) {
      if ((w[v >> 6] >> (v & 63)) & 1) want[key].push_back(static_cast<uint16_t>(v));
    }
  }
  EXPECT_EQ(expected_members(out.get()), want);
  ChunkCursor c(out.get());
  EXPECT_EQ(c.chunks(), 3);
  EXPECT_EQ(c.seek(2).kind, ChunkKind::kArray);
  EXPECT_EQ(c.seek(4).kind, ChunkKind::kBitset);
  EXPECT_FALSE(c.seek(9).present());
  EXPECT_EQ(c.seek(300).kind, ChunkKind::kArray);
  expect_kinds_match_statistics(out.get());
}

}  // namespace
}  // namespace crowd
