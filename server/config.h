// Config: crowdd's command line (CONTRACT §5 plus our own flags), parsed into
// one struct with no global state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "index/store.h"
#include "server/event_days.h"
#include "server/http_server.h"

namespace crowd::server {

// A shard replica of a cluster (docs/cluster.md): --cluster, --shard, --nats,
// --etcd. Without --shard, crowdd is the single process it always was.
struct ClusterConfig {
  std::string name;                 // --cluster NAME: streams, subjects and etcd keys are named for it
  std::optional<uint32_t> shard;    // --shard K
  std::vector<std::string> nats;    // --nats URL[,URL...]
  std::vector<std::string> etcd;    // --etcd HOST:PORT[,...] (optional: membership)
  uint32_t stream_replicas = 3;     // --stream-replicas N: the shard stream's copies (at most the NATS servers)
  bool router = false;              // --router: no index; answers by the shards (router/router.h)
  uint32_t shards = 4;              // --shards S: a new cluster's shard count (the first router places them)
  std::string cursor_key_file;      // --cursor-key-file FILE: page cursors open on every process sharing it
  uint64_t write_timeout_ms = 10'000;  // --write-timeout-ms: a router's wait for a write to be applied
  uint64_t hedge_after_ms = 20;     // --hedge-after-ms: a router asks another replica after this long
};

struct Config {
  HttpOptions http;
  ClusterConfig cluster;
  StoreOptions store;
  std::vector<std::string> load_files;   // --load FILE (repeatable): .ndjson/.jsonl/.json or .csv
  std::vector<std::string> taobao_files; // --load-taobao FILE (repeatable)
  std::optional<uint64_t> demo_users;    // --demo [USERS]
  uint64_t seed = 42;                    // --seed, for --demo
  uint64_t union_cache_mb = 256;         // --union-cache-mb (0: off)
  // --snapshot-log-mb N: a snapshot whenever the log passes N MiB (0: off).
  // nullopt: 128 for a cluster replica, off otherwise.
  std::optional<uint64_t> snapshot_log_mb;
  uint32_t retention_days = 0;           // --retention-days (0: keep every day of dated tags)
  bool retention_force = false;          // --retention-force: the start-up run may drop any share
  bool retention_dry_run = false;        // --retention-dry-run: say what retention would drop, exit
  uint32_t max_future_days = 1;          // --max-future-days: latest event day is today (UTC) + this
  std::optional<int64_t> as_of;          // --as-of YYYY-MM-DD: a fixed today (replaying history)
  int64_t min_event_day = kDefaultEarliestEventDay;  // --min-event-date YYYY-MM-DD
  // Security (docs/security.md).
  std::string tokens_file;               // --tokens FILE (empty: no access control, loopback only)
  std::string audit_log;                 // --audit-log FILE
  uint64_t audit_max_mb = 64;            // --audit-max-mb: rotate past this (0: never)
  unsigned audit_keep = 8;               // --audit-keep: rotated files kept
  uint64_t min_export_size = 0;          // --min-export-size K
  std::optional<uint64_t> min_seed_size; // --min-seed-size N (default: K)
  uint64_t time_budget_ms = 10'000;      // --time-budget-ms (0: none)
  bool help = false;
  bool version = false;
};

// Parses argv. On a bad flag returns nullopt with a message in `error`.
[[nodiscard]] std::optional<Config> parse_config(int argc, const char* const* argv, std::string& error);

[[nodiscard]] const char* usage();

inline constexpr uint64_t kDefaultDemoUsers = 1'000'000;

// The day clock the flags describe (event_days.h).
[[nodiscard]] inline DayClock day_clock_of(const Config& c) {
  return DayClock({c.as_of, c.max_future_days, c.min_event_day, c.retention_days});
}

}  // namespace crowd::server
