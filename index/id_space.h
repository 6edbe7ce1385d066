// IdSpace: the keys of one ID type (issue 15) <-> user ordinals. A key is
// opaque bytes -- a fixed width (8/16/32: u64 device IDs, MD5 and SHA-256
// digests) or 1..255 bytes (OAID strings); what they mean is identity/'s
// business. A user may hold several keys of a type, a key belongs to at most
// one user. One writer (callers serialise), any number of readers on other
// threads, no locks on the reader side.
//
// Layout (R = a record's 32-bit reference: its word offset in the arena)
//   arena    append-only 2 MiB chunks that never move. A key is a record of
//            4-byte words: [next R][bytes] for a fixed width, [next R][len]
//            [bytes] for variable keys, padded to 4 bytes. `next` chains a
//            user's keys, oldest first.
//   heads    one R per ordinal (0 = no key), in 2 MiB chunks of 2^19
//            ordinals mapped on first use: 4 bytes an ordinal, even a keyless
//            one inside a touched chunk.
//   slots    the hash: 64-byte buckets of 12 slots, 12 control bytes (empty,
//            deleted, or 8 bits of the key's hash), an overflow count, and 12
//            ordinals. The key is not in the slot: a tag match is confirmed
//            against the ordinal's own keys (most users hold one key of a
//            type). Grows (or purges tombstones) past 70% full, to ~60%, so
//            the load stays in 53-70%: 5.33 bytes a slot, 7.6-10 a key.
//   tails    writer-only map ordinal -> last record, for users with 2+ keys.
// All but the tails are mmap'd, 2 MiB-aligned and advised to use huge pages:
// a find touches three random places in hundreds of MB.
// Bytes a key, one key per user (fixed: key + 8 + slots; variable: key + 1
// padded to 4, + 8 + slots): 8-byte keys 23.6-26.4, 16: 31.6-34.4, 32:
// 47.6-50.4, 36-byte OAIDs: 55.6-58.4 from ~3M keys on; the budget (1.3 x key
// + 16) is 26.4, 36.8, 57.6, 62.8 (measured at 10M: 24.8, 32.7, 48.7, 56.6).
// Below that the 2 MiB chunks show: an IdSpace holds at least ~4.1 MiB once
// used, and near 1M keys the rounding adds up to ~4 bytes a key.
//
// Cost of a find at 10M keys (bench-id-space): a miss reads one bucket, one
// cache miss, ~105-125 ns on the project's machine; a hit three in a row
// (bucket, head, record), ~290-340 ns. A slot pointing at the record, with
// the owner in the record, would save one for 4 more bytes a key: over
// budget at 8 bytes.
//
// Records are never rewritten nor reused: an unlinked key's bytes stay in the
// arena, and a merge (relink_all) appends copies of the moved keys to the new
// owner and abandons the old records, until the IdSpace is rebuilt (snapshot
// restore). A record's `next` is set once, 0 -> a newer record, while it is
// the tail of a live list, so a reader walking a list only ever meets keys
// that were linked to that ordinal, and always reaches the end. A merge
// copies the keys, then retargets their slots, then clears the old list, so
// a key's slot always names an owner whose list holds it; a reader who read
// the slot before the merge and the list after retries (see probe()).
//
// Readers and a growing hash: a rebuild fills a new table and publishes it;
// the old one is retired at once, with no wait for readers. Tables live in
// their own mmap'd ranges that stay mapped until the IdSpace dies: a retired
// range is given back to the kernel with madvise(MADV_DONTNEED), after which
// it reads as zeros -- empty buckets -- and it may later hold a new table of
// the same size. So a late reader never touches unmapped memory; it may only
// read stale, zero or newer contents. That is harmless for a hit, which
// reads an ordinal and is confirmed against that ordinal's key list (never
// freed); a miss is trusted only if the table generation did not change
// while it probed, else the reader starts over on the current table (a batch,
// find_many, loads the generation and the table once per group of keys and
// checks the generation after each key's probe: the same argument, over a
// longer window; a miss it cannot trust is asked again through find). Keeping
// retired tables instead would cost their geometric sum, ~as much as the
// live table: over budget for 8- and 16-byte keys. A reader-side counter or
// hazard pointer would cost a locked instruction (a full fence) per find.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include <boost/unordered/unordered_flat_map.hpp>

#include "index/ids.h"

namespace crowd {

class IdSpace {
 public:
  // The longest variable-length key.
  static constexpr std::size_t kMaxVariableKey = 255;

  // key_bytes > 0: every key has exactly that many bytes (at most
  // kMaxVariableKey); 0: variable length, 1..kMaxVariableKey bytes. Throws
  // std::invalid_argument for a wider fixed width.
  explicit IdSpace(std::size_t key_bytes);
  ~IdSpace();
  IdSpace(const IdSpace&) = delete;
  IdSpace& operator=(const IdSpace&) = delete;

  [[nodiscard]] std::size_t key_bytes() const { return key_bytes_; }

  // ---- Reader side: any thread, concurrently with the writer, no locks.

  // The key's owner. O(1) expected: a hash probe, then the owner's key list.
  // A key being moved or unlinked meanwhile reads as its old owner, its new
  // one, or (unlinked) absent. A key of the wrong length is absent.
  [[nodiscard]] std::optional<Ordinal> find(std::string_view key) const;

  // out[i] = find(keys[i]) for every i, with the same guarantees key by key,
  // but the cache misses of different keys overlapped: keys go through in
  // groups of kFindManyGroup, each group hashed with its home buckets
  // prefetched, then the heads of the owners the buckets name, then their
  // records, and only then probed, mostly from cache. O(keys); throws
  // std::invalid_argument when out.size() != keys.size(). At 10M 32-byte
  // keys, half of them hits (bench-match, BM_FindMany against BM_FindLoop):
  // ~53 ns a key against ~200-270 for a find() loop. Groups of 16 were
  // slower (~60-70 ns), of 64 no faster; running the stages of consecutive
  // groups interleaved (software pipelining) was no faster either.
  static constexpr std::size_t kFindManyGroup = 32;
  void find_many(std::span<const std::string_view> keys, std::span<std::optional<Ordinal>> out) const;

  // f(std::string_view key) for every key linked to `o`, oldest link first.
  // Keys linked or unlinked meanwhile may or may not be seen; every key seen
  // was linked to `o`. The views stay valid while the IdSpace lives.
  template <class F>
  void for_each_key(Ordinal o, F&& f) const {
    for (uint32_t r = head(o); r != kNoRecord; r = next(r)) f(key_of(r));
  }

  [[nodiscard]] bool has_key(Ordinal o) const { return head(o) != kNoRecord; }

  // ---- Writer side: callers serialise (the store's writer lock).

  // Links key to o: true if now linked (or already linked to o); false,
  // changing nothing, when the key belongs to another ordinal or has a wrong
  // length. Amortised O(1): a rebuild of the hash every ~25% of growth.
  // Throws std::bad_alloc, or std::length_error past 16 GiB of records.
  bool link(std::string_view key, Ordinal o);
  // link(keys[i], owners[i]) for i = 0, 1, ... while each key is newly
  // linked: stops at the first key that link() would refuse (wrong length,
  // another ordinal's) or that is already linked to its own ordinal (a
  // repeat), changing nothing for it, and returns its index; keys.size()
  // when every key was new. Made for snapshot restore (pairs whose keys must
  // all be new), whose reader diagnoses the stop with find(). Each link does
  // exactly what link() does, in the same order, so every reader-side
  // guarantee above holds meanwhile; only the cache misses of different keys
  // overlap: keys are hashed kLinkManyAhead ahead, their home buckets and
  // owners' heads prefetched. Throws std::invalid_argument when
  // owners.size() != keys.size(), else as link(). 6M 36-byte keys after
  // reserve(), in batches of 4096: ~60-70 ns of CPU a key, against ~215-260
  // for a link() loop (same run, loaded machine).
  static constexpr std::size_t kLinkManyAhead = 16;
  std::size_t link_many(std::span<const std::string_view> keys, std::span<const Ordinal> owners);
  // Erasure: every key of o unlinked. Returns how many. O(keys of o).
  std::size_t unlink_all(Ordinal o);
  // Merging two users: every key of `from` now belongs to `to`, after to's
  // own keys, oldest first. Returns how many moved (0 when from == to).
  // O(keys of from); their bytes are copied (see above).
  std::size_t relink_all(Ordinal from, Ordinal to);
  // Linked keys now. Any thread (exact when no write runs).
  [[nodiscard]] std::size_t size() const { return size_.load(std::memory_order_relaxed); }
  // Heap and mapped bytes held: records (dead ones included), heads, the live
  // hash table, the tails map, the chunk directories. Any thread.
  [[nodiscard]] std::size_t memory_bytes() const;
  // Every (ordinal, key) pair, ordinals ascending, each one's keys oldest
  // first: f(Ordinal, std::string_view). Writer side (snapshot writing), or a
  // reader holding the writer lock. O(ordinals spanned + keys).
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t c = 0; c < kHeadChunkCount; ++c) {
      const uint32_t* chunk = heads_[c].load(std::memory_order_acquire);
      if (chunk == nullptr) continue;
      for (std::size_t i = 0; i < kHeadChunkSize; ++i) {
        const auto o = static_cast<Ordinal>(c << kHeadChunkBits | i);
        for (uint32_t r = load_acquire(chunk[i]); r != kNoRecord; r = next(r)) f(o, key_of(r));
      }
    }
  }
  // Snapshot restore: room for this many keys before a run of link() calls,
  // so the hash is sized once. The byte count is a hint the arena (1 MiB
  // chunks on demand) does not need.
  void reserve(std::size_t keys, std::size_t total_key_bytes);

 private:
  // Chunks are 2 MiB, one huge page each (see id_space.cc).
  // Ordinal -> first record: 2^19 ordinals a chunk, 2^13 chunks.
  static constexpr unsigned kHeadChunkBits = 19;
  static constexpr std::size_t kHeadChunkSize = std::size_t{1} << kHeadChunkBits;
  static constexpr std::size_t kHeadChunkCount = std::size_t{1} << (32 - kHeadChunkBits);
  // Records: 2^19 words a chunk; a 32-bit reference addresses 2^13 chunks,
  // 16 GiB. Reference 0 (word 0 of chunk 0) means none.
  static constexpr unsigned kArenaChunkBits = 19;
  static constexpr std::size_t kArenaChunkWords = std::size_t{1} << kArenaChunkBits;
  static constexpr std::size_t kArenaChunkCount = std::size_t{1} << (32 - kArenaChunkBits);
  static constexpr uint32_t kNoRecord = 0;
  // Mapped ranges a table may live in: at most two per size class (the live
  // table and a retired one of its size), and classes span 2^6..2^29 buckets.
  static constexpr std::size_t kMaxRanges = 256;
  static constexpr uint32_t kNoTable = UINT32_MAX;

  struct Range {
    void* base = nullptr;
    uint32_t buckets = 0;
    bool retired = false;  // writer-only: free for a new table of its size
    bool zeroed = true;    // writer-only: reads as all-empty (fresh or returned to the kernel)
  };
  struct Spot;

  // Reader-safe accessors (acquire loads; chunks never move).
  static uint32_t load_acquire(const uint32_t& w) {
    return std::atomic_ref<uint32_t>(const_cast<uint32_t&>(w)).load(std::memory_order_acquire);
  }
  [[nodiscard]] uint32_t head(Ordinal o) const {
    const uint32_t* chunk = heads_[o >> kHeadChunkBits].load(std::memory_order_acquire);
    return chunk == nullptr ? kNoRecord : load_acquire(chunk[o & (kHeadChunkSize - 1)]);
  }
  [[nodiscard]] const uint32_t* record(uint32_t r) const {
    return arena_[r >> kArenaChunkBits].load(std::memory_order_acquire) + (r & (kArenaChunkWords - 1));
  }
  [[nodiscard]] uint32_t next(uint32_t r) const { return load_acquire(*record(r)); }
  [[nodiscard]] std::string_view key_of(uint32_t r) const {
    const auto* bytes = reinterpret_cast<const char*>(record(r) + 1);
    if (key_bytes_ != 0) return {bytes, key_bytes_};
    return {bytes + 1, static_cast<unsigned char>(bytes[0])};
  }
  [[nodiscard]] bool owns(Ordinal o, std::string_view key) const;
  [[nodiscard]] bool valid_length(std::size_t n) const {
    return key_bytes_ != 0 ? n == key_bytes_ : n >= 1 && n <= kMaxVariableKey;
  }
  [[nodiscard]] std::optional<Ordinal> probe(const Range& t, uint64_t h, std::string_view key) const;
  // find_many on at most kFindManyGroup keys.
  void find_group(std::span<const std::string_view> keys, std::span<std::optional<Ordinal>> out) const;

  // Writer side.
  // link() of a key of valid length hashing to h: the key's owner when it
  // was linked already (nothing changed), else nullopt (now linked to o).
  std::optional<Ordinal> insert(uint64_t h, std::string_view key, Ordinal o);
  [[nodiscard]] Spot locate(uint64_t h, std::string_view key) const;
  uint32_t& head_slot(Ordinal o);
  uint32_t append_record(std::string_view key);
  void append_to_list(Ordinal o, uint32_t r);
  template <class Change>
  void change_slots(std::string_view key, Ordinal owner, const Change& change);
  void rebuild(uint32_t buckets);
  uint32_t range_for(uint32_t buckets);
  void update_tail_bytes();

  const std::size_t key_bytes_;
  std::unique_ptr<std::atomic<uint32_t*>[]> heads_;
  std::unique_ptr<std::atomic<uint32_t*>[]> arena_;
  std::array<Range, kMaxRanges> ranges_{};
  std::atomic<uint32_t> current_{kNoTable};
  // Bumped after each retirement: a miss that saw it change is retried.
  std::atomic<uint64_t> generation_{0};
  // Bumped by each merge before it clears the old owner's list (see probe).
  std::atomic<uint64_t> moves_{0};
  std::atomic<std::size_t> size_{0};
  std::atomic<std::size_t> chunk_bytes_{0};  // heads + arena
  std::atomic<std::size_t> table_bytes_{0};
  std::atomic<std::size_t> tail_bytes_{0};
  // Writer-only.
  boost::unordered_flat_map<Ordinal, uint32_t> tails_;
  std::size_t ranges_used_ = 0;
  std::size_t used_ = 0;  // full + deleted slots of the live table
  std::size_t arena_chunk_ = 0;
  std::size_t arena_word_ = 1;  // next free word in arena_chunk_; word 0 of chunk 0 is "none"
};

}  // namespace crowd
