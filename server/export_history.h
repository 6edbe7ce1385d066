// ExportHistory: a differencing guard for exports (--min-export-size K,
// issue 14). Two exports of at least K users each can still single out a
// small crowd T: export F, then `T OR F`; their difference is T. No floor
// stops differencing in general (see docs/security.md for what is left);
// this one makes the direct form fail: an export whose result differs from
// one of the same caller's recent exports by 1..K-1 users is refused.
//
// What is kept, per caller (token name; "-" without --tokens): the last
// kRing accepted exports, each as its size, its query's hash and a sketch of
// its users -- L buckets, each the XOR of a keyed 64-bit hash of every user
// ordinal falling into it (L = 16 K rounded up to a power of two, at least
// 256, at most 65,536). Users both exports hold cancel out, so the number of
// buckets in which two sketches differ is at most the number of users by
// which the exports differ (the symmetric difference): any difference under
// K is caught, with no false negative (but for a 2^-40 chance that a
// bucket's differing users XOR to zero). A difference of K or a little more
// may also be refused when its users collide in buckets (the expected number
// of collisions among K users in 16 K buckets is about 1/32 of K); beyond
// ~1.3 K, practically never. Above K = 4,096 the bucket count stays at
// 65,536 and such refusals reach further above K; from K ~ 45,000 on (where
// K users fill most buckets), any export within K users in size of a
// remembered one may be refused. Floors that large are not what the guard
// is for (ad audiences use 50 to 1,000).
//
// Why not the exports' bitmaps: an export can hold millions of users (up to
// universe/8 bytes each, 1.25 MB at 10M users), kRing of them per token would
// cost hundreds of MB; a sketch costs 8 L bytes (8 KiB at K = 50, 128 KiB a
// token with kRing = 16) whatever the export's size. Why not one 64-bit hash
// per export: it tells "equal" from "different", not "different by fewer
// than K".
//
// Cost: the sketch is one pass over the crowd's ordinals (a hash and an XOR
// each: a few ms per million users, on top of an export that writes every
// ID); the check compares at most kRing sketches (kRing x L words), only
// those whose sizes are within K of the new one, under one mutex.
#pragma once

#include <roaring/roaring.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crowd::server {

class ExportHistory {
 public:
  // Exports remembered per caller.
  static constexpr std::size_t kRing = 16;

  // `k`: --min-export-size (> 0). `key`: the sketch's hash key (random per
  // process, so nobody can choose users whose hashes cancel).
  ExportHistory(uint64_t k, uint64_t key);

  // Checks the export of `crowd` (ordinals) for query `q` by `who` against
  // who's recent exports. true: it may go, and is now remembered; false: it
  // differs from one of them by 1..K-1 users (nothing is remembered).
  // Equal results pass (a repeated export reveals nothing new).
  [[nodiscard]] bool admit(std::string_view who, std::string_view q, bool lenient, const roaring_bitmap_t* crowd);

  // Whether `who` has a remembered export of exactly this query: a later
  // page of a paged export was checked with its first page.
  [[nodiscard]] bool knows(std::string_view who, std::string_view q, bool lenient) const;

  [[nodiscard]] std::size_t buckets() const { return buckets_; }

 private:
  struct Entry {
    uint64_t size = 0;
    std::size_t query = 0;  // hash of (q, lenient)
    std::vector<uint64_t> sketch;
  };
  [[nodiscard]] std::vector<uint64_t> sketch(const roaring_bitmap_t* crowd) const;
  [[nodiscard]] static std::size_t query_hash(std::string_view q, bool lenient);
  // Buckets in which `a` and `b` differ, counting no further than `stop`.
  [[nodiscard]] static uint64_t differing(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b,
                                          uint64_t stop);

  const uint64_t k_;
  const uint64_t key_;
  const std::size_t buckets_;
  const unsigned shift_;  // 64 - log2(buckets_): a hash's top bits pick its bucket
  mutable std::mutex mu_;
  std::map<std::string, std::deque<Entry>, std::less<>> recent_;  // by caller, newest first
};

}  // namespace crowd::server
