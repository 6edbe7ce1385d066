// ListMatcher: how much of an uploaded ID list (issue 15, POST /v1/match) is
// in the index, and which users it is.
//
// The server streams a request body into it one ID at a time (a line, or a
// JSON array element) with its 1-based line number; the matcher encodes each
// (id_codec.h) and keeps the keys in a batch of kBatch; a full batch drops
// the keys already seen in this list and looks the rest up in the type's
// IdSpace through find_many, whose cache misses overlap (one find at 10M
// keys is ~200-300 ns of waiting, a batch's keys share it). Plumbing stays
// outside: no JSON, no HTTP, no error codes; the caller owns the view
// (space, limit, universe) and keeps it alive until finish(). The space may
// be written meanwhile: each lookup answers as IdSpace::find would.
//
// At 10M users, one core (bench-match): ~6M hex SHA-256 IDs a second, ~3M
// plain phones (normalised and hashed here: SHA-256 is most of it).
//
// Counts, for a list of N IDs:
//   submitted   N, every ID given to add().
//   valid       those whose text encodes to a key; invalid = submitted - valid,
//               with the first kMaxInvalidReported {line, reason} kept.
//   duplicates  valid IDs whose key an earlier valid ID of this list already
//               had (matched or not; one digest in upper and lower case, one
//               phone written two ways, are one key): distinct = valid -
//               duplicates.
//   matched     distinct keys whose owner is a user of the view: an ordinal
//               below ordinal_limit and in the universe. Counted per key, not
//               per user: a user matched by two of their phones counts twice
//               here, once in `users`.
//   users       the matched ordinals (cardinality <= matched).
//   match rate  matched / distinct (0 for a list without a valid ID): the
//               share of the list's distinct IDs that are users, so a list
//               sent twice over matches at the same rate as once.
//
// IDs are personal data: reasons never repeat the ID (id_codec.h), and the
// seen keys live only in this object, freed by finish().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "identity/id_codec.h"
#include "identity/id_type.h"
#include "index/bitmap.h"
#include "index/id_space.h"
#include "index/ids.h"

namespace crowd::identity {

// How many invalid lines a result names; the rest are only counted.
inline constexpr std::size_t kMaxInvalidReported = 10;

struct InvalidLine {
  uint64_t line = 0;   // as given to add()
  std::string reason;  // id_codec.h's, never containing the ID
  bool operator==(const InvalidLine&) const = default;
};

struct ListMatchResult {
  uint64_t submitted = 0;
  uint64_t valid = 0;
  uint64_t invalid = 0;
  std::vector<InvalidLine> first_invalid;  // at most kMaxInvalidReported, in order of add()
  uint64_t duplicates = 0;
  uint64_t matched = 0;
  Bitmap users;  // run-optimised

  [[nodiscard]] uint64_t distinct() const { return valid - duplicates; }
  // matched / distinct(), 0 when distinct() is 0.
  [[nodiscard]] double match_rate() const {
    return distinct() == 0 ? 0.0 : static_cast<double>(matched) / static_cast<double>(distinct());
  }
};

class ListMatcher {
 public:
  // Keys deduplicated and looked up at once: four of find_many's groups, and
  // 128 seen-set probes prefetched together; the batch's keys stay in L1.
  static constexpr std::size_t kBatch = 128;

  // `type` complete (complete_and_check); `space` its keys, or null when no
  // ID of the type exists yet (every valid ID is then unmatched); a user is
  // an ordinal below `ordinal_limit` in `*universe` (the reader's view: keys
  // linked after it was taken, to newer ordinals, do not match). `plain`:
  // the IDs are values to normalise and hash ("hash": true). space and
  // universe must outlive the matcher. Throws std::invalid_argument for a
  // null universe or a space whose key width is not the type's.
  ListMatcher(IdType type, const IdSpace* space, Ordinal ordinal_limit, const Bitmap* universe, bool plain);
  ListMatcher(ListMatcher&&) = default;
  ListMatcher(const ListMatcher&) = delete;
  ListMatcher& operator=(const ListMatcher&) = delete;

  // One ID's text at `line`. Amortised O(1): an encode (~30 ns for hex, ~0.2
  // us for a plain phone hashed), and 1/kBatch of a batch: a seen-set probe
  // and a find_many per key. Throws std::logic_error after finish(),
  // std::length_error past 4 GiB of distinct key bytes (or 2^31 slots),
  // std::bad_alloc; after an exception the counts are unspecified (the
  // request fails as a whole).
  void add(uint64_t line, std::string_view text);

  // The lookups still pending, then the counts; the seen keys are freed.
  // O(batch + ordinal_limit / 2^16 + matched users). Call once: the matcher
  // is spent afterwards (add() throws).
  [[nodiscard]] ListMatchResult finish();

  // IDs given so far (the server may cap a list by count).
  [[nodiscard]] uint64_t submitted() const { return result_.submitted; }
  // Heap bytes held: the seen keys (each distinct valid key's bytes, plus
  // 8-byte set slots at 35-70% load: 11-23 bytes), the owners' bits (at
  // most ordinal_limit / 8), the batch. The seen keys grow with the distinct
  // IDs: ~43-55 bytes each for SHA-256, ~19-31 for u64; the server bounds
  // them by bounding the body. Any time before finish().
  [[nodiscard]] std::size_t memory_bytes() const;

 private:
  // The distinct keys of the list so far: an exact set, so that duplicates
  // are counted without error. The keys live back to back in chunks that
  // never move (fixed-width keys as they are, variable ones after a byte
  // holding length - 1); the set is open addressing with linear probing over
  // 8-byte slots, each 32 bits of the key's hash (never 0: 0 is an empty
  // slot) and the key's byte offset in the chunks. A probe reads one slot
  // and meets another key's bytes only on a 32-bit hash match; growing
  // never reads a key. boost::unordered_flat_set over offsets, tried first,
  // made BM_Match/HexNoSpace (encode and deduplicate) 265 ns an ID: growing
  // re-hashed every key from the chunks, a cache miss each; 146 ns with 32
  // hash bits in the element, its probes still misses that cannot be
  // prefetched. This set's probes are prefetched a batch ahead: ~90 ns.
  class SeenKeys {
   public:
    explicit SeenKeys(std::size_t key_bytes) : key_bytes_(key_bytes) {}
    [[nodiscard]] static uint64_t hash(std::string_view key);
    void prefetch(uint64_t h) const;
    // Adds the key (not empty) unless present: whether it was absent.
    bool insert(std::string_view key, uint64_t h);
    // Frees everything.
    void clear();
    [[nodiscard]] std::size_t memory_bytes() const {
      return chunks_.size() * kChunkBytes + lines_.capacity() * sizeof(Line) + chunks_.capacity() * sizeof(chunks_[0]);
    }

   private:
    static constexpr unsigned kChunkBits = 18;  // 256 KiB
    static constexpr std::size_t kChunkBytes = std::size_t{1} << kChunkBits;
    static constexpr unsigned kMinSlotBits = 8;
    static constexpr unsigned kMaxSlotBits = 31;  // positions come from the 32 stored hash bits
    [[nodiscard]] uint32_t append(std::string_view key);
    [[nodiscard]] std::string_view at(uint32_t ref) const;
    // The first slot of the tag's cache line: a probe reads one line unless
    // its 8 slots are full.
    [[nodiscard]] std::size_t home(uint32_t tag) const { return (tag >> (32 - slot_bits_)) & ~std::size_t{7}; }
    void grow();

    const std::size_t key_bytes_;
    std::vector<std::unique_ptr<char[]>> chunks_;
    uint64_t end_ = 0;  // next free byte, chunks_ back to back
    // The slots in cache lines, so that a home line is one line: with
    // malloc's 16-byte alignment most were split in two, the second half not
    // prefetched (BM_Match/Hex ~190-220 ms against ~160). Empty until the
    // first insert.
    struct alignas(64) Line {
      uint64_t slots[8];
    };
    std::vector<Line> lines_;
    [[nodiscard]] std::size_t slot_count() const { return lines_.size() * 8; }
    uint64_t& slot(std::size_t i) { return lines_[i / 8].slots[i % 8]; }
    [[nodiscard]] const uint64_t& slot(std::size_t i) const { return lines_[i / 8].slots[i % 8]; }
    unsigned slot_bits_ = 0;
    std::size_t size_ = 0;
  };

  void flush();
  // The owner's bit: prefetched (its chunk allocated), then set, a batch at a time.
  void prefetch_owner(Ordinal o);
  void add_owner(Ordinal o);

  const IdType type_;
  const IdSpace* const space_;
  const Ordinal ordinal_limit_;
  const Bitmap* const universe_;
  const bool plain_;
  bool finished_ = false;
  ListMatchResult result_;
  EncodedId encoded_;
  SeenKeys seen_;
  // The batch: keys back to back, the end of each, and scratch.
  std::size_t pending_ = 0;
  std::string batch_bytes_;
  std::array<uint32_t, kBatch> batch_ends_{};
  std::array<uint64_t, kBatch> hashes_{};
  std::array<std::string_view, kBatch> fresh_{};
  std::array<std::optional<Ordinal>, kBatch> owners_{};
  // The owners found below ordinal_limit, as bits in 8 KiB chunks of 2^16
  // ordinals (one a Roaring container) allocated on the first hit in them:
  // at most ordinal_limit / 8 bytes. finish() turns them into a Bitmap and
  // intersects it with the universe, container by container. Roaring per
  // batch instead (contains() on the universe, add_many into the result,
  // inserting into sorted array containers of thousands) made BM_Match/Hex
  // ~1.55x slower: 255 against 165 ms.
  std::vector<std::unique_ptr<uint64_t[]>> owner_chunks_;
  // Owners found a second time (a user with two keys in the list): each is
  // one more matched key if the owner is a user.
  std::vector<Ordinal> repeat_owners_;
};

}  // namespace crowd::identity
