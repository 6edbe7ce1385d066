#include "cluster/partition.h"

#include <cassert>

#include "identity/digest.h"

namespace crowd::cluster {

Partition partition_of(std::string_view type, std::string_view key) {
  std::string input;
  input.reserve(type.size() + 1 + key.size());
  input.append(type);
  input.push_back('\0');
  input.append(key);
  const auto digest = identity::sha256(input);
  return static_cast<Partition>(((uint32_t{digest[0]} << 8) | digest[1]) % kPartitions);
}

std::string u64_key(uint64_t id) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[static_cast<std::size_t>(i)] = static_cast<char>(id & 0xFF);
    id >>= 8;
  }
  return key;
}

std::size_t anchor_of(std::span<const IdRef> ids) {
  assert(!ids.empty());
  auto before = [](const IdRef& a, const IdRef& b) {
    const bool a_uid = a.type == "uid";
    const bool b_uid = b.type == "uid";
    if (a_uid != b_uid) return a_uid;
    if (a.type != b.type) return a.type < b.type;
    return a.key < b.key;
  };
  std::size_t best = 0;
  for (std::size_t i = 1; i < ids.size(); ++i) {
    if (before(ids[i], ids[best])) best = i;
  }
  return best;
}

}  // namespace crowd::cluster
