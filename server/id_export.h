// Exporting a crowd's external user IDs: streamed CSV text and portable
// Roaring bytes.
#pragma once

#include <memory>
#include <string>

#include "identity/id_types.h"
#include "index/bitmap.h"
#include "index/index_view.h"
#include "server/reply.h"

namespace crowd::server {

// One decimal ID a line. Holds the view and the crowd for as long as the
// stream lasts; each chunk is at most kCsvChunkIds IDs, so memory stays flat
// whatever the crowd size.
[[nodiscard]] std::unique_ptr<ChunkSource> csv_id_source(std::shared_ptr<const IndexView> view, Bitmap crowd);

inline constexpr uint32_t kCsvChunkIds = 65536;

// Export in a channel's ID space (issue 15): `type` null is the built-in uid.
// The crowd's users that have an ID of the type: for uid, those with a uid
// (users made from other IDs only have none); for another type, those with
// at least one of its IDs (one head lookup a user, ~50-100 ns at 10M).
[[nodiscard]] Bitmap exportable(const IndexView& view, const Bitmap& crowd, const identity::DefinedIdType* type);
// Every ID of the type of each user of `users` (all exportable), one a line
// (digests as lower-case hex), a user with two IDs of the type on two
// lines; streamed like csv_id_source.
[[nodiscard]] std::unique_ptr<ChunkSource> csv_typed_id_source(std::shared_ptr<const IndexView> view,
                                                              const identity::DefinedIdType& type, Bitmap users);
// The IDs of a u64 type as roaring_id_bytes writes uids.
[[nodiscard]] std::string roaring_typed_id_bytes(const identity::DefinedIdType& type, const Bitmap& users);

// The crowd's external IDs as a portable Roaring bitmap: the 32-bit format
// when every ID is below 2^32 (an empty crowd too), else the 64-bit portable
// format (u64 bucket count, then per bucket the u32 high half and a 32-bit
// portable bitmap of the low halves, buckets ascending). O(crowd size).
[[nodiscard]] std::string roaring_id_bytes(const IndexView& view, const Bitmap& crowd);

}  // namespace crowd::server
