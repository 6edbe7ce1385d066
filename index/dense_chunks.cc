#include "index/dense_chunks.h"

#include <atomic>
#include <cstring>

#include "index/chunk_cursor.h"
#include "index/tuning.h"

namespace crowd {
namespace {

std::atomic<std::size_t> g_dense_bytes{0};

constexpr std::size_t kBitsetBytes = kChunkWords * sizeof(uint64_t);

// Claims `bytes` of the shared budget; false when it would overflow.
bool reserve(std::size_t bytes) {
  std::size_t held = g_dense_bytes.load(std::memory_order_relaxed);
  do {
    if (held + bytes > tuning::kDenseCacheBytes) return false;
  } while (!g_dense_bytes.compare_exchange_weak(held, held + bytes, std::memory_order_relaxed));
  return true;
}

bool wanted(const Chunk& c, int32_t min_members) { return c.kind == ChunkKind::kArray && c.size >= min_members; }

}  // namespace

DenseChunks::DenseChunks(const roaring_bitmap_t* bits, int32_t min_members) {
  std::size_t count = 0;
  for (ChunkCursor c(bits); !c.done(); c.advance()) count += wanted(c.current(), min_members) ? 1 : 0;
  if (count == 0 || !reserve(count * kBitsetBytes)) return;
  bytes_ = count * kBitsetBytes;
  blocks_ = std::make_unique<Block[]>(count);
  std::size_t next = 0;
  for (ChunkCursor c(bits); !c.done(); c.advance()) {
    const Chunk chunk = c.current();
    if (by_index_.empty()) by_index_.assign(static_cast<std::size_t>(c.chunks()), nullptr);
    if (!wanted(chunk, min_members)) continue;
    uint64_t* words = blocks_[next++].words;
    std::memset(words, 0, kBitsetBytes);
    const uint16_t* v = chunk.values();
    for (int32_t i = 0; i < chunk.size; ++i) words[v[i] >> 6] |= uint64_t{1} << (v[i] & 63);
    by_index_[static_cast<std::size_t>(c.position())] = words;
  }
}

DenseChunks::~DenseChunks() { g_dense_bytes.fetch_sub(bytes_, std::memory_order_relaxed); }

std::size_t DenseChunks::total_bytes() { return g_dense_bytes.load(std::memory_order_relaxed); }

}  // namespace crowd
