// A client's write, parsed whole into one WriteBatch by the same code as
// crowdd's, split into one batch per shard: each user's operations go to
// the shard that holds the user's home partition (cluster/partition.h), in
// their order. Each part is then published to its shard's stream, where its
// replicas apply it as a crowdd applies a write.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cluster/shard_map.h"
#include "index/write_batch.h"

namespace crowd::router {

// One batch per shard of `map` (empty where the write names none of its
// users); nullopt with `error` for an operation a router cannot place yet:
// anything but a uid user's add, remove, erase, set or clear of a value
// (the parsers of ingest, assign and delete make no other).
[[nodiscard]] std::optional<std::vector<WriteBatch>> split_by_shard(const WriteBatch& batch,
                                                                    const cluster::ShardMap& map,
                                                                    std::string& error);

}  // namespace crowd::router
