#include "query/fused_evaluator.h"

#include <cassert>
#include <cstring>
#include <utility>

#include "query/deadline.h"

namespace crowd::query {
namespace {

constexpr std::size_t kWords = FusedScratch::kWords;

// A full chunk. Results equal to kOnes.w mean "every ordinal of the chunk"
// and short-circuit OR / AND-NOT; they come from full run containers (the
// universe of a densely populated range is one run [0, 65535]).
struct Ones {
  alignas(64) uint64_t w[kWords];
  constexpr Ones() : w() {
    for (auto& x : w) x = ~uint64_t{0};
  }
};
constexpr Ones kOnes;
const uint64_t* const kFull = kOnes.w;

// Leaves are read through ChunkCursor (index/chunk_cursor.h): keys are asked
// for in ascending order, so a query visits each leaf's key array once, and a
// tag's DenseChunks make its larger arrays read as bitsets.

// Sets (or clears) bits [begin, end) of a chunk; begin < end <= 2^16.
template <bool kSet>
inline void fill_range(uint64_t* w, uint32_t begin, uint32_t end) {
  const uint32_t first = begin >> 6;
  const uint32_t last = (end - 1) >> 6;
  const uint64_t first_mask = ~uint64_t{0} << (begin & 63);
  const uint64_t last_mask = ~uint64_t{0} >> (63 - ((end - 1) & 63));
  const auto apply = [&](uint32_t i, uint64_t mask) {
    if constexpr (kSet) {
      w[i] |= mask;
    } else {
      w[i] &= ~mask;
    }
  };
  if (first == last) {
    apply(first, first_mask & last_mask);
    return;
  }
  apply(first, first_mask);
  for (uint32_t i = first + 1; i < last; ++i) w[i] = kSet ? ~uint64_t{0} : 0;
  apply(last, last_mask);
}

// Sets (or clears) bit v of w.
template <bool kSet>
inline void flip_bit(uint64_t* w, uint32_t v) {
  if constexpr (kSet) {
    w[v >> 6] |= uint64_t{1} << (v & 63);
  } else {
    w[v >> 6] &= ~(uint64_t{1} << (v & 63));
  }
}

// Sets (or clears) the sorted members a[0, n) in w. Neighbouring members
// often share a word, and a read-modify-write of the word just written waits
// for store forwarding (~1.4 ns a member in a plain loop, CRoaring's
// bitset_set_list included); four streams a quarter of the array apart touch
// different words, so their chains overlap.
template <bool kSet>
inline void scatter_members(uint64_t* w, const uint16_t* a, std::size_t n) {
  const std::size_t q = n / 4;
  const uint16_t* s1 = a + q;
  const uint16_t* s2 = a + 2 * q;
  const uint16_t* s3 = a + 3 * q;
  for (std::size_t i = 0; i < q; ++i) {
    flip_bit<kSet>(w, a[i]);
    flip_bit<kSet>(w, s1[i]);
    flip_bit<kSet>(w, s2[i]);
    flip_bit<kSet>(w, s3[i]);
  }
  for (std::size_t i = 4 * q; i < n; ++i) flip_bit<kSet>(w, a[i]);
}

// Sets (or clears) the members of an array or run chunk in `w`.
template <bool kSet>
inline void scatter(uint64_t* w, const Chunk& c) {
  if (c.kind == ChunkKind::kArray) {
    scatter_members<kSet>(w, c.values(), static_cast<std::size_t>(c.size));
  } else {
    assert(c.kind == ChunkKind::kRun);
    const ChunkRun* runs = c.runs();
    for (int32_t i = 0; i < c.size; ++i) {
      const uint32_t begin = runs[i].value;
      fill_range<kSet>(w, begin, begin + runs[i].length + 1);
    }
  }
}

// Clears every bit of `w` outside the runs of a run chunk (an in-place AND
// with them).
inline void clear_gaps(uint64_t* w, const Chunk& c) {
  const ChunkRun* runs = c.runs();
  uint32_t next = 0;  // first value not yet known to be in a run
  for (int32_t i = 0; i < c.size; ++i) {
    const uint32_t begin = runs[i].value;
    if (begin > next) fill_range<false>(w, next, begin);
    next = begin + runs[i].length + 1;
  }
  if (next < 65536) fill_range<false>(w, next, 65536);
}

// A chunk as 1024 words: a bitset's own words (borrowed, never copied),
// kFull, or scattered into `slot`. nullptr when there is none.
inline const uint64_t* load(const Chunk& c, uint64_t* slot) {
  switch (c.kind) {
    case ChunkKind::kNone:
      return nullptr;
    case ChunkKind::kBitset:
      return c.words();
    case ChunkKind::kRun:
      if (c.full()) return kFull;
      [[fallthrough]];
    case ChunkKind::kArray:
      break;
  }
  std::memset(slot, 0, kWords * sizeof(uint64_t));
  scatter<true>(slot, c);
  return slot;
}

// Word kernels. Written as plain loops over restrict pointers so GCC
// vectorises them (AVX2: 4 words an instruction) without a runtime overlap
// check; the in-place form is separate because dst == a is the common case
// and would fail that check. Each returns the OR of the words it wrote, so an
// AND can stop at an empty chunk without a second pass.
struct AndOp {
  static uint64_t f(uint64_t a, uint64_t b) { return a & b; }
};
struct OrOp {
  static uint64_t f(uint64_t a, uint64_t b) { return a | b; }
};
struct AndNotOp {
  static uint64_t f(uint64_t a, uint64_t b) { return a & ~b; }
};

template <class Op>
uint64_t apply3(uint64_t* __restrict dst, const uint64_t* __restrict a, const uint64_t* __restrict b) {
  uint64_t any = 0;
  for (std::size_t i = 0; i < kWords; ++i) {
    const uint64_t w = Op::f(a[i], b[i]);
    dst[i] = w;
    any |= w;
  }
  return any;
}

template <class Op>
uint64_t apply2(uint64_t* __restrict dst, const uint64_t* __restrict b) {
  uint64_t any = 0;
  for (std::size_t i = 0; i < kWords; ++i) {
    const uint64_t w = Op::f(dst[i], b[i]);
    dst[i] = w;
    any |= w;
  }
  return any;
}

// dst = a op b; dst may be a, never b.
template <class Op>
inline uint64_t combine(uint64_t* dst, const uint64_t* a, const uint64_t* b) {
  assert(dst != b);
  return dst == a ? apply2<Op>(dst, b) : apply3<Op>(dst, a, b);
}

// Sorted-list filters for an AND driven by an array container: out gets the
// members of src[0, n) that are (keep) or are not (!keep) in the operand;
// out must not be src and has room for n + 8. Return the new length.
inline int32_t filter_words(const uint16_t* src, int32_t n, uint16_t* out, const uint64_t* words, bool keep) {
  // Branchless compaction: members of a 5% tag survive a 10% one at random,
  // which a branch would mispredict.
  const uint64_t flip = keep ? 0 : 1;
  std::size_t k = 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
    const uint32_t v = src[i];
    out[k] = static_cast<uint16_t>(v);
    k += ((words[v >> 6] >> (v & 63)) & 1) ^ flip;
  }
  return static_cast<int32_t>(k);
}

inline int32_t filter(const uint16_t* src, int32_t n, uint16_t* out, const Chunk& c, bool keep) {
  switch (c.kind) {
    case ChunkKind::kBitset:
      return filter_words(src, n, out, c.words(), keep);
    case ChunkKind::kArray: {
      // Sorted-list intersection or difference, as CRoaring does it for two
      // arrays: galloping when one side is 64x smaller, else SIMD. A scalar
      // merge mispredicts on every other member (it made an AND of two
      // ~1% tags and a bitset 3x slower than CRoaring operator by operator).
      const auto ns = static_cast<std::size_t>(n);
      const auto na = static_cast<std::size_t>(c.size);
      return keep ? intersect_members(src, ns, c.values(), na, out) : subtract_members(src, ns, c.values(), na, out);
    }
    default: {
      assert(c.kind == ChunkKind::kRun);
      const ChunkRun* runs = c.runs();
      int32_t j = 0;
      int32_t k = 0;
      for (int32_t i = 0; i < n; ++i) {
        const uint16_t v = src[i];
        while (j < c.size && uint32_t{runs[j].value} + runs[j].length < v) ++j;
        const bool member = j < c.size && runs[j].value <= v;
        out[k] = v;
        k += member == keep;
      }
      return k;
    }
  }
}

// Popcounts of a chunk. Four accumulators: with one, every POPCNT waits for
// the previous add (a 1-cycle chain of 1,024 links, 18% of a 5-term count);
// the CPU retires several POPCNTs a cycle when they are independent.
template <class Word>
inline uint64_t popcount_words(const Word& word) {
  uint64_t n0 = 0;
  uint64_t n1 = 0;
  uint64_t n2 = 0;
  uint64_t n3 = 0;
  for (std::size_t i = 0; i < kWords; i += 4) {
    n0 += static_cast<uint64_t>(__builtin_popcountll(word(i)));
    n1 += static_cast<uint64_t>(__builtin_popcountll(word(i + 1)));
    n2 += static_cast<uint64_t>(__builtin_popcountll(word(i + 2)));
    n3 += static_cast<uint64_t>(__builtin_popcountll(word(i + 3)));
  }
  return n0 + n1 + n2 + n3;
}

// |a OR b| without storing it (the root of an OR: one pass, not two).
inline uint64_t count_or(const uint64_t* __restrict a, const uint64_t* __restrict b) {
  return popcount_words([&](std::size_t i) { return a[i] | b[i]; });
}

inline uint64_t popcount(const uint64_t* w) {
  return popcount_words([&](std::size_t i) { return w[i]; });
}

bool is_leaf(const PlanNode& n) {
  return n.kind == PlanKind::kTag || n.kind == PlanKind::kAll || n.kind == PlanKind::kEmpty;
}

}  // namespace

bool prefers_fused(const Plan& plan) {
  const PlanNode& root = plan.root();
  switch (root.kind) {
    case PlanKind::kEmpty:
    case PlanKind::kAll:
    case PlanKind::kTag:
      return false;  // a cached cardinality
    case PlanKind::kUnion:
      // 1-2 tags: cached or one or_cardinality; a cached union: its cardinality.
      return root.union_bits.size() > 2 && !root.cached_union;
    case PlanKind::kNot:
      return !is_leaf(root.children.front());  // one andnot_cardinality against the universe
    case PlanKind::kAnd:
    case PlanKind::kOr:
    case PlanKind::kAndNot:
      if (root.children.size() > 2) return true;
      for (const PlanNode& child : root.children) {
        if (!is_leaf(child)) return true;
      }
      return false;  // one *_cardinality call of two tags
  }
  return true;
}

// One fused_count call: the flattened plan, its cursors and the scratch
// levels. eval(node, key, level) returns the node's chunk as nullptr (empty),
// kFull, a bitset container's words (borrowed), or slots_[level]; it writes
// only slots_[level] and deeper.
class FusedRun {
 public:
  FusedRun(FusedScratch& s, const IndexView& view) : s_(s), view_(view) {}

  // A run over `plan` with `scratch` flattened and sized for it.
  static FusedRun start(const Plan& plan, const IndexView& view, FusedScratch& scratch);

  // The root's members in the chunk of `key`: the root dispatched by kind
  // (and_not and or_of count their last combine instead of storing it).
  // Keys must ascend over a run (the cursors only move forward).
  uint64_t count_chunk(uint16_t key);

  void flatten(const PlanNode& p, uint32_t at) {
    FusedScratch::Node n;
    n.kind = p.kind;
    switch (p.kind) {
      case PlanKind::kEmpty:
      case PlanKind::kAll:
        break;
      case PlanKind::kTag:
        n.first = static_cast<uint32_t>(s_.cursors_.size());
        n.count = 1;
        s_.cursors_.emplace_back(p.bits, &leaf_bits(p, view_).dense());
        break;
      case PlanKind::kUnion:
        if (p.cached_union) {  // read like one tag
          n.kind = PlanKind::kTag;
          n.first = static_cast<uint32_t>(s_.cursors_.size());
          n.count = 1;
          s_.cursors_.emplace_back(p.cached_union->bits.get(), &p.cached_union->dense());
          break;
        }
        n.first = static_cast<uint32_t>(s_.cursors_.size());
        n.count = static_cast<uint32_t>(p.union_bits.size());
        for (std::size_t i = 0; i < p.union_bits.size(); ++i) {
          s_.cursors_.emplace_back(p.union_bits[i], &view_.tag(p.union_tags[i]).dense());
        }
        break;
      case PlanKind::kAnd:
      case PlanKind::kAndNot:
      case PlanKind::kOr:
      case PlanKind::kNot: {
        n.first = static_cast<uint32_t>(s_.nodes_.size());
        n.count = static_cast<uint32_t>(p.children.size());
        n.positives = p.kind == PlanKind::kAndNot ? static_cast<uint32_t>(p.positives) : n.count;
        s_.nodes_.resize(s_.nodes_.size() + n.count);
        for (uint32_t i = 0; i < n.count; ++i) flatten(p.children[i], n.first + i);
        break;
      }
    }
    s_.nodes_[at] = n;
  }

  const uint64_t* eval(uint32_t index, uint16_t key, std::size_t level) {
    const FusedScratch::Node n = s_.nodes_[index];
    switch (n.kind) {
      case PlanKind::kEmpty:
        return nullptr;
      case PlanKind::kAll:
        return load(s_.cursors_[0].seek(key), slot(level));
      case PlanKind::kTag:
        return load(s_.cursors_[n.first].seek(key), slot(level));
      case PlanKind::kUnion:
        return union_of(n, key, level);
      case PlanKind::kOr:
        return or_of(n, key, level);
      case PlanKind::kAnd:
      case PlanKind::kAndNot:
        return and_not(n, key, level);
      case PlanKind::kNot: {
        const uint64_t* inner = eval(n.first, key, level + 1);
        if (inner == kFull) return nullptr;
        const uint64_t* universe = load(s_.cursors_[0].seek(key), slot(level));
        if (universe == nullptr || inner == nullptr) return universe;
        combine<AndNotOp>(slot(level), universe, inner);
        return slot(level);
      }
    }
    return nullptr;
  }

 private:
  uint64_t* slot(std::size_t level) { return s_.slots_[level]; }

  // A child's result (evaluated at level + 1) made safe to hold while level
  // + 1 is reused by the next child: if it lives in that slot, the two
  // levels trade blocks (a pointer swap, not a copy).
  const uint64_t* keep(const uint64_t* r, std::size_t level) {
    if (r == s_.slots_[level + 1]) std::swap(s_.slots_[level], s_.slots_[level + 1]);
    return r;
  }

  const uint64_t* union_of(const FusedScratch::Node& n, uint16_t key, std::size_t level) {
    uint64_t* dst = slot(level);
    const uint64_t* acc = nullptr;
    for (uint32_t i = n.first; i < n.first + n.count; ++i) {
      const Chunk c = s_.cursors_[i].seek(key);
      if (!c.present()) continue;
      if (c.kind == ChunkKind::kBitset) {
        const uint64_t* words = c.words();
        if (acc == nullptr) {
          acc = words;  // borrowed until a second member arrives
        } else {
          combine<OrOp>(dst, acc, words);
          acc = dst;
        }
        continue;
      }
      if (c.full()) return kFull;
      if (acc != dst) {
        if (acc == nullptr) {
          std::memset(dst, 0, kWords * sizeof(uint64_t));
        } else {
          std::memcpy(dst, acc, kWords * sizeof(uint64_t));
        }
        acc = dst;
      }
      scatter<true>(dst, c);
    }
    return acc;
  }

  // With `count` (the root), the last combine is counted instead of stored:
  // *count gets |acc OR r| and nullptr is returned; *count is left alone
  // when the chunk comes back as words or kFull.
  const uint64_t* or_of(const FusedScratch::Node& n, uint16_t key, std::size_t level, uint64_t* count = nullptr) {
    const uint64_t* acc = nullptr;
    const uint32_t end = n.first + n.count;
    for (uint32_t i = n.first; i < end; ++i) {
      const FusedScratch::Node& child = s_.nodes_[i];
      const uint64_t* r = nullptr;
      if (acc == slot(level) && (child.kind == PlanKind::kAnd || child.kind == PlanKind::kAndNot)) {
        // An AND driven by a sparse array may set its survivors straight
        // into acc: no zeroed scratch block and no OR pass over it.
        r = and_not(child, key, level + 1, nullptr, slot(level));
        if (r == slot(level)) continue;
      } else {
        r = eval(i, key, level + 1);
      }
      if (r == nullptr) continue;
      if (r == kFull) return kFull;
      if (acc == nullptr) {
        acc = keep(r, level);
        continue;
      }
      if (count != nullptr && i + 1 == end) {
        *count = count_or(acc, r);
        return nullptr;
      }
      combine<OrOp>(slot(level), acc, r);
      acc = slot(level);
    }
    return acc;
  }

 public:
  // kAnd (every child positive) and kAndNot. With `count`, an AND driven by
  // an array may store its size there instead of building its chunk (and
  // then returns nullptr); *count is left alone otherwise.
  // With `or_into` (words the caller owns), an AND driven by an array ORs its
  // survivors into them and returns or_into; otherwise or_into is untouched.
  const uint64_t* and_not(const FusedScratch::Node& n, uint16_t key, std::size_t level, uint64_t* count = nullptr,
                          uint64_t* or_into = nullptr) {
    const uint32_t end = n.first + n.count;
    const uint32_t negatives = n.first + n.positives;
    // A positive tag with no container here empties the chunk: look before
    // evaluating anything (the cursor step is kept for the real visit).
    uint32_t driver = 0;
    Chunk driver_array;  // kNone until an array is seen
    for (uint32_t i = n.first; i < negatives; ++i) {
      const FusedScratch::Node& child = s_.nodes_[i];
      if (child.kind == PlanKind::kEmpty) return nullptr;
      if (child.kind != PlanKind::kTag) continue;
      const Chunk c = s_.cursors_[child.first].seek(key);
      if (!c.present()) return nullptr;
      if (c.kind == ChunkKind::kArray && (!driver_array.present() || c.size < driver_array.size)) {
        driver = i;
        driver_array = c;
      }
    }
    if (driver_array.present()) return and_from_array(n, key, level, driver, driver_array, count, or_into);
    const uint64_t* acc = kFull;  // the AND identity
    for (uint32_t i = n.first; i < negatives; ++i) {
      const FusedScratch::Node& child = s_.nodes_[i];
      if (child.kind == PlanKind::kTag && acc != kFull) {
        // A run container after the first operand: clear its gaps in the
        // accumulator (O(words in gaps)) rather than fill a scratch bitset
        // and AND it word by word (three passes over 8 KiB).
        const Chunk c = s_.cursors_[child.first].seek(key);
        if (c.kind == ChunkKind::kRun) {
          if (c.full()) continue;
          if (acc != slot(level)) {
            std::memcpy(slot(level), acc, kWords * sizeof(uint64_t));
            acc = slot(level);
          }
          clear_gaps(slot(level), c);
          continue;
        }
      }
      const uint64_t* r = eval(i, key, level + 1);
      if (r == nullptr) return nullptr;
      if (r == kFull) continue;
      if (acc == kFull) {
        acc = keep(r, level);
        continue;
      }
      if (combine<AndOp>(slot(level), acc, r) == 0) return nullptr;
      acc = slot(level);
    }
    // keep() may have traded slots: only now is slot(level) fixed.
    uint64_t* dst = slot(level);
    for (uint32_t i = negatives; i < end; ++i) {
      const FusedScratch::Node& child = s_.nodes_[i];
      if (child.kind == PlanKind::kTag) {
        // A sparse negative is cheaper cleared bit by bit than scattered
        // into a scratch bitset and then subtracted word by word.
        const Chunk c = s_.cursors_[child.first].seek(key);
        if (!c.present()) continue;
        if (c.kind != ChunkKind::kBitset && !c.full()) {
          if (acc != dst) {
            std::memcpy(dst, acc, kWords * sizeof(uint64_t));
            acc = dst;
          }
          scatter<false>(dst, c);
          continue;
        }
      }
      const uint64_t* r = eval(i, key, level + 1);
      if (r == nullptr) continue;
      if (r == kFull) return nullptr;
      if (combine<AndNotOp>(dst, acc, r) == 0) return nullptr;
      acc = dst;
    }
    return acc;
  }

 private:
  // and_not() when a positive operand is an array container (at most 4,096
  // members): filter its members through every other operand, then scatter
  // the survivors. Loading the array into a bitset instead costs a scatter of
  // every member (~1.4 ns each, store-forwarding bound) plus a word pass per
  // operand; filtering costs ~1 load per member per operand and stops when
  // nothing survives.
  const uint64_t* and_from_array(const FusedScratch::Node& n, uint16_t key, std::size_t level, uint32_t driver,
                                 const Chunk& driver_array, uint64_t* count, uint64_t* or_into) {
    // Survivors go back and forth between the level's two lists.
    uint16_t* lists[2] = {s_.lists_[level][0].data(), s_.lists_[level][1].data()};
    std::size_t next = 0;
    const uint16_t* src = driver_array.values();
    int32_t size = driver_array.size;
    const uint32_t negatives = n.first + n.positives;
    for (uint32_t i = n.first; i < n.first + n.count && size > 0; ++i) {
      if (i == driver) continue;
      const bool keep = i < negatives;
      const FusedScratch::Node& child = s_.nodes_[i];
      if (child.kind == PlanKind::kTag) {
        const Chunk c = s_.cursors_[child.first].seek(key);
        if (!c.present()) continue;  // a positive tag was checked to be here
        size = filter(src, size, lists[next], c, keep);
      } else {
        const uint64_t* r = eval(i, key, level + 1);
        if (r == nullptr) {
          if (keep) return nullptr;
          continue;
        }
        if (r == kFull) {
          if (!keep) return nullptr;
          continue;
        }
        size = filter_words(src, size, lists[next], r, keep);
      }
      src = lists[next];
      next ^= 1;
    }
    if (size == 0) return nullptr;
    if (count != nullptr) {
      *count = static_cast<uint64_t>(size);
      return nullptr;
    }
    if (or_into != nullptr) {
      scatter_members<true>(or_into, src, static_cast<std::size_t>(size));
      return or_into;
    }
    uint64_t* dst = slot(level);
    std::memset(dst, 0, kWords * sizeof(uint64_t));
    scatter_members<true>(dst, src, static_cast<std::size_t>(size));
    return dst;
  }

  FusedScratch& s_;
  const IndexView& view_;
};

FusedRun FusedRun::start(const Plan& plan, const IndexView& view, FusedScratch& scratch) {
  assert(&plan.view() == &view && "a plan must be evaluated against the view it was compiled for");

  // Flatten the plan (vectors keep their capacity: no allocation once warm).
  scratch.nodes_.clear();
  scratch.cursors_.clear();
  scratch.cursors_.emplace_back(view.universe().bits.get());
  scratch.nodes_.emplace_back();
  FusedRun run(scratch, view);
  run.flatten(plan.root(), 0);

  // eval at level k writes slots k and k+1 at most; levels go to depth - 1.
  const std::size_t levels = plan.depth() + 2;
  if (scratch.blocks_.size() < levels) scratch.blocks_.resize(levels);
  scratch.slots_.clear();
  for (auto& b : scratch.blocks_) scratch.slots_.push_back(b.words);
  if (scratch.lists_.size() < levels) scratch.lists_.resize(levels);
  return run;
}

uint64_t FusedRun::count_chunk(uint16_t key) {
  const FusedScratch::Node root = s_.nodes_[0];
  uint64_t counted = 0;
  const uint64_t* r = root.kind == PlanKind::kAnd || root.kind == PlanKind::kAndNot ? and_not(root, key, 0, &counted)
                      : root.kind == PlanKind::kOr                                 ? or_of(root, key, 0, &counted)
                                                                                   : eval(0, key, 0);
  if (r == nullptr) return counted;
  return counted + (r == kFull ? uint64_t{1} << 16 : popcount(r));
}

uint64_t fused_count(const Plan& plan, const IndexView& view, FusedScratch& scratch) {
  FusedRun run = FusedRun::start(plan, view, scratch);
  uint64_t total = 0;
  DeadlineTicker<16> deadline;  // 16 chunks: 1M users, ~5 us of the cheapest plans
  for (ChunkCursor universe(view.universe().bits.get()); !universe.done(); universe.advance()) {
    deadline.tick();
    total += run.count_chunk(universe.key());
  }
  return total;
}

void fused_count_chunks(const Plan& plan, const IndexView& view, FusedScratch& scratch,
                        std::span<const uint16_t> keys, std::span<uint64_t> counts) {
  assert(keys.size() == counts.size());
  FusedRun run = FusedRun::start(plan, view, scratch);
  DeadlineTicker<16> deadline;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    assert(i == 0 || keys[i - 1] < keys[i]);
    deadline.tick();
    counts[i] = run.count_chunk(keys[i]);
  }
}

void fused_collect(const Plan& plan, const IndexView& view, FusedScratch& scratch, Ordinal from, std::size_t limit,
                   std::vector<Ordinal>& out) {
  out.clear();
  if (limit == 0) return;
  FusedRun run = FusedRun::start(plan, view, scratch);
  DeadlineTicker<16> deadline;
  for (ChunkCursor universe(view.universe().bits.get()); !universe.done(); universe.advance()) {
    deadline.tick();
    const uint16_t key = universe.key();
    if (key < (from >> 16)) continue;
    const uint64_t* r = run.eval(0, key, 0);
    if (r == nullptr) continue;
    const uint32_t base = uint32_t{key} << 16;
    const uint32_t low = key == (from >> 16) ? (from & 0xFFFF) : 0;
    for (uint32_t w = low >> 6; w < kWords; ++w) {
      uint64_t bits = r == kFull ? ~uint64_t{0} : r[w];
      if (w == (low >> 6)) bits &= ~uint64_t{0} << (low & 63);
      while (bits != 0) {
        out.push_back(base + w * 64 + static_cast<uint32_t>(__builtin_ctzll(bits)));
        if (out.size() == limit) return;
        bits &= bits - 1;
      }
    }
  }
}

}  // namespace crowd::query
