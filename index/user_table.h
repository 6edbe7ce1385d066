// UserTable: the dictionary between external user IDs (u64) and ordinals (u32).
//
// Ordinals are dense and handed out in order of first appearance; a deleted
// user keeps its ordinal (it only leaves every bitmap) but is forgotten by ID
// (forget()): if the ID comes back it gets a new ordinal, so a log replayed
// over a snapshot -- which no longer holds erased IDs -- hands out the same
// ordinals as the run that wrote it. The ordinal->ID side is append-only.
// That lets one table serve every published IndexView: it lives in chunks
// that never move, and a reader of a view only touches ordinals below that
// view's count, all written before the view was published (an old view may
// still show a forgotten user; a new one never contains its ordinal). The
// ID->ordinal side is used by the writer alone.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "index/ids.h"
#include "index/ordinal_hash.h"
#include "index/tuning.h"

namespace crowd {

class UserTable {
 public:
  UserTable();
  ~UserTable();
  UserTable(const UserTable&) = delete;
  UserTable& operator=(const UserTable&) = delete;

  // Reader side, any thread: the external ID of an ordinal below the count of
  // a published view. O(1).
  // Atomic (relaxed) because assign() may give a uid-less user its uid while
  // readers of older views read the slot; they do not use it (such a user is
  // in their view's uidless set) but must not race on it.
  [[nodiscard]] UserId external(Ordinal o) const {
    UserId& slot =
        chunks_[o >> tuning::kUserChunkBits].load(std::memory_order_relaxed)[o & (tuning::kUserChunkSize - 1)];
    return std::atomic_ref<UserId>(slot).load(std::memory_order_relaxed);
  }

  // Writer side; callers serialise. O(1) expected.
  [[nodiscard]] std::optional<Ordinal> find(UserId id) const;
  // The user's ordinal, appending a new one for an unknown user. Returns
  // nullopt only when all 2^32-1 ordinals are taken.
  [[nodiscard]] std::optional<Ordinal> find_or_add(UserId id);
  // Appends users that must all be new, giving them the next ordinals in
  // order (snapshot restore rebuilds the exact table this way). Stops at the
  // first ID already present, or when ordinals run out, and returns its
  // index in `ids`; returns ids.size() when all were added. O(n) expected,
  // one hash probe an ID, prefetched ahead.
  [[nodiscard]] std::size_t append_new(std::span<const UserId> ids);
  // Erasure: `id` no longer finds its ordinal (whose ID stays readable for
  // views that still hold it). Returns whether it was known.
  bool forget(UserId id);
  // Appends `n` ordinals of erased users: their ID reads as 0 and no ID
  // finds them (snapshot restore; see snapshot_file.cc). Returns how many fit.
  [[nodiscard]] std::size_t append_erased(std::size_t n);
  // A user without a uid (issue 15: made from other IDs): a new ordinal
  // whose ID reads 0 and that no ID finds. nullopt when ordinals run out.
  [[nodiscard]] std::optional<Ordinal> add_uidless();
  // Gives a user without a uid (add_uidless) its uid, which must be unknown.
  void assign(Ordinal o, UserId id);
  // Number of ordinals handed out.
  [[nodiscard]] uint32_t size() const { return size_; }
  // Heap bytes of the ID->ordinal side (the ordinal->ID side is 8 a user).
  [[nodiscard]] std::size_t index_bytes() const { return ordinals_.bytes(); }

 private:
  void store_external(Ordinal o, UserId id);

  std::unique_ptr<std::atomic<UserId*>[]> chunks_;
  OrdinalHash ordinals_;
  uint32_t size_ = 0;
};

}  // namespace crowd
