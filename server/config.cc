#include "server/config.h"

#include <cctype>
#include <charconv>
#include <string_view>
#include <thread>

#include "query/date.h"

namespace crowd::server {
namespace {

template <class T>
bool parse_number(std::string_view s, T& out) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

const char* usage() {
  return R"(usage: crowdd [flags]
  --host H             listen address (default 127.0.0.1)
  --port P             listen port (default 8080; 0 picks a free port)
  --threads N          worker threads (default: hardware concurrency)
  --data-dir D         keep a snapshot and write-ahead log in D and restore from them at start
  --fsync MODE         always | batch (default; group commit) | off
  --accept-log-loss    start even if the log has a gap (writes that may have been acknowledged
                       are missing): restore up to the gap, keep the damaged segments in
                       D/lost-<time>/, say what was lost (docs/operations.md); never the default
  --load FILE          bulk-load an NDJSON (.ndjson/.jsonl/.json) or CSV (.csv) file at start,
                       only when the restored index is empty (repeatable)
  --load-taobao FILE   bulk-load a Taobao UserBehavior CSV log at start (repeatable), same rule
  --demo [USERS]       generate the synthetic DMP data set (default 1000000 users) when the index is empty
  --seed S             seed for --demo (default 42)
  --union-cache-mb N   memory for unions of 2+ tags kept between queries
                       (prefixes, city lists; default 256, 0 = off)
  --retention-days N   keep dated tags' days only for the last N days: today and the N-1 before
                       it (default 0 = keep every day); the plain tags stay; events older are refused
  --retention-dry-run  say which days --retention-days would drop now, change nothing, exit
  --retention-force    let the start-up run drop more than 25% of the dated days (refused without)
  --as-of YYYY-MM-DD   today, for replaying history: relative windows, the event date limits and
                       retention count from it (default: the wall clock's date, UTC)
  --max-future-days N  refuse events dated later than today + N days (default 1)
  --min-event-date YYYY-MM-DD  refuse events dated earlier (default 2000-01-01)
  --max-body BYTES     largest request body (default 268435456)
  --max-inflight-body-mb N  memory all request bodies being read may hold together; a body
                       that would exceed it is answered 503 with Retry-After, unread
                       (default 512; at least --max-body)
  --max-queued-reply-mb N   memory all replies waiting for slow readers may hold together;
                       a large reply past it is answered 503 with Retry-After (default 256)
  --read-timeout SEC   deadline for each read of a request, header then body (default 30)
  --max-connections N  open connections beyond N are answered 503 and closed (default 10000)
  --max-queue N        requests in progress beyond N are answered 429 (default 1024)
  --time-budget-ms MS  a request still evaluating MS after it arrived answers 503 timeout
                       (default 10000; 0 = no budget)
  --tokens FILE        require `Authorization: Bearer` tokens: lines of `name scopes token`,
                       scopes read,export,write,admin (docs/security.md); without it crowdd
                       only listens on a loopback address
  --audit-log FILE     append a JSON line for every export and write (who, what, how many IDs)
  --audit-max-mb N     rotate the audit log when it would pass N MiB (default 64; 0 = never)
  --audit-keep N       rotated audit logs kept, FILE.1 .. FILE.N (default 8)
  --min-export-size K  refuse ID exports of crowds under K users (403 crowd_too_small) or within
                       K users of one of the token's recent exports (403 difference_too_small);
                       show analytics counts under K as "<K", list no insight row under K
                       (default 0 = off)
  --min-seed-size N    refuse lookalike seeds under N users (default: K)
  --cluster NAME       with --shard: this crowdd is a replica of shard K of cluster NAME
  --shard K            (docs/cluster.md): it applies the shard's write stream and refuses
                       writes from clients (409 read_only_replica); reads are served as ever
  --nats URL[,URL...]  the cluster's NATS servers with JetStream (nats://host:port)
  --etcd EP[,EP...]    the cluster's etcd members (host:port): the replica registers there
  --stream-replicas N  copies JetStream keeps of the shard's stream when it creates it (default 3)
  --snapshot-log-mb N  write a snapshot whenever the write-ahead log passes N MiB, so that a
                       restart replays little (default: 128 for a --shard replica, else 0 = off;
                       POST /v1/admin/snapshot works either way)
  --router             with --cluster, --nats and --etcd: no index; serve the API by publishing
                       writes to the shards' streams and fanning reads out to their replicas
  --shards S           a router starting a new cluster places its partitions on S shards (default 4)
  --write-timeout-ms MS  a router answers 503 write_not_confirmed when a write is not applied
                       within MS (default 10000)
  --hedge-after-ms MS  a router asks another replica of a shard that has not answered in MS
                       (default 20)
  --cursor-key-file F  the key that seals /v1/ids cursors (64 hex digits), shared by a cluster's
                       routers and replicas so that any of them continues a walk
  --version, --help
)";
}

std::optional<Config> parse_config(int argc, const char* const* argv, std::string& error) {
  Config c;
  c.http.threads = std::max(1u, std::thread::hardware_concurrency());
  auto value = [&](int& i, std::string_view flag) -> std::optional<std::string_view> {
    if (i + 1 >= argc) {
      error = std::string(flag) + " needs a value";
      return std::nullopt;
    }
    return std::string_view(argv[++i]);
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      c.help = true;
    } else if (flag == "--version") {
      c.version = true;
    } else if (flag == "--host") {
      const auto v = value(i, flag);
      if (!v) return std::nullopt;
      c.http.host = *v;
    } else if (flag == "--port") {
      const auto v = value(i, flag);
      if (!v || !parse_number(*v, c.http.port)) {
        if (error.empty()) error = "--port must be 0..65535";
        return std::nullopt;
      }
    } else if (flag == "--threads") {
      const auto v = value(i, flag);
      if (!v || !parse_number(*v, c.http.threads) || c.http.threads == 0 || c.http.threads > 1024) {
        if (error.empty()) error = "--threads must be 1..1024";
        return std::nullopt;
      }
    } else if (flag == "--data-dir") {
      const auto v = value(i, flag);
      if (!v) return std::nullopt;
      c.store.data_dir = *v;
    } else if (flag == "--accept-log-loss") {
      c.store.accept_log_loss = true;
    } else if (flag == "--fsync") {
      const auto v = value(i, flag);
      if (!v) return std::nullopt;
      const auto policy = parse_fsync_policy(*v);
      if (!policy) {
        error = "--fsync must be always, batch or off";
        return std::nullopt;
      }
      c.store.fsync = *policy;
    } else if (flag == "--load") {
      const auto v = value(i, flag);
      if (!v) return std::nullopt;
      c.load_files.emplace_back(*v);
    } else if (flag == "--load-taobao") {
      const auto v = value(i, flag);
      if (!v) return std::nullopt;
      c.taobao_files.emplace_back(*v);
    } else if (flag == "--demo") {
      // The user count is optional: take the next argument only if numeric.
      uint64_t users = kDefaultDemoUsers;
      if (i + 1 < argc && parse_number(std::string_view(argv[i + 1]), users)) ++i;
      if (users == 0) {
        error = "--demo needs at least one user";
        return std::nullopt;
      }
      c.demo_users = users;
    } else if (flag == "--seed") {
      const auto v = value(i, flag);
      if (!v || !parse_number(*v, c.seed)) {
        if (error.empty()) error = "--seed must be an unsigned integer";
        return std::nullopt;
      }
    } else if (flag == "--union-cache-mb") {
      const auto v = value(i, flag);
      if (!v || !parse_number(*v, c.union_cache_mb)) {
        if (error.empty()) error = "--union-cache-mb must be an unsigned integer (0 turns the cache off)";
        return std::nullopt;
      }
    } else if (flag == "--retention-days") {
      const auto v = value(i, flag);
      if (!v || !parse_number(*v, c.retention_days)) {
        if (error.empty()) error = "--retention-days must be an unsigned integer (0 keeps every day)";
        return std::nullopt;
      }
    } else if (flag == "--retention-force") {
      c.retention_force = true;
    } else if (flag == "--retention-dry-run") {
      c.retention_dry_run = true;
    } else if (flag == "--as-of" || flag == "--min-event-date") {
      const auto v = value(i, flag);
      const auto day = v ? query::parse_day(*v) : std::nullopt;
      if (!day) {
        if (error.empty()) error = std::string(flag) + " must be a date YYYY-MM-DD";
        return std::nullopt;
      }
      if (flag == "--as-of") {
        c.as_of = *day;
      } else {
        c.min_event_day = *day;
      }
    } else if (flag == "--max-future-days") {
      // Today + N is capped at 9999-12-31 (event_days.h); the bound only
      // keeps the sum from overflowing.
      const auto v = value(i, flag);
      if (!v || !parse_number(*v, c.max_future_days) || c.max_future_days > 3'000'000) {
        if (error.empty()) error = "--max-future-days must be an integer from 0 to 3000000";
        return std::nullopt;
      }
    } else if (flag == "--max-body") {
      const auto v = value(i, flag);
      if (!v || !parse_number(*v, c.http.max_body) || c.http.max_body == 0) {
        if (error.empty()) error = "--max-body must be a positive number of bytes";
        return std::nullopt;
      }
    } else if (flag == "--max-inflight-body-mb" || flag == "--max-queued-reply-mb") {
      const auto v = value(i, flag);
      std::size_t mb = 0;
      if (!v || !parse_number(*v, mb) || mb == 0 || mb > (std::size_t{1} << 30)) {
        if (error.empty()) error = std::string(flag) + " must be a positive number of MiB";
        return std::nullopt;
      }
      (flag == "--max-inflight-body-mb" ? c.http.max_inflight_body : c.http.max_queued_reply) = mb << 20;
    } else if (flag == "--read-timeout") {
      const auto v = value(i, flag);
      unsigned seconds = 0;
      if (!v || !parse_number(*v, seconds) || seconds == 0) {
        if (error.empty()) error = "--read-timeout must be a positive number of seconds";
        return std::nullopt;
      }
      c.http.read_timeout = std::chrono::seconds(seconds);
    } else if (flag == "--max-connections" || flag == "--max-queue") {
      const auto v = value(i, flag);
      std::size_t n = 0;
      if (!v || !parse_number(*v, n) || n == 0) {
        if (error.empty()) error = std::string(flag) + " must be a positive integer";
        return std::nullopt;
      }
      (flag == "--max-queue" ? c.http.max_queue : c.http.max_connections) = n;
    } else if (flag == "--time-budget-ms") {
      const auto v = value(i, flag);
      if (!v || !parse_number(*v, c.time_budget_ms)) {
        if (error.empty()) error = "--time-budget-ms must be an unsigned integer (0: no budget)";
        return std::nullopt;
      }
    } else if (flag == "--tokens" || flag == "--audit-log") {
      const auto v = value(i, flag);
      if (!v || v->empty()) {
        if (error.empty()) error = std::string(flag) + " needs a file";
        return std::nullopt;
      }
      (flag == "--tokens" ? c.tokens_file : c.audit_log) = *v;
    } else if (flag == "--audit-max-mb") {
      const auto v = value(i, flag);
      if (!v || !parse_number(*v, c.audit_max_mb) || c.audit_max_mb > (uint64_t{1} << 30)) {
        if (error.empty()) error = "--audit-max-mb must be 0..1073741824 (0: never rotate)";
        return std::nullopt;
      }
    } else if (flag == "--audit-keep") {
      const auto v = value(i, flag);
      if (!v || !parse_number(*v, c.audit_keep) || c.audit_keep > 1000) {
        if (error.empty()) error = "--audit-keep must be 0..1000";
        return std::nullopt;
      }
    } else if (flag == "--min-export-size" || flag == "--min-seed-size") {
      const auto v = value(i, flag);
      uint64_t n = 0;
      if (!v || !parse_number(*v, n)) {
        if (error.empty()) error = std::string(flag) + " must be an unsigned integer";
        return std::nullopt;
      }
      if (flag == "--min-export-size") {
        c.min_export_size = n;
      } else {
        c.min_seed_size = n;
      }
    } else if (flag == "--cluster") {
      const auto v = value(i, flag);
      if (!v || v->empty()) {
        if (error.empty()) error = "--cluster needs a name";
        return std::nullopt;
      }
      c.cluster.name = *v;
      // It names JetStream streams and NATS subjects: letters, digits, '-' and '_' only.
      for (const char ch : c.cluster.name) {
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_') {
          error = "--cluster names may hold only letters, digits, '-' and '_'";
          return std::nullopt;
        }
      }
    } else if (flag == "--shard") {
      const auto v = value(i, flag);
      uint32_t k = 0;
      if (!v || !parse_number(*v, k) || k >= 4096) {
        if (error.empty()) error = "--shard must be 0..4095";
        return std::nullopt;
      }
      c.cluster.shard = k;
    } else if (flag == "--nats" || flag == "--etcd") {
      const auto v = value(i, flag);
      if (!v) return std::nullopt;
      auto& list = flag == "--nats" ? c.cluster.nats : c.cluster.etcd;
      for (std::size_t at = 0; at <= v->size();) {
        const std::size_t comma = std::min(v->find(',', at), v->size());
        if (comma > at) list.emplace_back(v->substr(at, comma - at));
        at = comma + 1;
      }
    } else if (flag == "--snapshot-log-mb") {
      const auto v = value(i, flag);
      uint64_t n = 0;
      if (!v || !parse_number(*v, n) || n > (uint64_t{1} << 40)) {
        if (error.empty()) error = "--snapshot-log-mb must be a number of MiB (0: off)";
        return std::nullopt;
      }
      c.snapshot_log_mb = n;
    } else if (flag == "--router") {
      c.cluster.router = true;
    } else if (flag == "--shards") {
      const auto v = value(i, flag);
      if (!v || !parse_number(*v, c.cluster.shards) || c.cluster.shards == 0 || c.cluster.shards > 4096) {
        if (error.empty()) error = "--shards must be 1..4096";
        return std::nullopt;
      }
    } else if (flag == "--write-timeout-ms" || flag == "--hedge-after-ms") {
      const auto v = value(i, flag);
      uint64_t& into = flag == "--write-timeout-ms" ? c.cluster.write_timeout_ms : c.cluster.hedge_after_ms;
      if (!v || !parse_number(*v, into) || into == 0) {
        if (error.empty()) error = std::string(flag) + " must be a positive integer";
        return std::nullopt;
      }
    } else if (flag == "--cursor-key-file") {
      const auto v = value(i, flag);
      if (!v || v->empty()) {
        if (error.empty()) error = "--cursor-key-file needs a file";
        return std::nullopt;
      }
      c.cluster.cursor_key_file = *v;
    } else if (flag == "--stream-replicas") {
      const auto v = value(i, flag);
      if (!v || !parse_number(*v, c.cluster.stream_replicas) || c.cluster.stream_replicas == 0 ||
          c.cluster.stream_replicas > 5) {
        if (error.empty()) error = "--stream-replicas must be 1..5";
        return std::nullopt;
      }
    } else {
      error = "unknown flag " + std::string(flag);
      return std::nullopt;
    }
  }
  if (c.cluster.shard && (c.cluster.name.empty() || c.cluster.nats.empty())) {
    error = "--shard needs --cluster NAME and --nats URL";
    return std::nullopt;
  }
  if (c.cluster.router && c.cluster.shard) {
    error = "--router and --shard are two roles: give one";
    return std::nullopt;
  }
  if (c.cluster.router && (c.cluster.name.empty() || c.cluster.nats.empty() || c.cluster.etcd.empty())) {
    error = "--router needs --cluster NAME, --nats URL and --etcd EP";
    return std::nullopt;
  }
  if (!c.cluster.shard && !c.cluster.router &&
      (!c.cluster.name.empty() || !c.cluster.nats.empty() || !c.cluster.etcd.empty())) {
    error = "--cluster, --nats and --etcd are for a cluster role: give --shard K or --router too";
    return std::nullopt;
  }
  if (c.cluster.router && (!c.store.data_dir.empty() || c.demo_users || !c.load_files.empty() ||
                           !c.taobao_files.empty())) {
    error = "a --router holds no data: --data-dir, --demo and --load belong to the shards";
    return std::nullopt;
  }
  if (c.cluster.shard && c.store.data_dir.empty()) {
    error = "--shard needs --data-dir: a replica's position in its stream is kept in its log";
    return std::nullopt;
  }
  if (c.snapshot_log_mb.value_or(0) > 0 && c.store.data_dir.empty()) {
    error = "--snapshot-log-mb needs --data-dir: there is no log without one";
    return std::nullopt;
  }
  if (c.http.max_inflight_body < c.http.max_body) {
    // A body the route allows but the budget never could: refuse the
    // combination now rather than answer 503 to it forever.
    error = "--max-inflight-body-mb (" + std::to_string(c.http.max_inflight_body >> 20) +
            " MiB) is below --max-body (" + std::to_string(c.http.max_body) +
            " bytes): the largest body could never be read; lower --max-body or raise the budget";
    return std::nullopt;
  }
  if ((c.retention_dry_run || c.retention_force) && c.retention_days == 0) {
    error = std::string(c.retention_dry_run ? "--retention-dry-run" : "--retention-force") +
            " needs --retention-days N";
    return std::nullopt;
  }
  return c;
}

}  // namespace crowd::server
