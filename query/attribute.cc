#include "query/attribute.h"

#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "index/chunk_cursor.h"
#include "index/system_view.h"
#include "query/deadline.h"

namespace crowd::query {
namespace {

constexpr int kBits = AttributeSlices::kBits;
constexpr std::size_t kWords = 1024;  // one 2^16-user chunk as a bitset
constexpr uint64_t kAllOnes = ~uint64_t{0};

// One attribute's bitmaps as this view has them, each slice classified once
// by its cardinality (O(1) each) so that the walks below never touch the
// constant ones.
struct Slices {
  const TagBits* exists = nullptr;
  std::array<const TagBits*, kBits> slice{};  // set for the varying bits only
  uint64_t ones = 0;                          // bits every value has (slice == E)
  uint64_t varying = 0;                       // bits some values have and some lack
};

// 65 dictionary lookups (a few microseconds): noise next to any walk.
std::optional<Slices> find_slices(const IndexView& view, std::string_view attribute) {
  const auto stored = view.system().attribute(attribute);
  if (!stored) return std::nullopt;
  Slices s;
  s.exists = stored->exists;
  for (int b = 0; b < kBits; ++b) {
    const TagBits* t = stored->bits[static_cast<std::size_t>(b)];
    if (t == nullptr) continue;  // never written: every value has the bit clear
    if (t->cardinality == 0) continue;
    // A slice is a subset of E, so equal sizes mean equal sets.
    if (t->cardinality == s.exists->cardinality) {
      s.ones |= uint64_t{1} << b;
    } else {
      s.varying |= uint64_t{1} << b;
      s.slice[static_cast<std::size_t>(b)] = t;
    }
  }
  return s;
}

// ---------------------------------------------------------------------------
// Chunk access: containers by key, as 1,024 words.

// A tag read chunk by chunk, its larger arrays as its DenseChunks' words.
// Walks ask for E's keys in order, so each slice's key array is read once.
ChunkCursor cursor_of(const TagBits& tag) { return ChunkCursor(tag.bits.get(), &tag.dense()); }

// Sets bits [begin, end) of a chunk; begin < end <= 2^16.
void set_range(uint64_t* w, uint32_t begin, uint32_t end) {
  const uint32_t first = begin >> 6;
  const uint32_t last = (end - 1) >> 6;
  const uint64_t head = kAllOnes << (begin & 63);
  const uint64_t tail = kAllOnes >> (63 - ((end - 1) & 63));
  if (first == last) {
    w[first] |= head & tail;
    return;
  }
  w[first] |= head;
  for (uint32_t i = first + 1; i < last; ++i) w[i] = kAllOnes;
  w[last] |= tail;
}

// Popcounts by CRoaring's AVX2 Harley-Seal kernels (chunk_cursor.h): GCC
// does not vectorise a std::popcount loop without AVX-512, and the scalar
// loop was ~40% of the stats walk's time.
uint64_t popcount_words(const uint64_t* w) { return chunk_popcount(w); }
uint64_t and_popcount(const uint64_t* a, const uint64_t* b) { return chunk_and_popcount(a, b); }

// A chunk as 1,024 words: a bitset's own words (borrowed; with the cursor's
// DenseChunks that includes a larger array's expanded copy), or scattered
// into `scratch`.
const uint64_t* words_of(const Chunk& c, uint64_t* scratch) {
  if (c.kind == ChunkKind::kBitset) return c.words();
  std::memset(scratch, 0, kWords * sizeof(uint64_t));
  if (c.kind == ChunkKind::kArray) {
    const uint16_t* v = c.values();
    for (int32_t i = 0; i < c.size; ++i) scratch[v[i] >> 6] |= uint64_t{1} << (v[i] & 63);
  } else if (c.kind == ChunkKind::kRun) {
    const ChunkRun* runs = c.runs();
    for (int32_t i = 0; i < c.size; ++i) {
      const uint32_t begin = runs[i].value;
      set_range(scratch, begin, begin + runs[i].length + 1);
    }
  }
  return scratch;
}

// Word kernels: plain loops over restrict pointers, which GCC vectorises
// (AVX2: 4 words an instruction). Each returns the OR of the candidate words
// it left, so a walk stops as soon as no candidate is undecided.
uint64_t keep_set(uint64_t* __restrict eq, const uint64_t* __restrict s) {  // eq &= s
  uint64_t any = 0;
  for (std::size_t i = 0; i < kWords; ++i) any |= (eq[i] &= s[i]);
  return any;
}
uint64_t keep_clear(uint64_t* __restrict eq, const uint64_t* __restrict s) {  // eq &= ~s
  uint64_t any = 0;
  for (std::size_t i = 0; i < kWords; ++i) any |= (eq[i] &= ~s[i]);
  return any;
}
// The members of eq with the bit set are decided in: r |= eq & s; eq &= ~s.
uint64_t accept_set(uint64_t* __restrict r, uint64_t* __restrict eq, const uint64_t* __restrict s) {
  uint64_t any = 0;
  for (std::size_t i = 0; i < kWords; ++i) {
    r[i] |= eq[i] & s[i];
    any |= (eq[i] &= ~s[i]);
  }
  return any;
}
// The members of eq with the bit clear are decided in: r |= eq & ~s; eq &= s.
uint64_t accept_clear(uint64_t* __restrict r, uint64_t* __restrict eq, const uint64_t* __restrict s) {
  uint64_t any = 0;
  for (std::size_t i = 0; i < kWords; ++i) {
    r[i] |= eq[i] & ~s[i];
    any |= (eq[i] &= s[i]);
  }
  return any;
}
void merge_into(uint64_t* __restrict r, const uint64_t* __restrict x) {
  for (std::size_t i = 0; i < kWords; ++i) r[i] |= x[i];
}

// ---------------------------------------------------------------------------
// The range walk.
//
// A predicate becomes a range [lo, hi] of offset-binary values (or the
// complement of one point, for !=). Walking the bits from the top, the
// candidates whose bits so far equal both bounds' (`eq`) lose those that
// leave the range at each bit, while lo and hi share their bits. At the first
// bit where they differ (lo has 0, hi has 1), eq splits into two disjoint
// one-sided problems: the candidates with the bit clear are below hi and must
// only still reach lo (`low_eq`); those with it set are above lo and must
// only stay within hi (`high_eq`). From there each side moves the members it
// decides into the result `r` (O'Neil's GT / LT bitmaps, merged, since the
// two sides are disjoint) and stops when nothing is left or when its bound's
// remaining bits can no longer exclude anyone (all 0 below for lo, all 1 for
// hi). A slice that is empty or equal to E in a chunk is a constant there:
// no words are read for it.
class RangeWalk {
 public:
  RangeWalk(const Slices& s, uint64_t lo, uint64_t hi, bool negate) : s_(s), lo_(lo), hi_(hi), negate_(negate) {
    for (int b = 0; b < kBits; ++b) {
      if (const TagBits* t = s.slice[static_cast<std::size_t>(b)]) cursors_[static_cast<std::size_t>(b)] = cursor_of(*t);
    }
  }

  Bitmap run() {
    Bitmap out;
    DeadlineTicker<4> deadline;  // a chunk reads up to ~20 slices
    for (ChunkCursor e = cursor_of(*s_.exists); !e.done(); e.advance()) {
      deadline.tick();
      const Chunk ec = e.current();
      e_card_ = ec.cardinality();
      e_ = words_of(ec, blocks_->e);
      key_ = ec.key;
      if (const uint64_t* r = chunk()) append_chunk(out.get(), key_, r, popcount_words(r));
    }
    return out;
  }

 private:
  // A slice in one chunk: no member of E has the bit (kZero), every one has
  // it (kFull), or some do (kSome, with the words).
  enum class Kind : uint8_t { kZero, kFull, kSome };
  struct Operand {
    Kind kind;
    const uint64_t* w;
  };
  struct Blocks {
    alignas(64) uint64_t e[kWords];
    alignas(64) uint64_t eq[kWords];
    alignas(64) uint64_t high_eq[kWords];
    alignas(64) uint64_t r[kWords];
    alignas(64) uint64_t slice[kWords];
  };

  // Slice b within the current chunk.
  Operand operand(int b) {
    const uint64_t bit = uint64_t{1} << b;
    if (s_.ones & bit) return {Kind::kFull, nullptr};
    if (!(s_.varying & bit)) return {Kind::kZero, nullptr};
    const Chunk c = cursors_[static_cast<std::size_t>(b)].seek(key_);
    if (!c.present()) return {Kind::kZero, nullptr};
    if (c.cardinality() == e_card_) return {Kind::kFull, nullptr};
    return {Kind::kSome, words_of(c, blocks_->slice)};
  }

  // The chunk's result words, or nullptr when empty.
  const uint64_t* chunk() {
    uint64_t* eq = blocks_->eq;
    std::memcpy(eq, e_, kWords * sizeof(uint64_t));
    int b = kBits - 1;
    // Shared prefix of lo and hi: candidates with another bit leave the range.
    bool alive = true;
    for (; b >= 0; --b) {
      const uint64_t bit = uint64_t{1} << b;
      if ((lo_ & bit) != (hi_ & bit)) break;
      const bool set = (lo_ & bit) != 0;
      const Operand s = operand(b);
      if (s.kind == Kind::kZero) {
        alive = !set;
      } else if (s.kind == Kind::kFull) {
        alive = set;
      } else {
        alive = (set ? keep_set(eq, s.w) : keep_clear(eq, s.w)) != 0;
      }
      if (!alive) break;
    }
    if (b < 0 || !alive) {  // lo == hi (a point), or nobody is left
      if (!negate_) return alive ? eq : nullptr;
      if (!alive) return e_;
      for (std::size_t i = 0; i < kWords; ++i) eq[i] = e_[i] & ~eq[i];
      return eq;
    }

    // Bit b splits lo from hi: eq becomes low_eq (bit clear), high_eq (set).
    uint64_t* low_eq = eq;
    uint64_t* high_eq = blocks_->high_eq;
    uint64_t* r = blocks_->r;
    std::memset(r, 0, kWords * sizeof(uint64_t));
    bool low = true;
    bool high = true;
    {
      const Operand s = operand(b);
      if (s.kind == Kind::kZero) {
        high = false;
      } else if (s.kind == Kind::kFull) {
        std::swap(low_eq, high_eq);  // high_eq takes eq's words; low_eq is unused
        low = false;
      } else {
        uint64_t any_low = 0;
        uint64_t any_high = 0;
        for (std::size_t i = 0; i < kWords; ++i) {
          any_high |= (high_eq[i] = eq[i] & s.w[i]);
          any_low |= (eq[i] &= ~s.w[i]);
        }
        low = any_low != 0;
        high = any_high != 0;
      }
    }
    const auto settle = [&](int bit_index) {
      // Below bit_index, lo's bits all 0 / hi's all 1: nobody left can fall out.
      const uint64_t below = bit_index == 0 ? 0 : (kAllOnes >> (kBits - bit_index));
      if (low && (lo_ & below) == 0) {
        merge_into(r, low_eq);
        low = false;
      }
      if (high && (hi_ & below) == below) {
        merge_into(r, high_eq);
        high = false;
      }
    };
    settle(b);
    for (--b; b >= 0 && (low || high); --b) {
      const uint64_t bit = uint64_t{1} << b;
      const Operand s = operand(b);
      if (low) {
        if (lo_ & bit) {  // a clear bit falls below lo
          if (s.kind == Kind::kZero) {
            low = false;
          } else if (s.kind == Kind::kSome) {
            low = keep_set(low_eq, s.w) != 0;
          }
        } else {  // a set bit is above lo: decided in
          if (s.kind == Kind::kFull) {
            merge_into(r, low_eq);
            low = false;
          } else if (s.kind == Kind::kSome) {
            low = accept_set(r, low_eq, s.w) != 0;
          }
        }
      }
      if (high) {
        if (hi_ & bit) {  // a clear bit is below hi: decided in
          if (s.kind == Kind::kZero) {
            merge_into(r, high_eq);
            high = false;
          } else if (s.kind == Kind::kSome) {
            high = accept_clear(r, high_eq, s.w) != 0;
          }
        } else {  // a set bit goes above hi
          if (s.kind == Kind::kFull) {
            high = false;
          } else if (s.kind == Kind::kSome) {
            high = keep_clear(high_eq, s.w) != 0;
          }
        }
      }
      settle(b);
    }
    return r;  // settle(0) has decided every candidate left
  }

  const Slices& s_;
  const uint64_t lo_;
  const uint64_t hi_;
  const bool negate_;
  std::array<ChunkCursor, kBits> cursors_{};
  std::unique_ptr<Blocks> blocks_ = std::make_unique<Blocks>();
  const uint64_t* e_ = nullptr;
  uint64_t e_card_ = 0;
  uint16_t key_ = 0;
};

// ---------------------------------------------------------------------------
// k-th smallest values: the shared top-down walk.
//
// Candidate sets are kept as flat 1,024-word chunks (one per container of C),
// not as Roaring bitmaps: sets near a percentile stay large in total but thin
// within each chunk (a p50 set of ~1.5M users at 10M is ~2% of every chunk),
// so CRoaring keeps them as arrays, and each step then costs ~2 ns a member
// in array-bitset intersections and differences. Measured at 10M users, 6M
// values, stats over everyone: 22 ms with in-place CRoaring operations per
// group and bit. Flat words cost one pass per chunk whatever the density,
// and a chunk a set has left is skipped.
//
// Each varying bit is two chunk-major passes, so a slice chunk is read once
// a pass for all sets: one counts each set's members with the bit, the other
// narrows each set to the half that holds its ranks (or splits it in two).

struct Rank {
  int slot;    // which answer
  uint64_t k;  // 1-based rank within the group's candidates
};

// Candidates that agree on the bits walked so far (`prefix`), and the ranks
// still to be found among them, in increasing order.
struct Group {
  std::vector<uint64_t> words;  // chunk i at [i * kWords, (i + 1) * kWords)
  std::vector<uint8_t> live;    // chunk i may hold members
  uint64_t size = 0;
  uint64_t prefix = 0;
  std::vector<Rank> ranks;
  enum class Step : uint8_t { kNone, kClear, kSet, kSplit } step = Step::kNone;
  std::size_t split_to = 0;  // kSplit: the group that takes the set half
};

// hi = g & s; g &= ~s. Returns whether each half has members.
std::pair<bool, bool> split_words(uint64_t* __restrict g, uint64_t* __restrict hi, const uint64_t* __restrict s) {
  uint64_t any_lo = 0;
  uint64_t any_hi = 0;
  for (std::size_t i = 0; i < kWords; ++i) {
    any_hi |= (hi[i] = g[i] & s[i]);
    any_lo |= (g[i] &= ~s[i]);
  }
  return {any_lo != 0, any_hi != 0};
}

// The crowd's users with a value (C = crowd ∧ E) as flat chunks: keys[i] is
// the key of words[i * kWords ...]; only chunks where C has members.
struct FlatSet {
  std::vector<uint16_t> keys;
  std::vector<uint64_t> words;
  uint64_t size = 0;
};

// One pass over E's chunks: crowd ∧ E, word by word, without building the
// Roaring intersection (thin chunks would become arrays, slow to walk).
FlatSet flatten_crowd(const TagBits& exists, const roaring_bitmap_t* crowd) {
  FlatSet out;
  ChunkCursor in_crowd(crowd);
  auto scratch = std::make_unique<uint64_t[]>(2 * kWords);
  for (ChunkCursor e = cursor_of(exists); !e.done(); e.advance()) {
    const Chunk cc = in_crowd.seek(e.key());
    if (!cc.present()) continue;
    const uint64_t* ew = words_of(e.current(), scratch.get());
    const uint64_t* cw = words_of(cc, scratch.get() + kWords);
    const std::size_t at = out.words.size();
    out.words.resize(at + kWords);
    uint64_t* dst = &out.words[at];
    for (std::size_t w = 0; w < kWords; ++w) dst[w] = ew[w] & cw[w];
    const uint64_t n = popcount_words(dst);
    if (n == 0) {
      out.words.resize(at);
      continue;
    }
    out.keys.push_back(e.key());
    out.size += n;
  }
  return out;
}

// Σ_b 2^b |C ∧ S_b|: the offset-binary values' sum (< 2^96), chunk-major so
// that each slice chunk is read once.
__extension__ typedef unsigned __int128 Uint128;
Uint128 offset_sum(const Slices& s, const FlatSet& c) {
  Uint128 sum = 0;
  for (int b = 0; b < kBits; ++b) {
    if (s.ones & (uint64_t{1} << b)) sum += static_cast<Uint128>(c.size) << b;
  }
  std::array<ChunkCursor, kBits> cursors{};
  for (int b = 0; b < kBits; ++b) {
    if (const TagBits* t = s.slice[static_cast<std::size_t>(b)]) cursors[static_cast<std::size_t>(b)] = cursor_of(*t);
  }
  auto scratch = std::make_unique<uint64_t[]>(kWords);
  std::array<uint64_t, kBits> with_bit{};
  DeadlineTicker<8> deadline;
  for (std::size_t i = 0; i < c.keys.size(); ++i) {
    deadline.tick();
    const uint64_t* cw = &c.words[i * kWords];
    for (int b = 0; b < kBits; ++b) {
      if (!(s.varying & (uint64_t{1} << b))) continue;
      const Chunk sc = cursors[static_cast<std::size_t>(b)].seek(c.keys[i]);
      if (!sc.present()) continue;
      with_bit[static_cast<std::size_t>(b)] += and_popcount(cw, words_of(sc, scratch.get()));
    }
  }
  for (int b = 0; b < kBits; ++b) sum += static_cast<Uint128>(with_bit[static_cast<std::size_t>(b)]) << b;
  return sum;
}

// answers[slot] = the offset-binary value of rank k (1 <= k <= |c|).
void kth_values(const Slices& s, FlatSet c, std::vector<Rank> ranks, uint64_t* answers) {
  const std::size_t chunks = c.keys.size();
  const std::vector<uint16_t> keys = std::move(c.keys);
  std::vector<Group> groups;
  groups.reserve(ranks.size());  // a split needs a rank on each side: at most one group a rank
  {
    Group first;
    first.words = std::move(c.words);
    first.live.assign(chunks, 1);
    first.size = c.size;
    first.ranks = std::move(ranks);
    groups.push_back(std::move(first));
  }
  auto scratch = std::make_unique<uint64_t[]>(kWords);
  std::vector<uint64_t> ones;
  for (int b = kBits - 1; b >= 0; --b) {
    const uint64_t bit = uint64_t{1} << b;
    if (s.ones & bit) {
      for (Group& g : groups) g.prefix |= bit;
      continue;
    }
    if (!(s.varying & bit)) continue;
    Deadline::check();  // two passes over a slice: ~0.1-0.3 ms at 10M users
    const TagBits& slice = *s.slice[static_cast<std::size_t>(b)];
    const std::size_t n = groups.size();

    // Pass 1: each set's members with the bit.
    ones.assign(n, 0);
    ChunkCursor cursor = cursor_of(slice);
    for (std::size_t i = 0; i < chunks; ++i) {
      const Chunk sc = cursor.seek(keys[i]);
      if (!sc.present()) continue;
      const uint64_t* sw = nullptr;
      for (std::size_t gi = 0; gi < n; ++gi) {
        if (!groups[gi].live[i]) continue;
        if (sw == nullptr) sw = words_of(sc, scratch.get());
        ones[gi] += and_popcount(&groups[gi].words[i * kWords], sw);
      }
    }

    // Where each set's ranks lie: ranks up to `zeros` have the bit clear.
    bool any_step = false;
    for (std::size_t gi = 0; gi < n; ++gi) {
      Group& g = groups[gi];
      const uint64_t zeros = g.size - ones[gi];
      std::size_t split = 0;
      while (split < g.ranks.size() && g.ranks[split].k <= zeros) ++split;
      g.step = Group::Step::kNone;
      if (split == g.ranks.size()) {  // all clear
        if (ones[gi] != 0) g.step = Group::Step::kClear;
        g.size = zeros;
      } else if (split == 0) {  // all set
        if (zeros != 0) g.step = Group::Step::kSet;
        g.size = ones[gi];
        g.prefix |= bit;
        for (Rank& r : g.ranks) r.k -= zeros;
      } else {  // they part: the set half becomes a new group
        Group high;
        high.words.assign(chunks * kWords, 0);
        high.live.assign(chunks, 0);
        high.size = ones[gi];
        high.prefix = g.prefix | bit;
        high.ranks.assign(g.ranks.begin() + static_cast<std::ptrdiff_t>(split), g.ranks.end());
        for (Rank& r : high.ranks) r.k -= zeros;
        g.ranks.resize(split);
        g.size = zeros;
        g.step = Group::Step::kSplit;
        g.split_to = groups.size();
        groups.push_back(std::move(high));  // within the reserve: references stay valid
      }
      any_step = any_step || g.step != Group::Step::kNone;
    }
    if (!any_step) continue;

    // Pass 2: narrow (or split) each set.
    ChunkCursor again = cursor_of(slice);
    for (std::size_t i = 0; i < chunks; ++i) {
      const Chunk sc = again.seek(keys[i]);
      const uint64_t* sw = nullptr;
      for (std::size_t gi = 0; gi < n; ++gi) {
        Group& g = groups[gi];
        if (!g.live[i] || g.step == Group::Step::kNone) continue;
        uint64_t* gw = &g.words[i * kWords];
        if (!sc.present()) {  // nobody here has the bit
          if (g.step == Group::Step::kSet) g.live[i] = 0;
          continue;
        }
        if (sw == nullptr) sw = words_of(sc, scratch.get());
        if (g.step == Group::Step::kClear) {
          g.live[i] = keep_clear(gw, sw) != 0;
        } else if (g.step == Group::Step::kSet) {
          g.live[i] = keep_set(gw, sw) != 0;
        } else {
          Group& high = groups[g.split_to];
          const auto [lo_any, hi_any] = split_words(gw, &high.words[i * kWords], sw);
          g.live[i] = lo_any;
          high.live[i] = hi_any;
        }
      }
    }
  }
  for (const Group& g : groups) {
    for (const Rank& r : g.ranks) answers[r.slot] = g.prefix;
  }
}

}  // namespace

uint64_t nearest_rank(uint64_t count, uint64_t percent) {
  const uint64_t k = (count * percent + 99) / 100;
  return k == 0 ? 1 : k;
}

double mean_of(Int128 sum, uint64_t count) {
  return static_cast<double>(static_cast<long double>(sum) / static_cast<long double>(count));
}

std::optional<Bitmap> compare_attribute(const IndexView& view, std::string_view attribute, CompareOp op, int64_t low,
                                        int64_t high) {
  const auto slices = find_slices(view, attribute);
  if (!slices) return std::nullopt;
  constexpr auto to_offset_binary = AttributeSlices::to_offset_binary;
  constexpr uint64_t kMax = kAllOnes;
  uint64_t lo = 0;
  uint64_t hi = kMax;
  bool negate = false;
  switch (op) {
    case CompareOp::kLess:
      if (low == INT64_MIN) return Bitmap();
      hi = to_offset_binary(low) - 1;
      break;
    case CompareOp::kLessEqual:
      hi = to_offset_binary(low);
      break;
    case CompareOp::kGreater:
      if (low == INT64_MAX) return Bitmap();
      lo = to_offset_binary(low) + 1;
      break;
    case CompareOp::kGreaterEqual:
      lo = to_offset_binary(low);
      break;
    case CompareOp::kEqual:
      lo = hi = to_offset_binary(low);
      break;
    case CompareOp::kNotEqual:
      lo = hi = to_offset_binary(low);
      negate = true;
      break;
    case CompareOp::kBetween:
      if (low > high) return Bitmap();
      lo = to_offset_binary(low);
      hi = to_offset_binary(high);
      break;
  }
  if (lo == 0 && hi == kMax) return slices->exists->bits.clone();  // every value qualifies
  return RangeWalk(*slices, lo, hi, negate).run();
}

std::optional<AttributeStats> attribute_stats(const IndexView& view, std::string_view attribute,
                                              const roaring_bitmap_t* crowd) {
  const auto slices = find_slices(view, attribute);
  if (!slices) return std::nullopt;
  FlatSet c = flatten_crowd(*slices->exists, crowd);
  AttributeStats out;
  out.count = c.size;
  if (out.count == 0) return out;
  // Σ v = Σ u - count × 2^63 for the offset-binary u = v + 2^63.
  out.sum = static_cast<Int128>(offset_sum(*slices, c) - (static_cast<Uint128>(out.count) << 63));
  out.mean = mean_of(out.sum, out.count);

  enum Slot { kMin, kP50, kP90, kP99, kMax, kSlots };
  std::vector<Rank> ranks = {{kMin, 1},
                             {kP50, nearest_rank(out.count, 50)},
                             {kP90, nearest_rank(out.count, 90)},
                             {kP99, nearest_rank(out.count, 99)},
                             {kMax, out.count}};
  uint64_t answers[kSlots] = {};
  kth_values(*slices, std::move(c), std::move(ranks), answers);
  out.min = AttributeSlices::from_offset_binary(answers[kMin]);
  out.p50 = AttributeSlices::from_offset_binary(answers[kP50]);
  out.p90 = AttributeSlices::from_offset_binary(answers[kP90]);
  out.p99 = AttributeSlices::from_offset_binary(answers[kP99]);
  out.max = AttributeSlices::from_offset_binary(answers[kMax]);
  return out;
}

}  // namespace crowd::query
