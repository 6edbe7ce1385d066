// The shard map (docs/cluster.md#control-plane-etcd): which shard holds
// which partitions, versioned, kept in etcd as JSON and changed only by
// compare-and-set, so two controllers can never both apply a change.
//
//   {"version": 3, "partitions": 4096,
//    "shards": [{"id": 0, "ranges": [[0, 1024]]}, {"id": 1, "ranges": [[1024, 2048]]}, ...],
//    "moving": [{"partition": 17, "from": 0, "to": 1}]}
//
// Ranges are half-open [from, to) of partitions; every partition belongs to
// exactly one shard. `moving` lists partitions being moved (the move's steps
// are in docs/cluster.md): they still belong to `from` until the move ends.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/partition.h"

namespace crowd::cluster {

using ShardId = uint16_t;

struct PartitionMove {
  Partition partition = 0;
  ShardId from = 0;
  ShardId to = 0;
};

class ShardMap {
 public:
  // `shards` shards of contiguous, near-equal ranges (shard k holds
  // [k*P/S, (k+1)*P/S)), version 1. shards in [1, kPartitions].
  [[nodiscard]] static ShardMap initial(uint32_t shards);
  // Parses and checks the JSON above: nullopt with `error` when malformed
  // or when partitions are missing, doubled or out of range.
  [[nodiscard]] static std::optional<ShardMap> parse(std::string_view json, std::string& error);
  [[nodiscard]] std::string to_json() const;

  [[nodiscard]] uint64_t version() const { return version_; }
  [[nodiscard]] uint32_t shards() const { return shards_; }
  [[nodiscard]] ShardId shard_of(Partition p) const { return owner_[p]; }
  // The partitions of `shard`, ascending.
  [[nodiscard]] std::vector<Partition> partitions_of(ShardId shard) const;
  [[nodiscard]] const std::vector<PartitionMove>& moving() const { return moving_; }

  // The next version with `p` moved to `to` (moves end by reassigning).
  [[nodiscard]] ShardMap with_partition_on(Partition p, ShardId to) const;

 private:
  uint64_t version_ = 0;
  uint32_t shards_ = 0;
  std::array<ShardId, kPartitions> owner_{};
  std::vector<PartitionMove> moving_;
};

}  // namespace crowd::cluster
