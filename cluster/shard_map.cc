#include "cluster/shard_map.h"

#include <nlohmann/json.hpp>

namespace crowd::cluster {
namespace {

using json = nlohmann::json;

}  // namespace

ShardMap ShardMap::initial(uint32_t shards) {
  ShardMap m;
  m.version_ = 1;
  m.shards_ = shards;
  for (uint32_t s = 0; s < shards; ++s) {
    const uint32_t from = s * kPartitions / shards;
    const uint32_t to = (s + 1) * kPartitions / shards;
    for (uint32_t p = from; p < to; ++p) m.owner_[p] = static_cast<ShardId>(s);
  }
  return m;
}

std::optional<ShardMap> ShardMap::parse(std::string_view text, std::string& error) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    error = "the shard map is not a JSON object";
    return std::nullopt;
  }
  try {
    ShardMap m;
    m.version_ = j.at("version").get<uint64_t>();
    if (j.at("partitions").get<uint32_t>() != kPartitions) {
      error = "the shard map has " + j.at("partitions").dump() + " partitions, not " + std::to_string(kPartitions);
      return std::nullopt;
    }
    std::array<bool, kPartitions> seen{};
    const auto& shards = j.at("shards");
    m.shards_ = static_cast<uint32_t>(shards.size());
    if (m.shards_ == 0 || m.shards_ > kPartitions) {
      error = "the shard map has no shards or too many";
      return std::nullopt;
    }
    for (std::size_t i = 0; i < shards.size(); ++i) {
      if (shards[i].at("id").get<uint32_t>() != i) {
        error = "shard ids must be 0, 1, ... in order";
        return std::nullopt;
      }
      for (const auto& r : shards[i].at("ranges")) {
        const uint32_t from = r.at(0).get<uint32_t>();
        const uint32_t to = r.at(1).get<uint32_t>();
        if (from >= to || to > kPartitions) {
          error = "shard " + std::to_string(i) + " has a bad range " + r.dump();
          return std::nullopt;
        }
        for (uint32_t p = from; p < to; ++p) {
          if (seen[p]) {
            error = "partition " + std::to_string(p) + " is in two ranges";
            return std::nullopt;
          }
          seen[p] = true;
          m.owner_[p] = static_cast<ShardId>(i);
        }
      }
    }
    for (uint32_t p = 0; p < kPartitions; ++p) {
      if (!seen[p]) {
        error = "partition " + std::to_string(p) + " belongs to no shard";
        return std::nullopt;
      }
    }
    if (const auto moving = j.find("moving"); moving != j.end()) {
      for (const auto& mv : *moving) {
        PartitionMove move{mv.at("partition").get<Partition>(), mv.at("from").get<ShardId>(),
                           mv.at("to").get<ShardId>()};
        if (move.partition >= kPartitions || move.from >= m.shards_ || move.to >= m.shards_ ||
            m.owner_[move.partition] != move.from) {
          error = "a move does not match the map: " + mv.dump();
          return std::nullopt;
        }
        m.moving_.push_back(move);
      }
    }
    return m;
  } catch (const json::exception& e) {
    error = std::string("the shard map is malformed: ") + e.what();
    return std::nullopt;
  }
}

std::string ShardMap::to_json() const {
  json shards = json::array();
  for (uint32_t s = 0; s < shards_; ++s) shards.push_back({{"id", s}, {"ranges", json::array()}});
  // Runs of one owner become ranges.
  for (uint32_t p = 0; p < kPartitions;) {
    uint32_t end = p + 1;
    while (end < kPartitions && owner_[end] == owner_[p]) ++end;
    shards[owner_[p]]["ranges"].push_back({p, end});
    p = end;
  }
  json moving = json::array();
  for (const auto& m : moving_) moving.push_back({{"partition", m.partition}, {"from", m.from}, {"to", m.to}});
  return json{{"version", version_}, {"partitions", kPartitions}, {"shards", shards}, {"moving", moving}}.dump();
}

std::vector<Partition> ShardMap::partitions_of(ShardId shard) const {
  std::vector<Partition> out;
  for (uint32_t p = 0; p < kPartitions; ++p) {
    if (owner_[p] == shard) out.push_back(static_cast<Partition>(p));
  }
  return out;
}

ShardMap ShardMap::with_partition_on(Partition p, ShardId to) const {
  ShardMap next = *this;
  next.version_ = version_ + 1;
  next.owner_[p] = to;
  std::erase_if(next.moving_, [&](const PartitionMove& m) { return m.partition == p; });
  return next;
}

}  // namespace crowd::cluster
