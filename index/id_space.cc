#include "index/id_space.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>
#include <stdexcept>

#include "index/string_hash.h"

namespace crowd {
namespace {

// A bucket is one cache line: a probe that finds its tag in the home bucket
// (nearly all of them at 53-70% load) reads one line of the table. Twelve
// 4-byte ordinals and their 12 control bytes fill 60 of its 64 bytes; groups
// of 8 slots in 40-byte groups would cost the same 5 bytes a slot but put half
// the groups across two lines.
constexpr std::size_t kBucketSlots = 12;
struct alignas(64) Bucket {
  uint64_t ctrl[2];  // control bytes of slots 0-7, then 8-11, 2 bytes unused, the overflow count
  uint32_t ord[kBucketSlots];
};
static_assert(sizeof(Bucket) == 64);

// Control bytes. Empty is 0, so a fresh range and one given back to the
// kernel read as an empty table. A full slot holds 2 + (the hash's low byte
// mod 254): a probe's false matches, each two cache misses (the ordinal's
// head, its record), are 1 in 254 full slots.
constexpr uint8_t kDeleted = 0x01;
constexpr uint64_t kLsbs = 0x0101010101010101ULL;
constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;
constexpr uint64_t kMsbs = 0x8080808080808080ULL;
constexpr uint64_t kWord1Slots = 0x0000000080808080ULL;  // the bytes of slots 8-11
// The top byte of ctrl[1] counts the keys stored past this bucket whose probe
// passed it (saturating at 255, never decreased until a rebuild). A probe
// ends at the first bucket whose count is 0, so a miss reads one line unless
// its home bucket overflowed. Ending at a bucket with an empty slot instead
// read 1.73 lines a miss at 75% load, 1.52 with the count (a bucket is often
// full without having sent anything further).
constexpr unsigned kOverflowShift = 56;

// Grow (or purge tombstones) past 70% of the slots, to at most 60%, in size
// classes 1.125x apart: the load stays in 53-70%, 7.6-10 bytes a key at 5.33
// bytes a slot, within the budget of 8-byte keys (10.4 bytes a key left for
// the hash). Misses are load-sensitive past that: at 10M keys a miss read
// 1.07 buckets at 64% load but 1.52 at 75% (~105 vs ~145 ns). The price is a
// rebuild every ~17% of growth, ~6 re-inserts a link amortised, ~20 ns each
// (prefetched): 10M links take ~380 ns each, ~230 after reserve().
constexpr std::size_t kMaxFillNum = 70, kMaxFillDen = 100;
constexpr std::size_t kTargetFillNum = 60, kTargetFillDen = 100;
constexpr uint64_t kMaxBuckets = uint64_t{1} << 29;

// 0x80 in every byte of x that is zero, 0 elsewhere. Exact: no carry crosses
// a byte (the SWAR "has zero byte" shortcut flags a 0x01 above a zero too).
uint64_t zero_bytes(uint64_t x) { return ~(((x & kLow7) + kLow7) | x | kLow7); }

uint64_t load(const uint64_t& w, std::memory_order m) {
  return std::atomic_ref<uint64_t>(const_cast<uint64_t&>(w)).load(m);
}
uint32_t load(const uint32_t& w, std::memory_order m) {
  return std::atomic_ref<uint32_t>(const_cast<uint32_t&>(w)).load(m);
}
void store(uint64_t& w, uint64_t v, std::memory_order m) { std::atomic_ref<uint64_t>(w).store(v, m); }
void store(uint32_t& w, uint32_t v, std::memory_order m) { std::atomic_ref<uint32_t>(w).store(v, m); }

uint64_t hash_key(std::string_view key) { return StringHash{}(key); }
uint64_t tag_of(uint64_t h) { return 2 + (h & 0xff) % 254; }
// The top 32 bits pick the home bucket (multiply-shift: any bucket count),
// the low 8 the tag.
std::size_t home_of(uint64_t h, uint32_t buckets) { return static_cast<std::size_t>(((h >> 32) * buckets) >> 32); }

uint64_t overflow_of(uint64_t ctrl1) { return ctrl1 >> kOverflowShift; }

void count_overflow(Bucket& b, std::memory_order m) {
  const uint64_t c = load(b.ctrl[1], std::memory_order_relaxed);
  if (overflow_of(c) != 0xff) store(b.ctrl[1], c + (uint64_t{1} << kOverflowShift), m);
}

// Sets slot s's control byte (writer only; release, so a reader who sees the
// byte sees the ordinal and the record list written before it).
void set_ctrl(Bucket& b, unsigned s, uint64_t byte) {
  uint64_t& w = b.ctrl[s / 8];
  const unsigned shift = (s % 8) * 8;
  store(w, (load(w, std::memory_order_relaxed) & ~(uint64_t{0xff} << shift)) | byte << shift,
        std::memory_order_release);
}

// Memory comes straight from mmap, zeroed, in 2 MiB-aligned blocks advised
// to use transparent huge pages: every find touches three random places
// (bucket, head, record) in hundreds of MB, and with 4 KiB pages each was a
// TLB miss as well as a cache miss (find hit/miss at 10M 8-byte keys: 497/257
// ns of CPU with 4 KiB pages, 301/171 with huge pages, same run conditions).
constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kChunkBytes = kHugePage;

std::size_t table_bytes(uint32_t buckets) {
  static const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const std::size_t bytes = std::size_t{buckets} * sizeof(Bucket);
  return bytes >= kHugePage ? (bytes + kHugePage - 1) / kHugePage * kHugePage : (bytes + page - 1) / page * page;
}

void* map(std::size_t bytes) {
  if (bytes < kHugePage) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return p;
  }
  // Over-map by a huge page, then trim to an aligned start.
  void* raw =
      mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) & ~(uintptr_t{kHugePage} - 1);
  if (aligned > start) munmap(raw, aligned - start);
  if (const uintptr_t end = start + bytes + kHugePage; end > aligned + bytes) {
    munmap(reinterpret_cast<void*>(aligned + bytes), end - aligned - bytes);
  }
  auto* p = reinterpret_cast<void*>(aligned);
  madvise(p, bytes, MADV_HUGEPAGE);  // advice only: without THP, 4 KiB pages
  return p;
}

void unmap(void* p, std::size_t bytes) {
  if (p != nullptr) munmap(p, bytes);
}

// The size classes: 64, 72, 80, ... 120, 128, 144, ... buckets, eight steps
// an octave; the smallest holding n keys at the target fill.
uint32_t buckets_for(std::size_t n) {
  for (uint64_t base = 8; base * 8 <= kMaxBuckets; base *= 2) {
    for (uint64_t m = 8; m <= 15; ++m) {
      const uint64_t b = base * m;
      if (b * kBucketSlots * kTargetFillNum >= uint64_t{n} * kTargetFillDen) return static_cast<uint32_t>(b);
    }
  }
  throw std::length_error("IdSpace: too many keys");
}

bool over_max_fill(std::size_t used, uint32_t buckets) {
  return used * kMaxFillDen > std::size_t{buckets} * kBucketSlots * kMaxFillNum;
}

}  // namespace

// Where a key is, or where it would go: the writer's probe.
struct IdSpace::Spot {
  std::optional<Ordinal> owner;
  std::size_t bucket = 0;  // first free slot on the probe path
  unsigned slot = 0;
  bool empty = false;  // that slot is empty (not a tombstone)
  bool free = false;
};

IdSpace::IdSpace(std::size_t key_bytes)
    : key_bytes_(key_bytes),
      heads_(new std::atomic<uint32_t*>[kHeadChunkCount]),
      arena_(new std::atomic<uint32_t*>[kArenaChunkCount]) {
  static_assert(kHeadChunkSize * sizeof(uint32_t) == kChunkBytes && kArenaChunkWords * sizeof(uint32_t) == kChunkBytes);
  if (key_bytes > kMaxVariableKey) throw std::invalid_argument("IdSpace: fixed key width above 255 bytes");
  for (std::size_t i = 0; i < kHeadChunkCount; ++i) heads_[i].store(nullptr, std::memory_order_relaxed);
  for (std::size_t i = 0; i < kArenaChunkCount; ++i) arena_[i].store(nullptr, std::memory_order_relaxed);
}

IdSpace::~IdSpace() {
  for (std::size_t i = 0; i < kHeadChunkCount; ++i) unmap(heads_[i].load(std::memory_order_relaxed), kChunkBytes);
  for (std::size_t i = 0; i < kArenaChunkCount; ++i) unmap(arena_[i].load(std::memory_order_relaxed), kChunkBytes);
  for (std::size_t i = 0; i < ranges_used_; ++i) unmap(ranges_[i].base, table_bytes(ranges_[i].buckets));
}

bool IdSpace::owns(Ordinal o, std::string_view key) const {
  for (uint32_t r = head(o); r != kNoRecord; r = next(r)) {
    if (key_of(r) == key) return true;
  }
  return false;
}

std::optional<Ordinal> IdSpace::probe(const Range& t, uint64_t h, std::string_view key) const {
  const auto* buckets = static_cast<const Bucket*>(t.base);
  const uint64_t pattern = kLsbs * tag_of(h);
  // A tag match is confirmed against the slot's ordinal's keys. The key's
  // own slot names, at every instant, an ordinal whose list holds the key:
  // relink_all copies it to the new owner, then retargets the slot, then
  // clears the old list. But the slot is read before the list: if the key
  // moved away meanwhile, the confirmation fails -- and re-reading the slot
  // is no proof, as the key may have moved back (A -> B -> A; the ABA test).
  // So a failure counts only if no merge cleared a list meanwhile.
  const auto confirm = [&](const uint32_t& slot) -> std::optional<Ordinal> {
    for (;;) {
      const uint64_t moves = moves_.load(std::memory_order_acquire);
      const Ordinal o = load(slot, std::memory_order_acquire);
      if (owns(o, key)) return o;
      if (moves_.load(std::memory_order_acquire) == moves) return std::nullopt;
    }
  };
  std::size_t i = home_of(h, t.buckets);
  for (uint32_t n = 0; n < t.buckets; ++n) {
    const Bucket& b = buckets[i];
    const uint64_t c0 = load(b.ctrl[0], std::memory_order_acquire);
    const uint64_t c1 = load(b.ctrl[1], std::memory_order_acquire);
    for (uint64_t m = zero_bytes(c0 ^ pattern); m != 0; m &= m - 1) {
      if (auto o = confirm(b.ord[std::countr_zero(m) / 8])) return o;
    }
    for (uint64_t m = zero_bytes(c1 ^ pattern) & kWord1Slots; m != 0; m &= m - 1) {
      if (auto o = confirm(b.ord[8 + std::countr_zero(m) / 8])) return o;
    }
    if (overflow_of(c1) == 0) break;
    if (++i == t.buckets) i = 0;
  }
  return std::nullopt;
}

std::optional<Ordinal> IdSpace::find(std::string_view key) const {
  if (!valid_length(key.size())) return std::nullopt;
  const uint64_t h = hash_key(key);
  for (;;) {
    // Generation first: a reader who loads the table published before a
    // retirement also loaded the generation before it.
    const uint64_t generation = generation_.load(std::memory_order_acquire);
    const uint32_t t = current_.load(std::memory_order_acquire);
    if (t == kNoTable) return std::nullopt;
    if (auto o = probe(ranges_[t], h, key)) return o;
    // A miss in a table retired meanwhile (read as zeros, or as a newer table
    // of its size) proves nothing: start over on the current one.
    if (generation_.load(std::memory_order_acquire) == generation) return std::nullopt;
  }
}

void IdSpace::find_many(std::span<const std::string_view> keys, std::span<std::optional<Ordinal>> out) const {
  if (out.size() != keys.size()) throw std::invalid_argument("IdSpace::find_many: out.size() != keys.size()");
  for (std::size_t start = 0; start < keys.size(); start += kFindManyGroup) {
    const std::size_t n = std::min(kFindManyGroup, keys.size() - start);
    find_group(keys.subspan(start, n), out.subspan(start, n));
  }
}

// The prefetch stages only read (atomically: the writer may be at work) to
// choose what to prefetch; a stale, zeroed or newer bucket makes a useless
// prefetch, never a wrong answer. The answers are probe()'s, as in find():
// a hit is confirmed against its owner's list; a miss counts only if the
// generation loaded before the table is still current after the key's probe,
// else find() asks again on the current table.
void IdSpace::find_group(std::span<const std::string_view> keys, std::span<std::optional<Ordinal>> out) const {
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  const uint32_t t = current_.load(std::memory_order_acquire);
  if (t == kNoTable) {
    std::fill(out.begin(), out.end(), std::nullopt);
    return;
  }
  const Range& table = ranges_[t];
  const auto* buckets = static_cast<const Bucket*>(table.base);
  const std::size_t n = keys.size();
  uint64_t hashes[kFindManyGroup];
  std::size_t homes[kFindManyGroup];
  Ordinal owners[kFindManyGroup];
  bool candidate[kFindManyGroup];
  // 1. Hashes; home buckets prefetched.
  for (std::size_t i = 0; i < n; ++i) {
    if (!valid_length(keys[i].size())) continue;
    hashes[i] = hash_key(keys[i]);
    homes[i] = home_of(hashes[i], table.buckets);
    __builtin_prefetch(&buckets[homes[i]]);
  }
  // 2. The first tag match in the home bucket: its owner's head prefetched.
  // No match in an overflowed bucket: the next one prefetched.
  for (std::size_t i = 0; i < n; ++i) {
    candidate[i] = false;
    if (!valid_length(keys[i].size())) continue;
    const Bucket& b = buckets[homes[i]];
    const uint64_t pattern = kLsbs * tag_of(hashes[i]);
    const uint64_t c0 = load(b.ctrl[0], std::memory_order_relaxed);
    const uint64_t c1 = load(b.ctrl[1], std::memory_order_relaxed);
    const uint64_t m0 = zero_bytes(c0 ^ pattern), m1 = zero_bytes(c1 ^ pattern) & kWord1Slots;
    if (m0 == 0 && m1 == 0) {
      if (overflow_of(c1) != 0) __builtin_prefetch(&buckets[homes[i] + 1 == table.buckets ? 0 : homes[i] + 1]);
      continue;
    }
    const unsigned s = m0 != 0 ? static_cast<unsigned>(std::countr_zero(m0)) / 8
                               : 8 + static_cast<unsigned>(std::countr_zero(m1)) / 8;
    owners[i] = load(b.ord[s], std::memory_order_relaxed);
    const uint32_t* chunk = heads_[owners[i] >> kHeadChunkBits].load(std::memory_order_acquire);
    if (chunk == nullptr) continue;
    __builtin_prefetch(chunk + (owners[i] & (kHeadChunkSize - 1)));
    candidate[i] = true;
  }
  // 3. The owner's first record prefetched: both ends, as a record may
  // straddle two lines.
  const std::size_t record_bytes = 4 + (key_bytes_ != 0 ? key_bytes_ : 1);
  for (std::size_t i = 0; i < n; ++i) {
    if (!candidate[i]) continue;
    const uint32_t r = head(owners[i]);
    if (r == kNoRecord) continue;
    // Addresses as integers: for a variable key the record's length is not
    // known yet, and the guess (the key's) may point past its chunk.
    const auto rec = reinterpret_cast<uintptr_t>(record(r));
    __builtin_prefetch(reinterpret_cast<const void*>(rec));
    __builtin_prefetch(reinterpret_cast<const void*>(rec + record_bytes + (key_bytes_ != 0 ? 0 : keys[i].size()) - 1));
  }
  // 4. The probes proper.
  for (std::size_t i = 0; i < n; ++i) {
    if (!valid_length(keys[i].size())) {
      out[i] = std::nullopt;
      continue;
    }
    out[i] = probe(table, hashes[i], keys[i]);
    if (!out[i] && generation_.load(std::memory_order_acquire) != generation) out[i] = find(keys[i]);
  }
}

IdSpace::Spot IdSpace::locate(uint64_t h, std::string_view key) const {
  Spot spot;
  bool searching = true;
  const Range& t = ranges_[current_.load(std::memory_order_relaxed)];
  auto* buckets = static_cast<const Bucket*>(t.base);
  const uint64_t pattern = kLsbs * tag_of(h);
  std::size_t i = home_of(h, t.buckets);
  for (uint32_t n = 0; n < t.buckets; ++n) {
    const Bucket& b = buckets[i];
    const uint64_t c[2] = {load(b.ctrl[0], std::memory_order_relaxed), load(b.ctrl[1], std::memory_order_relaxed)};
    const uint64_t valid[2] = {kMsbs, kWord1Slots};
    for (unsigned w = 0; w < 2 && searching; ++w) {
      for (uint64_t m = zero_bytes(c[w] ^ pattern) & valid[w]; m != 0; m &= m - 1) {
        const Ordinal o = load(b.ord[w * 8 + std::countr_zero(m) / 8], std::memory_order_relaxed);
        if (owns(o, key)) {
          spot.owner = o;
          return spot;
        }
      }
    }
    for (unsigned w = 0; w < 2 && !spot.free; ++w) {
      // Empty (0x00) and deleted (0x01) are the bytes below 2.
      if (const uint64_t m = zero_bytes(c[w] & ~kLsbs) & valid[w]; m != 0) {
        const auto byte = static_cast<unsigned>(std::countr_zero(m)) / 8;
        spot = Spot{std::nullopt, i, w * 8 + byte, ((c[w] >> (byte * 8)) & 0xff) == 0, true};
      }
    }
    if (overflow_of(c[1]) == 0) searching = false;  // the key is not further on
    if (!searching && spot.free) break;
    if (++i == t.buckets) i = 0;
  }
  return spot;
}

uint32_t& IdSpace::head_slot(Ordinal o) {
  auto& chunk = heads_[o >> kHeadChunkBits];
  uint32_t* heads = chunk.load(std::memory_order_relaxed);
  if (heads == nullptr) {
    heads = static_cast<uint32_t*>(map(kChunkBytes));  // zeros: no keys
    chunk.store(heads, std::memory_order_release);
    chunk_bytes_.fetch_add(kChunkBytes, std::memory_order_relaxed);
  }
  return heads[o & (kHeadChunkSize - 1)];
}

uint32_t IdSpace::append_record(std::string_view key) {
  const std::size_t key_words = key_bytes_ != 0 ? (key_bytes_ + 3) / 4 : (key.size() + 1 + 3) / 4;
  const std::size_t words = 1 + key_words;
  std::size_t c = arena_chunk_, w = arena_word_;
  if (w + words > kArenaChunkWords) {
    ++c;
    w = 0;
  }
  if (c >= kArenaChunkCount) throw std::length_error("IdSpace: more than 16 GiB of key records");
  uint32_t* chunk = arena_[c].load(std::memory_order_relaxed);
  if (chunk == nullptr) {
    chunk = static_cast<uint32_t*>(map(kChunkBytes));
    // Published before any reference into it.
    arena_[c].store(chunk, std::memory_order_release);
    chunk_bytes_.fetch_add(kChunkBytes, std::memory_order_relaxed);
  }
  uint32_t* rec = chunk + w;
  store(rec[0], kNoRecord, std::memory_order_relaxed);
  auto* bytes = reinterpret_cast<char*>(rec + 1);
  if (key_bytes_ == 0) *bytes++ = static_cast<char>(key.size());
  std::memcpy(bytes, key.data(), key.size());
  arena_chunk_ = c;
  arena_word_ = w + words;
  return static_cast<uint32_t>(c << kArenaChunkBits | w);
}

void IdSpace::append_to_list(Ordinal o, uint32_t r) {
  uint32_t& first = head_slot(o);
  const uint32_t h = load(first, std::memory_order_relaxed);
  if (h == kNoRecord) {
    store(first, r, std::memory_order_release);
    return;
  }
  const auto it = tails_.find(o);
  const uint32_t tail = it == tails_.end() ? h : it->second;
  store(*const_cast<uint32_t*>(record(tail)), r, std::memory_order_release);
  if (it == tails_.end()) {
    tails_.emplace(o, r);
    update_tail_bytes();
  } else {
    it->second = r;
  }
}

void IdSpace::update_tail_bytes() {
  // boost::unordered_flat_map: the slots, plus ~1 byte of group metadata each.
  tail_bytes_.store(tails_.bucket_count() * (sizeof(std::pair<const Ordinal, uint32_t>) + 1),
                    std::memory_order_relaxed);
}

bool IdSpace::link(std::string_view key, Ordinal o) {
  if (!valid_length(key.size())) return false;
  const std::optional<Ordinal> owner = insert(hash_key(key), key, o);
  return !owner || *owner == o;
}

std::size_t IdSpace::link_many(std::span<const std::string_view> keys, std::span<const Ordinal> owners) {
  if (owners.size() != keys.size()) throw std::invalid_argument("IdSpace::link_many: owners.size() != keys.size()");
  const std::size_t n = keys.size();
  // A ring of the hashes of the next kLinkManyAhead keys. Prefetches only:
  // a rebuild meanwhile makes some useless, never a wrong link.
  uint64_t hashes[kLinkManyAhead];
  const auto ahead = [&](std::size_t i) {
    const uint64_t h = hash_key(keys[i]);
    hashes[i % kLinkManyAhead] = h;
    const uint32_t t = current_.load(std::memory_order_relaxed);
    if (t != kNoTable) {
      const Range& table = ranges_[t];
      __builtin_prefetch(&static_cast<const Bucket*>(table.base)[home_of(h, table.buckets)], 1);
    }
    if (const uint32_t* chunk = heads_[owners[i] >> kHeadChunkBits].load(std::memory_order_relaxed)) {
      __builtin_prefetch(chunk + (owners[i] & (kHeadChunkSize - 1)), 1);
    }
  };
  for (std::size_t i = 0; i < std::min(n, kLinkManyAhead); ++i) ahead(i);
  for (std::size_t i = 0; i < n; ++i) {
    const uint64_t h = hashes[i % kLinkManyAhead];
    if (i + kLinkManyAhead < n) ahead(i + kLinkManyAhead);
    if (!valid_length(keys[i].size()) || insert(h, keys[i], owners[i])) return i;
  }
  return n;
}

std::optional<Ordinal> IdSpace::insert(uint64_t h, std::string_view key, Ordinal o) {
  const uint32_t t = current_.load(std::memory_order_relaxed);
  Spot spot;
  if (t != kNoTable) {
    spot = locate(h, key);
    if (spot.owner) return spot.owner;
  }
  if (t == kNoTable || over_max_fill(used_ + 1, ranges_[t].buckets)) {
    rebuild(buckets_for(size() + 1));
    spot = locate(h, key);
  }
  // The record joins o's list before its slot is published: a reader who
  // finds the slot finds the key among o's.
  append_to_list(o, append_record(key));
  const Range& table = ranges_[current_.load(std::memory_order_relaxed)];
  auto* buckets = static_cast<Bucket*>(table.base);
  for (std::size_t i = home_of(h, table.buckets); i != spot.bucket; i = i + 1 == table.buckets ? 0 : i + 1) {
    count_overflow(buckets[i], std::memory_order_release);
  }
  Bucket& b = buckets[spot.bucket];
  store(b.ord[spot.slot], o, std::memory_order_relaxed);
  set_ctrl(b, spot.slot, tag_of(h));
  if (spot.empty) ++used_;
  size_.store(size() + 1, std::memory_order_relaxed);
  return std::nullopt;
}

// Calls change(bucket, slot) for every full slot on the key's probe path with
// its tag and `owner`: the key's own slot, and maybe another key of the same
// owner with the same tag -- harmless, since callers change all of the
// owner's keys (the slot does not say which of its owner's keys it holds).
template <class Change>
void IdSpace::change_slots(std::string_view key, Ordinal owner, const Change& change) {
  const uint64_t h = hash_key(key);
  const Range& t = ranges_[current_.load(std::memory_order_relaxed)];
  auto* buckets = static_cast<Bucket*>(t.base);
  const uint64_t pattern = kLsbs * tag_of(h);
  std::size_t i = home_of(h, t.buckets);
  for (uint32_t n = 0; n < t.buckets; ++n) {
    Bucket& b = buckets[i];
    const uint64_t c[2] = {load(b.ctrl[0], std::memory_order_relaxed), load(b.ctrl[1], std::memory_order_relaxed)};
    const uint64_t valid[2] = {kMsbs, kWord1Slots};
    for (unsigned w = 0; w < 2; ++w) {
      for (uint64_t m = zero_bytes(c[w] ^ pattern) & valid[w]; m != 0; m &= m - 1) {
        const unsigned s = w * 8 + static_cast<unsigned>(std::countr_zero(m)) / 8;
        if (load(b.ord[s], std::memory_order_relaxed) == owner) change(b, s);
      }
    }
    if (overflow_of(c[1]) == 0) return;
    if (++i == t.buckets) i = 0;
  }
}

std::size_t IdSpace::unlink_all(Ordinal o) {
  const uint32_t first = head(o);
  if (first == kNoRecord) return 0;
  std::size_t n = 0;
  for (uint32_t r = first; r != kNoRecord; r = next(r), ++n) {
    change_slots(key_of(r), o, [](Bucket& b, unsigned s) { set_ctrl(b, s, kDeleted); });
  }
  // The records stay: a reader walking the list still reaches its end.
  store(head_slot(o), kNoRecord, std::memory_order_release);
  if (tails_.erase(o) != 0) update_tail_bytes();
  size_.store(size() - n, std::memory_order_relaxed);
  return n;
}

std::size_t IdSpace::relink_all(Ordinal from, Ordinal to) {
  const uint32_t first = head(from);
  if (from == to || first == kNoRecord) return 0;
  // Copies first, all of them, so that any slot a reader finds retargeted
  // already leads to the key; then the slots; then from's list is dropped.
  std::size_t n = 0;
  for (uint32_t r = first; r != kNoRecord; r = next(r), ++n) append_to_list(to, append_record(key_of(r)));
  for (uint32_t r = first; r != kNoRecord; r = next(r)) {
    change_slots(key_of(r), from, [to](Bucket& b, unsigned s) { store(b.ord[s], to, std::memory_order_release); });
  }
  // Counted before from's list goes: a reader who then sees it gone sees the
  // count changed, and confirms again.
  moves_.store(moves_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  store(head_slot(from), kNoRecord, std::memory_order_release);
  if (tails_.erase(from) != 0) update_tail_bytes();
  return n;
}

std::size_t IdSpace::memory_bytes() const {
  return chunk_bytes_.load(std::memory_order_relaxed) + table_bytes_.load(std::memory_order_relaxed) +
         tail_bytes_.load(std::memory_order_relaxed) + kHeadChunkCount * sizeof(heads_[0]) +
         kArenaChunkCount * sizeof(arena_[0]);
}

void IdSpace::reserve(std::size_t keys, std::size_t /*total_key_bytes*/) {
  const uint32_t want = buckets_for(std::max(keys, size()));
  const uint32_t t = current_.load(std::memory_order_relaxed);
  if (t == kNoTable || ranges_[t].buckets < want) rebuild(want);
}

uint32_t IdSpace::range_for(uint32_t buckets) {
  for (std::size_t i = 0; i < ranges_used_; ++i) {
    Range& r = ranges_[i];
    if (!r.retired || r.buckets != buckets) continue;
    if (!r.zeroed) {
      // madvise failed at retirement: empty it by hand (late readers may
      // still read it, hence atomic stores).
      auto* b = static_cast<Bucket*>(r.base);
      for (uint32_t k = 0; k < buckets; ++k) {
        store(b[k].ctrl[0], 0, std::memory_order_release);
        store(b[k].ctrl[1], 0, std::memory_order_release);
      }
    }
    return static_cast<uint32_t>(i);
  }
  if (ranges_used_ == kMaxRanges) throw std::length_error("IdSpace: out of table ranges");
  ranges_[ranges_used_] = Range{map(table_bytes(buckets)), buckets, false, true};
  return static_cast<uint32_t>(ranges_used_++);
}

void IdSpace::rebuild(uint32_t buckets) {
  const uint32_t index = range_for(buckets);
  Range& fresh = ranges_[index];
  auto* table = static_cast<Bucket*>(fresh.base);
  const auto place = [&](uint64_t h, Ordinal o) {
    for (std::size_t i = home_of(h, buckets);; i = i + 1 == buckets ? 0 : i + 1) {
      Bucket& b = table[i];
      for (unsigned w = 0; w < 2; ++w) {
        const uint64_t m = zero_bytes(load(b.ctrl[w], std::memory_order_relaxed)) & (w == 0 ? kMsbs : kWord1Slots);
        if (m == 0) continue;
        const unsigned s = w * 8 + static_cast<unsigned>(std::countr_zero(m)) / 8;
        // Release, though nobody reads this table yet but late readers of
        // the range it reuses: one who reads a slot written here also sees
        // the generation bump that retired the range.
        store(b.ord[s], o, std::memory_order_release);
        uint64_t& c = b.ctrl[w];
        store(c, load(c, std::memory_order_relaxed) | tag_of(h) << (s % 8 * 8), std::memory_order_release);
        return;
      }
      count_overflow(b, std::memory_order_release);
    }
  };
  // Every key once, from the owners' lists (the old table does not say which
  // of an owner's keys a slot holds). Home buckets are prefetched a batch
  // ahead so their cache misses overlap.
  struct Pending {
    uint64_t h;
    Ordinal o;
  };
  constexpr std::size_t kBatch = 16;
  Pending batch[kBatch];
  std::size_t pending = 0;
  for_each([&](Ordinal o, std::string_view key) {
    const uint64_t h = hash_key(key);
    __builtin_prefetch(&table[home_of(h, buckets)], 1);
    batch[pending++] = Pending{h, o};
    if (pending == kBatch) {
      for (const Pending& p : batch) place(p.h, p.o);
      pending = 0;
    }
  });
  for (std::size_t k = 0; k < pending; ++k) place(batch[k].h, batch[k].o);
  fresh.retired = false;
  fresh.zeroed = false;

  const uint32_t old = current_.load(std::memory_order_relaxed);
  current_.store(index, std::memory_order_release);
  generation_.store(generation_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  table_bytes_.store(table_bytes(buckets), std::memory_order_relaxed);
  used_ = size();
  if (old != kNoTable) {
    // Retired at once: its pages go back to the kernel and read as zeros
    // (empty) to any late reader, who then sees the generation change.
    Range& r = ranges_[old];
    r.retired = true;
    r.zeroed = madvise(r.base, table_bytes(r.buckets), MADV_DONTNEED) == 0;
  }
}

}  // namespace crowd
