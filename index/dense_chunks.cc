#include "index/dense_chunks.h"

#include <roaring/containers/containers.h>

#include <atomic>

#include "index/tuning.h"

namespace crowd {
namespace {

std::atomic<std::size_t> g_dense_bytes{0};

constexpr std::size_t kBitsetBytes = BITSET_CONTAINER_SIZE_IN_WORDS * sizeof(uint64_t);

// Claims `bytes` of the shared budget; false when it would overflow.
bool reserve(std::size_t bytes) {
  std::size_t held = g_dense_bytes.load(std::memory_order_relaxed);
  do {
    if (held + bytes > tuning::kDenseCacheBytes) return false;
  } while (!g_dense_bytes.compare_exchange_weak(held, held + bytes, std::memory_order_relaxed));
  return true;
}

}  // namespace

DenseChunks::DenseChunks(const roaring_bitmap_t* bits, int32_t min_members) {
  const roaring_array_t& ra = bits->high_low_container;
  std::size_t wanted = 0;
  for (int32_t i = 0; i < ra.size; ++i) {
    if (ra.typecodes[i] != ARRAY_CONTAINER_TYPE_CODE) continue;
    if (static_cast<const array_container_t*>(ra.containers[i])->cardinality >= min_members) wanted += kBitsetBytes;
  }
  if (wanted == 0 || !reserve(wanted)) return;
  bytes_ = wanted;
  by_index_.assign(static_cast<std::size_t>(ra.size), nullptr);
  for (int32_t i = 0; i < ra.size; ++i) {
    if (ra.typecodes[i] != ARRAY_CONTAINER_TYPE_CODE) continue;
    const auto* a = static_cast<const array_container_t*>(ra.containers[i]);
    if (a->cardinality < min_members) continue;
    by_index_[static_cast<std::size_t>(i)] = bitset_container_from_array(a);
  }
}

DenseChunks::~DenseChunks() {
  for (bitset_container_s* b : by_index_) {
    if (b != nullptr) bitset_container_free(b);
  }
  g_dense_bytes.fetch_sub(bytes_, std::memory_order_relaxed);
}

std::size_t DenseChunks::total_bytes() { return g_dense_bytes.load(std::memory_order_relaxed); }

}  // namespace crowd
