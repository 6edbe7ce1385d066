// Exporting a crowd's external user IDs: streamed CSV text and portable
// Roaring bytes.
#pragma once

#include <memory>
#include <string>

#include "index/bitmap.h"
#include "index/index_view.h"
#include "server/reply.h"

namespace crowd::server {

// One decimal ID a line. Holds the view and the crowd for as long as the
// stream lasts; each chunk is at most kCsvChunkIds IDs, so memory stays flat
// whatever the crowd size.
[[nodiscard]] std::unique_ptr<ChunkSource> csv_id_source(std::shared_ptr<const IndexView> view, Bitmap crowd);

inline constexpr uint32_t kCsvChunkIds = 65536;

// The crowd's external IDs as a portable Roaring bitmap: the 32-bit format
// when every ID is below 2^32 (an empty crowd too), else the 64-bit portable
// format (u64 bucket count, then per bucket the u32 high half and a 32-bit
// portable bitmap of the low halves, buckets ascending). O(crowd size).
[[nodiscard]] std::string roaring_id_bytes(const IndexView& view, const Bitmap& crowd);

}  // namespace crowd::server
