// Tuning constants of the index, each with its reason.
#pragma once

#include <cstddef>
#include <cstdint>

namespace crowd::tuning {

// Ordinals are handed out densely; the ordinal->external table grows in
// chunks that never move, so readers of an older version can index it while
// the writer appends. 2^16 entries (512 KiB) a chunk matches Roaring's own
// 2^16-value containers; 2^16 chunks cover the whole u32 ordinal space.
inline constexpr unsigned kUserChunkBits = 16;
inline constexpr std::size_t kUserChunkSize = std::size_t{1} << kUserChunkBits;
inline constexpr std::size_t kUserChunkCount = std::size_t{1} << (32 - kUserChunkBits);

// Bulk building buffers this many ordinals per tag before handing them to
// roaring_bitmap_add_many: large enough to amortise the call and the
// container lookup, small enough that 10,000 tags' buffers (160 MiB at 4096)
// stay well inside memory.
inline constexpr std::size_t kBulkTagBuffer = 4096;

}  // namespace crowd::tuning
