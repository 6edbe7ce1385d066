#include "router/write_split.h"

#include <cstdint>

#include "cluster/partition.h"

namespace crowd::router {

std::optional<std::vector<WriteBatch>> split_by_shard(const WriteBatch& batch, const cluster::ShardMap& map,
                                                      std::string& error) {
  using Kind = WriteBatch::Kind;
  std::vector<WriteBatch> parts(map.shards());
  // Per shard: the part's number of each of the batch's names (interned on
  // first use, so a part holds only the names its users need).
  std::vector<std::vector<uint32_t>> numbers(map.shards(), std::vector<uint32_t>(batch.names().size(), UINT32_MAX));
  std::vector<uint32_t> tags;
  for (const WriteBatch::Op& op : batch.ops()) {
    const bool user_op = op.kind == Kind::kAdd || op.kind == Kind::kRemove || op.kind == Kind::kErase ||
                         op.kind == Kind::kSetValue || op.kind == Kind::kClearValue;
    if (!user_op || op.person != WriteBatch::kNoPerson) {
      error = "a router places only writes of users named by \"id\"";
      return std::nullopt;
    }
    const auto shard = map.shard_of(cluster::uid_partition(op.user));
    WriteBatch& part = parts[shard];
    tags.clear();
    for (const uint32_t t : batch.tags_of(op)) {
      uint32_t& n = numbers[shard][t];
      if (n == UINT32_MAX) n = part.intern(batch.names()[t]);
      tags.push_back(n);
    }
    switch (op.kind) {
      case Kind::kAdd: part.add(op.user, tags); break;
      case Kind::kRemove: part.remove(op.user, tags); break;
      case Kind::kErase: part.erase(op.user); break;
      case Kind::kSetValue: part.set_value(op.user, tags.at(0), op.value); break;
      case Kind::kClearValue: part.clear_value(op.user, tags.at(0)); break;
      default: break;
    }
  }
  return parts;
}

}  // namespace crowd::router
