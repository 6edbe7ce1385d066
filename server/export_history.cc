#include "server/export_history.h"

#include <boost/container_hash/hash.hpp>

#include <algorithm>
#include <bit>

namespace crowd::server {
namespace {

std::size_t bucket_count(uint64_t k) {
  const uint64_t wanted = std::clamp<uint64_t>(16 * k, 256, 65536);
  return static_cast<std::size_t>(std::bit_ceil(wanted));
}

}  // namespace

ExportHistory::ExportHistory(uint64_t k, uint64_t key)
    : k_(k),
      key_(key),
      buckets_(bucket_count(k)),
      shift_(64 - static_cast<unsigned>(std::countr_zero(bucket_count(k)))) {}

std::vector<uint64_t> ExportHistory::sketch(const roaring_bitmap_t* crowd) const {
  std::vector<uint64_t> out(buckets_, 0);
  // Boost's hash_combine mixes the key and the ordinal into 64 bits (a
  // bijection of the ordinal for a given key, so distinct users never hash
  // alike); the top bits choose the bucket.
  roaring_uint32_iterator_t it;
  roaring_init_iterator(crowd, &it);
  uint32_t batch[1024];
  for (uint32_t n; (n = roaring_read_uint32_iterator(&it, batch, 1024)) > 0;) {
    for (uint32_t i = 0; i < n; ++i) {
      std::size_t h = key_;
      boost::hash_combine(h, batch[i]);
      out[h >> shift_] ^= h;
    }
  }
  return out;
}

std::size_t ExportHistory::query_hash(std::string_view q, bool lenient) {
  std::size_t h = std::hash<std::string_view>{}(q);
  boost::hash_combine(h, lenient);
  return h;
}

uint64_t ExportHistory::differing(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b, uint64_t stop) {
  uint64_t n = 0;
  for (std::size_t i = 0; i < a.size() && n < stop; ++i) n += a[i] != b[i];
  return n;
}

bool ExportHistory::admit(std::string_view who, std::string_view q, bool lenient, const roaring_bitmap_t* crowd) {
  Entry entry;
  entry.size = roaring_bitmap_get_cardinality(crowd);
  entry.query = query_hash(q, lenient);
  entry.sketch = sketch(crowd);  // outside the lock: O(users)

  const std::lock_guard lock(mu_);
  auto found = recent_.find(who);
  if (found == recent_.end()) found = recent_.emplace(std::string(who), std::deque<Entry>{}).first;
  auto& ring = found->second;
  for (auto it = ring.begin(); it != ring.end(); ++it) {
    // Sizes K or more apart differ by at least K users: no need to look.
    const uint64_t apart = entry.size > it->size ? entry.size - it->size : it->size - entry.size;
    if (apart >= k_) continue;
    const uint64_t d = differing(entry.sketch, it->sketch, k_);
    if (d == 0) {
      // The same users again: nothing new leaves. Remember it as the newest.
      Entry same = std::move(*it);
      same.query = entry.query;
      ring.erase(it);
      ring.push_front(std::move(same));
      return true;
    }
    if (d < k_) return false;
  }
  ring.push_front(std::move(entry));
  if (ring.size() > kRing) ring.pop_back();
  return true;
}

bool ExportHistory::knows(std::string_view who, std::string_view q, bool lenient) const {
  const std::size_t h = query_hash(q, lenient);
  const std::lock_guard lock(mu_);
  const auto found = recent_.find(who);
  if (found == recent_.end()) return false;
  return std::any_of(found->second.begin(), found->second.end(), [&](const Entry& e) { return e.query == h; });
}

}  // namespace crowd::server
