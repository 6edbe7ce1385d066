// UnionCache: materialised unions of many tags — an expanded prefix
// (`cat:1003774:*`), a list of cities ORed together — shared by every query.
//
// Such unions are the expensive class of count (PERFORMANCE-NOTES: an OR of
// 30 city tags at 10M users is milliseconds, bound by scattering array
// members), and interactive sizing repeats them: a marketer edits the
// demographic part of a crowd and keeps its city list or category. So the
// union is built once as a bitmap and later queries read it like one tag.
//
// Invalidation is by identity, not by time or version: an entry remembers
// the TagBits object of every member (weakly), and is used only while the
// current view still holds those very objects. A write that changes a member
// publishes a new TagBits for it, so the next lookup misses and rebuilds; a
// write elsewhere leaves the entry valid. weak_ptr rather than raw pointers,
// so an address reused by a new TagBits can never pass for the old one.
//
// Windows of days (within(tag, 30d): one day tag a day, of one tag or of
// every tag of a prefix) are kept as unions of aligned day blocks: days
// [k*2^j, (k+1)*2^j) for the largest blocks that tile the window. On a miss
// the window is the OR of its blocks' unions, each cached on its own. So when
// the day rolls, only the blocks at the window's two ends are new (O(log N)
// small ones), and a late event on a past day rebuilds only its block.
//
// Bounded by bytes; the least recently used entries go first. Thread-safe:
// the lock covers lookups and inserts, never the union itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "index/ids.h"
#include "index/index_view.h"

namespace crowd::query {

class UnionCache {
 public:
  // Unions of two or more tags are cached. Even two: `(age:25-29 OR
  // age:30-34)` inside an AND costs two dense tags of memory traffic per
  // query instead of one (at 10M users an 8-term count with two such pairs
  // reads 10 MB, and memory bandwidth is the bound).
  static constexpr std::size_t kMinMembers = 2;
  // Windows of fewer day tags are built whole: at 10M users the first query
  // after a day rolls cost 0.52-0.74 ms whole against 0.69-1.46 ms from
  // blocks for one tag's 7 and 30 days, while 90 days (1.30 vs 2.30 ms) and
  // a category's 140-1,800 day tags (6.5 vs 48 ms at 90 days) gain
  // (docs/benchmarks.md).
  static constexpr std::size_t kMinBlockedWindow = 64;

  // `day_blocks` false: windows are cached whole only (for benchmarks that
  // measure what the blocks buy).
  explicit UnionCache(std::size_t budget_bytes, bool day_blocks = true)
      : budget_(budget_bytes), day_blocks_(day_blocks) {}

  // The union of the tags `ids` (ascending, each < view.tag_count()) of
  // `view`. Never null. Cost: a hash lookup and one weak_ptr check a member
  // on a hit; the union (or_many) on a miss. A union bigger than the whole
  // budget is returned but not kept.
  [[nodiscard]] std::shared_ptr<const TagBits> get(const IndexView& view, std::span<const TagId> ids);

  // The aligned day blocks a window of days [first, last] is built from, in
  // day order: (first day, last day) each. Public for tests.
  [[nodiscard]] static std::vector<std::pair<int64_t, int64_t>> day_blocks(int64_t first, int64_t last);

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t bytes = 0;
    uint64_t entries = 0;
  };
  [[nodiscard]] Stats stats() const;

 private:
  struct Entry {
    std::vector<std::weak_ptr<const TagBits>> members;
    std::shared_ptr<const TagBits> bits;
    uint64_t last_used = 0;
  };
  [[nodiscard]] static bool still_valid(const Entry& e, const IndexView& view, std::span<const TagId> ids);
  // The union of `ids` (sorted): of their day blocks' cached unions when
  // they are all day tags over more than one block, else of the tags.
  [[nodiscard]] Bitmap build(const IndexView& view, std::span<const TagId> ids, bool by_blocks);
  [[nodiscard]] std::shared_ptr<const TagBits> get(const IndexView& view, std::span<const TagId> ids, bool by_blocks);
  void evict_to(std::size_t budget);  // mu_ held

  const std::size_t budget_;
  const bool day_blocks_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // key: the member ids' bytes
  std::size_t bytes_ = 0;
  uint64_t clock_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace crowd::query
