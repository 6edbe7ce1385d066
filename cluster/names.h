// The names a cluster's pieces share (docs/cluster.md): JetStream streams,
// NATS subjects and etcd keys, all derived from the cluster's name, so that
// routers, replicas and tests agree without configuration.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace crowd::cluster {

// "CROWD_<cluster>_S<k>": shard k's write stream.
[[nodiscard]] std::string shard_stream(std::string_view cluster, uint32_t shard);
// "crowd.<cluster>.w.<k>": the subject shard k's stream holds.
[[nodiscard]] std::string shard_subject(std::string_view cluster, uint32_t shard);
// "crowd.<cluster>.applied.<k>": replicas of shard k announce what they applied (core NATS).
[[nodiscard]] std::string applied_subject(std::string_view cluster, uint32_t shard);
// "/crowd/<cluster>/": every etcd key of the cluster starts so.
[[nodiscard]] std::string etcd_prefix(std::string_view cluster);
// "/crowd/<cluster>/members/shard-<k>/<id>": a replica's membership key.
[[nodiscard]] std::string replica_key(std::string_view cluster, uint32_t shard, std::string_view id);

}  // namespace crowd::cluster
