// OrdinalHash: external user ID -> ordinal, the writer's side of UserTable.
//
// Why not boost::unordered_flat_map<u64, u32>: its slots are 16-byte pairs
// kept under 87.5% load in a power-of-two table, ~27 bytes a user (270 MB at
// 10M users, more than the 8 bytes a user of the ordinal->ID side), and a
// snapshot load spent most of its time in its inserts, one cache miss each
// with nothing to overlap them.
//
// Here a slot is 8 bytes: the ordinal + 1 (0 = empty) and 32 bits of the
// ID's hash. The ID itself is not stored; it is the UserTable's
// external(ordinal), read only when the hash bits match. Linear probing under
// 75% load: ~8-11 bytes a user. Bulk inserts prefetch the slot of the ID a
// few places ahead, so the misses overlap (snapshot load).
//
// Writer-only, not thread-safe. The key function maps an ordinal in the
// table back to its ID.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "index/ids.h"

namespace crowd {

class OrdinalHash {
 public:
  // id_of(ordinal) -> UserId, for ordinals already inserted.
  template <class IdOf>
  [[nodiscard]] std::optional<Ordinal> find(UserId id, const IdOf& id_of) const {
    if (slots_.empty()) return std::nullopt;
    const uint64_t h = hash(id);
    for (std::size_t i = home(h);; i = (i + 1) & mask_) {
      const uint64_t s = slots_[i];
      if (s == 0) return std::nullopt;
      if (tag_of(s) == tag(h) && id_of(ordinal_of(s)) == id) return ordinal_of(s);
    }
  }

  // Inserts (id, o) when id is absent; returns the ordinal id has afterwards
  // (o, or the one it already had). Amortised O(1).
  template <class IdOf>
  Ordinal find_or_insert(UserId id, Ordinal o, const IdOf& id_of) {
    grow_for(size_ + 1, id_of);
    const uint64_t h = hash(id);
    std::size_t i = home(h);
    for (;; i = (i + 1) & mask_) {
      const uint64_t s = slots_[i];
      if (s == 0) break;
      if (tag_of(s) == tag(h) && id_of(ordinal_of(s)) == id) return ordinal_of(s);
    }
    slots_[i] = make_slot(h, o);
    ++size_;
    return o;
  }

  // Inserts ids[k] -> first + k for every k, stopping at the first ID that is
  // already present; returns its index (ids.size() when all were new).
  // `id_of` must already answer for the ordinals being inserted. Prefetches
  // ahead: used to rebuild the table of a snapshot.
  template <class IdOf>
  std::size_t insert_new(std::span<const UserId> ids, Ordinal first, const IdOf& id_of) {
    grow_for(size_ + ids.size(), id_of);
    constexpr std::size_t kAhead = 16;
    for (std::size_t k = 0; k < ids.size(); ++k) {
      if (k + kAhead < ids.size()) __builtin_prefetch(&slots_[home(hash(ids[k + kAhead]))], 1);
      const auto o = static_cast<Ordinal>(first + k);
      if (find_or_insert(ids[k], o, id_of) != o) return k;
    }
    return ids.size();
  }

  // Removes id; returns whether it was there. Backward-shift deletion: the
  // entries after the hole in its cluster move back unless their home lies
  // cyclically in (hole, j], so every probe sequence stays unbroken and no
  // tombstones accumulate. Reads id_of of the cluster's entries.
  template <class IdOf>
  bool erase(UserId id, const IdOf& id_of) {
    if (slots_.empty()) return false;
    const uint64_t h = hash(id);
    std::size_t hole = home(h);
    for (;; hole = (hole + 1) & mask_) {
      const uint64_t s = slots_[hole];
      if (s == 0) return false;
      if (tag_of(s) == tag(h) && id_of(ordinal_of(s)) == id) break;
    }
    for (std::size_t j = (hole + 1) & mask_; slots_[j] != 0; j = (j + 1) & mask_) {
      const std::size_t k = home(hash(id_of(ordinal_of(slots_[j]))));
      const bool stays = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j);
      if (stays) continue;
      slots_[hole] = slots_[j];
      hole = j;
    }
    slots_[hole] = 0;
    --size_;
    return true;
  }

  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] std::size_t bytes() const { return slots_.size() * sizeof(uint64_t); }

 private:
  // A 64-bit finaliser (murmur3's fmix64): IDs may be sequential or share
  // low bits; the table needs every bit mixed into the top ones (home slot)
  // and the low ones (tag).
  static uint64_t hash(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
  }
  static uint32_t tag(uint64_t h) { return static_cast<uint32_t>(h); }
  static uint64_t make_slot(uint64_t h, Ordinal o) { return (uint64_t{o} + 1) << 32 | tag(h); }
  static Ordinal ordinal_of(uint64_t s) { return static_cast<Ordinal>((s >> 32) - 1); }
  static uint32_t tag_of(uint64_t s) { return static_cast<uint32_t>(s); }
  [[nodiscard]] std::size_t home(uint64_t h) const { return static_cast<std::size_t>(h >> shift_); }

  // Makes room for n entries under 75% load, rehashing if needed.
  template <class IdOf>
  void grow_for(std::size_t n, const IdOf& id_of) {
    if (n * 4 <= slots_.size() * 3) return;
    std::size_t capacity = 1024;
    while (n * 4 > capacity * 3) capacity *= 2;
    std::vector<uint64_t> old(capacity, 0);
    old.swap(slots_);
    mask_ = capacity - 1;
    shift_ = 64 - static_cast<unsigned>(__builtin_ctzll(capacity));
    for (const uint64_t s : old) {
      if (s == 0) continue;
      // The tag holds only 32 of the hash's bits: rehash the ID for the home.
      const uint64_t h = hash(id_of(ordinal_of(s)));
      std::size_t i = home(h);
      while (slots_[i] != 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<uint64_t> slots_;
  std::size_t mask_ = 0;
  unsigned shift_ = 64;
  std::size_t size_ = 0;
};

}  // namespace crowd
