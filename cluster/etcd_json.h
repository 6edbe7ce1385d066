// Reading etcd's v3 JSON gateway answers, shared by the client
// (etcd_client.cc) and the watch (etcd_watch.cc). Internal to cluster/.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>

#include "cluster/etcd_client.h"

namespace crowd::cluster {

// An int64 field, which the gateway writes as a decimal string and leaves
// out when it is 0.
[[nodiscard]] int64_t etcd_int(const nlohmann::json& j, const char* name);
// A key-value as the gateway writes it (key and value in base64).
[[nodiscard]] EtcdKv etcd_kv(const nlohmann::json& j);

}  // namespace crowd::cluster
