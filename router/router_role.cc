#include "router/router_role.h"

#include <iostream>
#include <memory>
#include <thread>

#include "cluster/jetstream.h"
#include "cluster/membership.h"
#include "cluster/names.h"
#include "router/applied_positions.h"
#include "router/replica_fanout.h"
#include "router/router.h"
#include "router/topology.h"
#include "server/event_days.h"
#include "server/http_server.h"
#include "server/json_writer.h"
#include "server/metrics.h"
#include "server/page_cursor.h"

namespace crowd::router {

int run_router(const server::Config& config, const server::TokenTable* tokens, server::AuditLog* audit) {
  const server::ClusterConfig& cluster = config.cluster;
  std::string error;
  RouterOptions options;
  if (!cluster.cursor_key_file.empty()) {
    options.cursor_key = server::load_cursor_key(cluster.cursor_key_file, error);
    if (!options.cursor_key) {
      std::cerr << "crowdd: " << error << "\n";
      return 2;
    }
  }
  auto topology = Topology::start(cluster.etcd, cluster.name, cluster.shards, error);
  if (!topology) {
    std::cerr << "crowdd: cannot start as a router of cluster " << cluster.name << ": " << error << "\n";
    return 1;
  }
  auto js = cluster::JetStream::connect(cluster.nats, error);
  if (!js) {
    std::cerr << "crowdd: cannot start as a router: " << error << "\n";
    return 1;
  }
  const uint32_t shards = topology->layout()->map.shards();
  auto applied = AppliedPositions::start(*js, cluster.name, shards, error);
  if (!applied) {
    std::cerr << "crowdd: cannot start as a router: " << error << "\n";
    return 1;
  }
  ReplicaFanOut fanout(std::chrono::milliseconds(cluster.hedge_after_ms));

  server::Metrics metrics(config.http.max_inflight_body, config.http.max_queued_reply);
  options.cluster = cluster.name;
  options.tokens = tokens;
  options.audit = audit;
  options.metrics = &metrics;
  options.min_export_size = config.min_export_size;
  options.time_budget = std::chrono::milliseconds(config.time_budget_ms);
  options.write_timeout = std::chrono::milliseconds(cluster.write_timeout_ms);
  options.max_body = config.http.max_body;
  options.clock = server::day_clock_of(config);
  Router router(*topology, *js, *applied, fanout, options);
  server::HttpServer http(config.http, router, metrics);
  if (!http.listen(error)) {
    std::cerr << "crowdd: " << error << "\n";
    return 1;
  }
  const std::string url = "http://" + config.http.host + ":" + std::to_string(http.port());
  // Registered as a router, so that operators and the controller see it.
  std::string value;
  server::JsonWriter w(value);
  w.raw("{").key("role").string("router").raw(",").key("url").string(url).raw("}");
  cluster::Membership membership(cluster.etcd, cluster::etcd_prefix(cluster.name) + "routers/" + url, value);
  std::cerr << "crowdd: router of cluster " << cluster.name << " (" << shards << " shards, map version "
            << topology->layout()->map.version() << ")\n";
  // Tests and scripts read this line to learn the port (with --port 0).
  std::cout << "crowdd listening on " << url << std::endl;
  http.run();
  std::cerr << "crowdd: stopped\n";
  return 0;
}

}  // namespace crowd::router
