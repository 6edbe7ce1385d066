#include "router/write_split.h"

#include <cstdint>

#include "cluster/partition.h"

namespace crowd::router {
namespace {

using Kind = WriteBatch::Kind;

// The message a shard is filling, and what its encoding will take
// (WriteBatch::encode: a count of names, each a length and its bytes; a
// count of ops, each a kind byte, a user, a tag count, its tags, and a
// value for kSetValue).
struct Message {
  WriteBatch batch;
  std::size_t bytes = 8;
  std::vector<uint32_t> numbers;  // the source batch's name -> this message's, UINT32_MAX: not yet
};

}  // namespace

std::optional<std::vector<std::vector<WriteBatch>>> split_by_shard(const WriteBatch& batch,
                                                                   const cluster::ShardMap& map,
                                                                   std::size_t max_bytes, std::string& error) {
  std::vector<std::vector<WriteBatch>> out(map.shards());
  std::vector<Message> open(map.shards());
  for (auto& m : open) m.numbers.assign(batch.names().size(), UINT32_MAX);
  std::vector<uint32_t> tags;
  for (const WriteBatch::Op& op : batch.ops()) {
    const bool user_op = op.kind == Kind::kAdd || op.kind == Kind::kRemove || op.kind == Kind::kErase ||
                         op.kind == Kind::kSetValue || op.kind == Kind::kClearValue;
    if (!user_op || op.person != WriteBatch::kNoPerson) {
      error = "a router places only writes of users named by \"id\"";
      return std::nullopt;
    }
    const auto shard = map.shard_of(cluster::uid_partition(op.user));
    Message* m = &open[shard];
    const auto cost = [&](const Message& in) {
      std::size_t c = 13 + 4 * std::size_t{op.tag_count} + (op.kind == Kind::kSetValue ? 8 : 0);
      for (const uint32_t t : batch.tags_of(op)) {
        if (in.numbers[t] == UINT32_MAX) c += 4 + batch.names()[t].size();
      }
      return c;
    };
    if (m->bytes + cost(*m) > max_bytes && !m->batch.empty()) {
      out[shard].push_back(std::move(m->batch));
      *m = Message{};
      m->numbers.assign(batch.names().size(), UINT32_MAX);
    }
    m->bytes += cost(*m);
    if (m->bytes > max_bytes) {
      error = "one user's operation takes more than " + std::to_string(max_bytes) +
              " bytes, more than a stream message may hold: send fewer tags a record";
      return std::nullopt;
    }
    tags.clear();
    for (const uint32_t t : batch.tags_of(op)) {
      uint32_t& n = m->numbers[t];
      if (n == UINT32_MAX) n = m->batch.intern(batch.names()[t]);
      tags.push_back(n);
    }
    switch (op.kind) {
      case Kind::kAdd: m->batch.add(op.user, tags); break;
      case Kind::kRemove: m->batch.remove(op.user, tags); break;
      case Kind::kErase: m->batch.erase(op.user); break;
      case Kind::kSetValue: m->batch.set_value(op.user, tags.at(0), op.value); break;
      case Kind::kClearValue: m->batch.clear_value(op.user, tags.at(0)); break;
      default: break;
    }
  }
  for (uint32_t k = 0; k < open.size(); ++k) {
    if (!open[k].batch.empty()) out[k].push_back(std::move(open[k].batch));
  }
  return out;
}

}  // namespace crowd::router
