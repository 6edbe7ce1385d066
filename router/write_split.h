// A client's write, parsed whole into one WriteBatch by the same code as
// crowdd's, split into stream messages per shard: each user's operations go
// to the shard that holds the user's home partition (cluster/partition.h),
// in their order, and a shard's part is cut into messages of at most
// `max_bytes` encoded (NATS refuses payloads over its max_payload, 1 MiB by
// default; a million demo users are ~480 MB of messages). Each message is applied by
// the shard's replicas as a crowdd applies a write.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "cluster/shard_map.h"
#include "index/write_batch.h"

namespace crowd::router {

// Per shard of `map`, its messages in order (none where the write names
// none of its users). nullopt with `error` for an operation a router cannot
// place yet -- anything but a uid user's add, remove, erase, set or clear of
// a value (the parsers of ingest, assign and delete make no other) -- or one
// user's operation larger than `max_bytes` by itself.
[[nodiscard]] std::optional<std::vector<std::vector<WriteBatch>>> split_by_shard(const WriteBatch& batch,
                                                                                 const cluster::ShardMap& map,
                                                                                 std::size_t max_bytes,
                                                                                 std::string& error);

}  // namespace crowd::router
