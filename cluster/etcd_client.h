// The control plane's store: etcd 3.4 through its v3 JSON gateway
// (docs/cluster.md#control-plane-etcd) -- membership by leases, the shard map
// by compare-and-set, the controller by a create-if-absent key.
//
// Over plain HTTP with Beast (cluster/http_client.h), nlohmann-json for the
// gateway's bodies (small, off the request path), keys and values base64 as
// the gateway wants them, 64-bit numbers as the decimal strings it sends.
//
// Endpoints are tried in turn: a call goes to the endpoint that answered
// last, and on a transport failure (refused, reset, timed out) or an answer
// that says the member cannot serve (no leader, 5xx) to the next, until
// every endpoint was tried once. So a dead or partitioned member costs one
// timeout, and a leader election a retry. Not thread-safe: one client per
// thread (a connection per endpoint each).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/http_client.h"

namespace crowd::cluster {

struct EtcdKv {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

// A call's outcome: the value, or why there is none (etcd's own message, or
// that no endpoint answered).
template <typename T>
struct EtcdResult {
  std::optional<T> value;
  std::string error;
  [[nodiscard]] bool ok() const { return value.has_value(); }
  const T& operator*() const { return *value; }
  const T* operator->() const { return &*value; }
};

struct EtcdRange {
  int64_t revision = 0;  // the store's revision when read
  std::vector<EtcdKv> kvs;
};

struct EtcdLease {
  int64_t id = 0;
  int64_t ttl = 0;  // seconds granted; keepalive answers 0 when the lease is gone
};

class EtcdClient {
 public:
  // `endpoints`: "host:port" each, at least one.
  explicit EtcdClient(const std::vector<std::string>& endpoints,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  [[nodiscard]] EtcdResult<EtcdRange> get(std::string_view key);
  // Every key starting with `prefix`, in key order.
  [[nodiscard]] EtcdResult<EtcdRange> get_prefix(std::string_view prefix);
  // The revision the put made. lease 0: none.
  [[nodiscard]] EtcdResult<int64_t> put(std::string_view key, std::string_view value, int64_t lease = 0);
  // Puts only if `key` does not exist; true when it did not (and now does).
  [[nodiscard]] EtcdResult<bool> create(std::string_view key, std::string_view value, int64_t lease = 0);
  // Puts only if `key` was last modified at `mod_revision` (compare-and-set
  // on a value read before); true when it was.
  [[nodiscard]] EtcdResult<bool> replace(std::string_view key, std::string_view value, int64_t mod_revision);
  // Deletes `key`; true when it existed.
  [[nodiscard]] EtcdResult<bool> remove(std::string_view key);

  [[nodiscard]] EtcdResult<EtcdLease> grant(int64_t ttl_seconds);
  // The lease's remaining TTL after renewal; 0 when it has expired or never
  // existed (its keys are gone).
  [[nodiscard]] EtcdResult<int64_t> keepalive(int64_t lease);
  [[nodiscard]] EtcdResult<bool> revoke(int64_t lease);

  [[nodiscard]] const std::vector<std::string>& endpoints() const { return endpoints_; }

 private:
  // POSTs to the gateway, rotating through endpoints as described above.
  [[nodiscard]] EtcdResult<std::string> call(std::string_view target, const std::string& body);

  std::vector<std::string> endpoints_;
  std::vector<std::unique_ptr<HttpClient>> clients_;
  std::size_t current_ = 0;
  std::chrono::milliseconds timeout_;
};

// The end of the key range holding every key that starts with `prefix`
// (the prefix with its last byte incremented, carrying over 0xff bytes;
// "\0" for the whole key space when the prefix is empty or all 0xff).
[[nodiscard]] std::string prefix_range_end(std::string_view prefix);

}  // namespace crowd::cluster
