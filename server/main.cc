// crowdd: the audience server. Restores or loads the index, then serves HTTP
// until SIGINT/SIGTERM, then flushes the log and exits 0.
#include <sys/resource.h>

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>

#include "index/store.h"
#include "query/date.h"
#include "query/union_cache.h"
#include "router/router_role.h"
#include "server/access.h"
#include "server/api.h"
#include "server/audit_log.h"
#include "server/auto_snapshot.h"
#include "server/event_days.h"
#include "server/retention.h"
#include "server/shard_role.h"
#include "server/config.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/page_cursor.h"
#include "server/startup_load.h"

namespace {

bool is_loopback(const std::string& host) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

// Each connection is a descriptor: lift the soft limit toward the hard one
// so that --max-connections, not EMFILE, is what refuses connections.
void raise_descriptor_limit(std::size_t connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t wanted = std::min<rlim_t>(limit.rlim_max, static_cast<rlim_t>(connections) + 256);
  if (limit.rlim_cur >= wanted) return;
  limit.rlim_cur = wanted;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur < static_cast<rlim_t>(connections) + 64) {
    std::cerr << "crowdd: warning: the descriptor limit (" << limit.rlim_cur
              << ") is below --max-connections + 64; accept may fail first\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace crowd;
  using namespace crowd::server;

  // A write past a file size limit (RLIMIT_FSIZE) must fail with EFBIG like
  // a full disk -- the write answers 503 -- not kill the server.
  std::signal(SIGXFSZ, SIG_IGN);

  std::string error;
  const auto config = parse_config(argc, argv, error);
  if (!config) {
    std::cerr << "crowdd: " << error << "\n" << usage();
    return 2;
  }
  if (config->help) {
    std::cout << usage();
    return 0;
  }
  if (config->version) {
    std::cout << "crowdd 0.1.0 (CRoaring " << (CROWD_ROARING_NATIVE ? "built -march=native" : "system library")
              << ")\n";
    return 0;
  }

  // Access control before anything else: a misconfigured server must not
  // spend minutes loading data only to refuse to start.
  std::optional<TokenTable> tokens;
  if (!config->tokens_file.empty()) {
    std::string warning;
    tokens = TokenTable::load(config->tokens_file, error, warning);
    if (!tokens) {
      std::cerr << "crowdd: " << error << "\n";
      return 2;
    }
    if (!warning.empty()) std::cerr << "crowdd: warning: " << warning << "\n";
  } else if (!is_loopback(config->http.host)) {
    std::cerr << "crowdd: refusing to listen on " << config->http.host
              << " without --tokens: anyone who can reach it could read and erase the data "
                 "(give --tokens FILE, or listen on 127.0.0.1)\n";
    return 2;
  }
  std::unique_ptr<AuditLog> audit;
  if (!config->audit_log.empty()) {
    AuditOptions audit_options;
    audit_options.max_bytes = config->audit_max_mb << 20;
    audit_options.keep = config->audit_keep;
    audit = AuditLog::open(config->audit_log, audit_options, error);
    if (!audit) {
      std::cerr << "crowdd: " << error << "\n";
      return 2;
    }
  }
  raise_descriptor_limit(config->http.max_connections);
  // A router holds no index: it answers by the shards (docs/cluster.md).
  if (config->cluster.router) return router::run_router(*config, tokens ? &*tokens : nullptr, audit.get());
  std::optional<std::array<unsigned char, 32>> cursor_key;
  if (!config->cluster.cursor_key_file.empty()) {
    cursor_key = load_cursor_key(config->cluster.cursor_key_file, error);
    if (!cursor_key) {
      std::cerr << "crowdd: " << error << "\n";
      return 2;
    }
  }

  const auto started = std::chrono::steady_clock::now();
  std::string notes;
  auto store = Store::open(config->store, error, &notes);
  if (!store) {
    std::cerr << "crowdd: cannot start: " << error << "\n";
    return 1;
  }
  if (!notes.empty()) std::cerr << "crowdd: " << notes << "\n";
  if (!load_startup_data(*config, *store, error)) {
    std::cerr << "crowdd: cannot start: " << error << "\n";
    return 1;
  }
  const auto view = store->view();
  std::cerr << "crowdd: ready in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() << " s: "
            << view->universe().cardinality << " users, " << view->dictionary().user_tag_count() << " tags, "
            << view->bitmap_bytes() / (1 << 20) << " MiB of bitmaps, RSS " << resident_bytes() / (1 << 20)
            << " MiB\n";

  const DayClock clock = day_clock_of(*config);
  if (const auto note = days_beyond_note(*view, clock.event_limit())) {
    std::cerr << "crowdd: warning: " << *note << "\n";
  }

  Metrics metrics(config->http.max_inflight_body, config->http.max_queued_reply);
  std::unique_ptr<query::UnionCache> unions;
  if (config->union_cache_mb > 0) unions = std::make_unique<query::UnionCache>(config->union_cache_mb << 20);
  std::unique_ptr<Retention> retention;
  if (config->retention_days > 0) {
    retention = std::make_unique<Retention>(*store, config->retention_days, [clock] { return clock.today(); });
    if (config->retention_dry_run) {
      const RetentionPlan plan = retention->plan();
      std::cerr << "crowdd: retention --retention-days " << config->retention_days << " as of "
                << query::format_day(clock.today()) << ": " << plan.describe()
                << (plan.within_share() ? "" : " (more than the share a run may drop without --retention-force)")
                << "; nothing was changed\n";
      return 0;
    }
    const auto cleared = retention->enforce(nullptr, error, config->retention_force);
    if (!cleared) {
      std::cerr << "crowdd: cannot start: " << error << "\n";
      return 1;
    }
    if (*cleared > 0) std::cerr << "crowdd: retention dropped " << *cleared << " day tags\n";
  }
  ApiOptions api_options;
  api_options.unions = unions.get();
  api_options.retention = retention.get();
  api_options.tokens = tokens ? &*tokens : nullptr;
  api_options.audit = audit.get();
  api_options.min_export_size = config->min_export_size;
  api_options.min_seed_size = config->min_seed_size.value_or(config->min_export_size);
  api_options.time_budget = std::chrono::milliseconds(config->time_budget_ms);
  api_options.max_body = config->http.max_body;
  api_options.clock = clock;
  api_options.cursor_key = cursor_key;
  if (config->cluster.shard) {
    api_options.replica_of =
        "replica of shard " + std::to_string(*config->cluster.shard) + " of cluster " + config->cluster.name;
  }
  Api api(*store, metrics, api_options);
  HttpServer server(config->http, api, metrics);
  if (!server.listen(error)) {
    std::cerr << "crowdd: " << error << "\n";
    return 1;
  }
  const std::string url = "http://" + config->http.host + ":" + std::to_string(server.port());
  // A cluster replica applies its shard's stream; activation is the
  // routers' business there (docs/cluster.md).
  std::unique_ptr<ShardRole> shard;
  if (config->cluster.shard) {
    shard = ShardRole::start(*store, config->cluster, url, error);
    if (!shard) {
      std::cerr << "crowdd: cannot start as a " << api_options.replica_of << ": " << error << "\n";
      return 1;
    }
  }
  // A replica is never asked for snapshots: it takes them as its log grows.
  std::unique_ptr<AutoSnapshot> auto_snapshot;
  const uint64_t snapshot_log_mb = config->snapshot_log_mb.value_or(config->cluster.shard ? 128 : 0);
  if (snapshot_log_mb > 0 && store->persistent()) {
    auto_snapshot = std::make_unique<AutoSnapshot>(*store, snapshot_log_mb << 20);
  }
  // Tests and scripts read this line to learn the port (with --port 0).
  std::cout << "crowdd listening on " << url << std::endl;
  // Scheduled refreshes and pushes (docs/activation.md), once serving.
  if (!shard) api.start_activation();
  server.run();
  shard.reset();
  auto_snapshot.reset();
  api.stop_activation();
  store->flush();
  std::cerr << "crowdd: stopped\n";
  return 0;
}
