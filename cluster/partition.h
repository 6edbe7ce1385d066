// Partitions (docs/cluster.md#partitions-and-the-directory): a person lives
// in one of kPartitions partitions, its home, and a shard holds a set of
// partitions. An ID's own partition is a hash of its type and key; a new
// person's home is the partition of its anchor, the first of its IDs in a
// fixed order (uid first, then types by name, then key bytes).
//
// The hash is SHA-256 (libcrypto, through identity/digest.h) of the type's
// name, a NUL and the ID's key bytes -- its stored encoding: 8 bytes big-endian
// for uid and u64 types, the digest for md5/sha256, the bytes for strings --
// whose first two bytes, big-endian, mod 4,096 give the partition. Fixed and
// documented so that any client can compute it; ~0.3 us an ID.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace crowd::cluster {

inline constexpr uint32_t kPartitions = 4096;

using Partition = uint16_t;

// The partition of one ID: `type` its ID type's name ("uid" for the built-in
// u64 ID), `key` its stored key bytes.
[[nodiscard]] Partition partition_of(std::string_view type, std::string_view key);

// The key bytes of a uid (or any u64 type): 8 bytes, big-endian.
[[nodiscard]] std::string u64_key(uint64_t id);

// The partition of a uid.
[[nodiscard]] inline Partition uid_partition(uint64_t id) { return partition_of("uid", u64_key(id)); }

// One ID of a record, for choosing an anchor.
struct IdRef {
  std::string_view type;
  std::string_view key;
};

// The anchor among a record's IDs (non-empty): uid first, then by type name,
// then by key bytes. Its index in `ids`.
[[nodiscard]] std::size_t anchor_of(std::span<const IdRef> ids);

}  // namespace crowd::cluster
