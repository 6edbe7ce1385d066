// DenseChunks: a tag's larger array containers, expanded once into bitset
// containers so counting reads words instead of scattering members.
//
// An array container of a few percent of a chunk (1,024-4,096 of its 65,536
// users) is 2-8 KiB of sorted uint16. Every fused count that uses it must
// either scatter its members into a scratch bitset (~1.5 ns a member, store
// forwarding bound) or probe another operand per member; the same chunk as a
// bitset is one 8 KiB pass of AVX2 words (~0.2 us). Converting the stored
// bitmap itself is not an option: the portable format (snapshots, Roaring
// exports) requires a container with 4,096 members or fewer to be an array.
// So the bitsets live beside the bitmap, built on a tag's first fused count,
// and die with it (a write publishes a new TagBits, and so a new cache).
//
// Memory: 8 KiB per expanded container, on top of the array. All the caches
// of a process share one budget (tuning::kDenseCacheBytes); past it, tags are
// counted from their arrays as before.
#pragma once

#include <roaring/roaring.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace crowd {

class DenseChunks {
 public:
  // Expands the array containers of `bits` with at least `min_members`
  // members, within the process-wide budget. O(members expanded).
  DenseChunks(const roaring_bitmap_t* bits, int32_t min_members);
  ~DenseChunks();
  DenseChunks(const DenseChunks&) = delete;
  DenseChunks& operator=(const DenseChunks&) = delete;

  // The 1,024 words of container `index` of the bitmap (its position in the
  // bitmap's container array), or nullptr when that container was not
  // expanded. O(1). ChunkCursor asks this for every array it meets.
  [[nodiscard]] const uint64_t* at(int32_t index) const {
    return static_cast<std::size_t>(index) < by_index_.size() ? by_index_[static_cast<std::size_t>(index)] : nullptr;
  }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }

  // Bytes held by every live DenseChunks of the process.
  [[nodiscard]] static std::size_t total_bytes();

 private:
  struct alignas(64) Block {  // one chunk's words, cache-line aligned for the AVX2 kernels
    uint64_t words[1024];
  };
  std::unique_ptr<Block[]> blocks_;        // one allocation for all expanded chunks
  std::vector<const uint64_t*> by_index_;  // empty when nothing was expanded
  std::size_t bytes_ = 0;
};

}  // namespace crowd
