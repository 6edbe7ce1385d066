// crowdd: the audience server. Restores or loads the index, then serves HTTP
// until SIGINT/SIGTERM, then flushes the log and exits 0.
#include <csignal>
#include <chrono>
#include <iostream>

#include "index/store.h"
#include "query/union_cache.h"
#include "server/api.h"
#include "server/retention.h"
#include "server/config.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/startup_load.h"

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

  Metrics metrics;
  std::unique_ptr<query::UnionCache> unions;
  if (config->union_cache_mb > 0) unions = std::make_unique<query::UnionCache>(config->union_cache_mb << 20);
  std::unique_ptr<Retention> retention;
  if (config->retention_days > 0) {
    retention = std::make_unique<Retention>(*store, config->retention_days);
    const auto cleared = retention->enforce(nullptr, error);
    if (!cleared) {
      std::cerr << "crowdd: cannot start: " << error << "\n";
      return 1;
    }
    if (*cleared > 0) std::cerr << "crowdd: retention dropped " << *cleared << " day tags\n";
  }
  Api api(*store, metrics, unions.get(), retention.get());
  HttpServer server(config->http, api, metrics);
  if (!server.listen(error)) {
    std::cerr << "crowdd: " << error << "\n";
    return 1;
  }
  // Tests and scripts read this line to learn the port (with --port 0).
  std::cout << "crowdd listening on http://" << config->http.host << ":" << server.port() << std::endl;
  server.run();
  store->flush();
  std::cerr << "crowdd: stopped\n";
  return 0;
}
