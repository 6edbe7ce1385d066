// ChunkCursor: a Roaring bitmap read one 2^16-user chunk at a time, each
// chunk as a typed view of its container (sorted members, 1,024 words, or
// runs), plus the few chunk kernels the query layer borrows from CRoaring.
//
// Why one door: the fused evaluator, attribute slices, lookalike and crowd
// counts all walk bitmaps chunk by chunk to AND and popcount against dense
// words, and each used to reach into CRoaring's container structs and
// typecodes itself (four cursors, four shared-container unwraps). Those
// structs are CRoaring internals that change between releases; now
// chunk_cursor.cc is the one file that includes roaring/containers/ and
// switches on typecodes (style habit 16), and callers ask typed questions.
//
// Cost: the key walk is inline (a linear step: keys are asked for in
// ascending order, and at ~150 keys per 10M users a step beats a binary
// search); decoding the container at a key is one out-of-line call, made at
// most once per chunk per cursor (the last chunk is kept), next to the 0.2-10
// us of work a chunk costs its caller. Inlining the decode would mean copying
// CRoaring's struct layouts into this header. Measured before/after in one
// run (bench-evaluator, bench-attribute, bench-analytics): most cases moved
// 0.83-1.07x in CPU time; one compare case read 1.26x CPU (1.09x wall),
// within this machine's noise but not proven to be (issue 13 note).
//
// Lifetimes: a Chunk borrows the bitmap's memory (or the DenseChunks cache's)
// and is valid while the bitmap is neither modified nor freed.
#pragma once

#include <roaring/roaring.h>

#include <cstddef>
#include <cstdint>

namespace crowd {

class DenseChunks;

inline constexpr std::size_t kChunkWords = 1024;        // 2^16 bits: one chunk as a bitset
inline constexpr int32_t kMaxArrayMembers = 4096;       // more members than this: a bitset
inline constexpr uint32_t kChunkUsers = uint32_t{1} << 16;

enum class ChunkKind : uint8_t {
  kNone,    // the bitmap has no members in this chunk
  kArray,   // sorted uint16 members
  kBitset,  // 1,024 words
  kRun,     // sorted, disjoint runs
};

// One run [value, value + length] (inclusive: a full chunk is {0, 65535}).
// Same layout as CRoaring's rle16_t, checked in chunk_cursor.cc.
struct ChunkRun {
  uint16_t value;
  uint16_t length;
};

struct Chunk {
  uint16_t key = 0;  // the high 16 bits of the chunk's users
  ChunkKind kind = ChunkKind::kNone;
  int32_t size = 0;  // members (array, bitset) or runs (run)
  const void* data = nullptr;

  [[nodiscard]] bool present() const { return kind != ChunkKind::kNone; }
  // The members, ascending; kArray only. size of them.
  [[nodiscard]] const uint16_t* values() const { return static_cast<const uint16_t*>(data); }
  // The 1,024 words; kBitset only.
  [[nodiscard]] const uint64_t* words() const { return static_cast<const uint64_t*>(data); }
  // The runs, ascending; kRun only. size of them.
  [[nodiscard]] const ChunkRun* runs() const { return static_cast<const ChunkRun*>(data); }
  // Every user of the chunk (one run [0, 65535]: a densely populated range).
  [[nodiscard]] bool full() const {
    return kind == ChunkKind::kRun && size == 1 && runs()[0].value == 0 && runs()[0].length == 0xFFFF;
  }
  // Members. O(1), O(runs) for a run chunk.
  [[nodiscard]] uint64_t cardinality() const {
    if (kind != ChunkKind::kRun) return static_cast<uint64_t>(size);
    uint64_t n = 0;
    for (int32_t i = 0; i < size; ++i) n += uint64_t{runs()[i].length} + 1;
    return n;
  }
};

class ChunkCursor {
 public:
  ChunkCursor() = default;
  // A cursor at the first chunk of `bits`. With `dense`, arrays that the
  // cache expanded read as bitsets (its words, the array's size).
  explicit ChunkCursor(const roaring_bitmap_t* bits, const DenseChunks* dense = nullptr)
      : ra_(&bits->high_low_container), dense_(dense) {}

  // The chunk of `key` (kind kNone when the bitmap has none), moving the
  // cursor to it. Keys must not decrease between calls: amortised O(1) a
  // call over a walk. Past the last chunk, every seek gives kNone.
  [[nodiscard]] Chunk seek(uint16_t key) {
    int32_t pos = pos_;
    while (pos < ra_->size && ra_->keys[pos] < key) ++pos;
    pos_ = pos;
    if (pos == ra_->size || ra_->keys[pos] != key) return Chunk{key, ChunkKind::kNone, 0, nullptr};
    return current();
  }

  // seek() without the decode: moves to `key` and prefetches its container
  // header, so that a caller walking thousands of bitmaps at one key can
  // overlap their cache misses (find and prefetch all, then seek all).
  // Returns whether the bitmap has the key. Same order rule as seek().
  bool prefetch(uint16_t key) {
    int32_t pos = pos_;
    while (pos < ra_->size && ra_->keys[pos] < key) ++pos;
    pos_ = pos;
    if (pos == ra_->size || ra_->keys[pos] != key) return false;
    __builtin_prefetch(ra_->containers[pos]);
    return true;
  }

  // Walking every chunk: while (!c.done()) { use(c.current()); c.advance(); }
  [[nodiscard]] bool done() const { return pos_ >= ra_->size; }
  [[nodiscard]] Chunk current() const {
    if (loaded_ != pos_) {
      chunk_ = load(pos_);
      loaded_ = pos_;
    }
    return chunk_;
  }
  void advance() { ++pos_; }
  // The key of the current chunk; !done() only.
  [[nodiscard]] uint16_t key() const { return ra_->keys[pos_]; }
  // Chunks in the bitmap, and the cursor's index among them.
  [[nodiscard]] int32_t chunks() const { return ra_->size; }
  [[nodiscard]] int32_t position() const { return pos_; }

 private:
  [[nodiscard]] Chunk load(int32_t pos) const;  // chunk_cursor.cc: the typecode switch

  const roaring_array_t* ra_ = nullptr;
  const DenseChunks* dense_ = nullptr;
  int32_t pos_ = 0;
  mutable int32_t loaded_ = -1;
  mutable Chunk chunk_;
};

// ---- Chunk kernels: CRoaring's, behind the same door ------------------------------------------

// Set bits of 1,024 words, by CRoaring's AVX2 Harley-Seal kernel: GCC does
// not vectorise a std::popcount loop without AVX-512.
[[nodiscard]] uint64_t chunk_popcount(const uint64_t* words);
// |a AND b| over 1,024 words, without storing it.
[[nodiscard]] uint64_t chunk_and_popcount(const uint64_t* a, const uint64_t* b);

// Sorted-list intersection and difference of members: out gets a ∩ b (or
// a − b), returns its length. out must not alias a or b and needs room for
// na + 16 (the SIMD kernels store whole vectors). Galloping when one side is
// 64x smaller, else SIMD when CRoaring was built natively: a scalar merge
// mispredicts on every other member.
[[nodiscard]] int32_t intersect_members(const uint16_t* a, std::size_t na, const uint16_t* b, std::size_t nb,
                                        uint16_t* out);
[[nodiscard]] int32_t subtract_members(const uint16_t* a, std::size_t na, const uint16_t* b, std::size_t nb,
                                       uint16_t* out);
// |small ∩ large| by galloping over `large`; for nl >> ns.
[[nodiscard]] uint64_t count_common_skewed(const uint16_t* small, std::size_t ns, const uint16_t* large,
                                           std::size_t nl);

// Sets bits [value, value + length] of 1,024 words.
void set_run(uint64_t* words, const ChunkRun& run);
// Set bits among [value, value + length] of 1,024 words.
[[nodiscard]] uint64_t count_in_run(const uint64_t* words, const ChunkRun& run);

// Appends 1,024 words of `cardinality` set bits to `out` as the chunk of
// `key`, as the container CRoaring would pick (an array up to 4,096 members,
// else a bitset); nothing when cardinality is 0. Keys must be appended in
// ascending order, after any chunk `out` already has. O(1,024 words).
void append_chunk(roaring_bitmap_t* out, uint16_t key, const uint64_t* words, uint64_t cardinality);

}  // namespace crowd
