// crowdd --router: builds a router's parts -- the topology from etcd, the
// JetStream connection, the applied-position listeners, the fan-out pool --
// and serves the HTTP API with them until SIGINT/SIGTERM.
#pragma once

#include "server/config.h"

namespace crowd::server {
class AuditLog;
class TokenTable;
}  // namespace crowd::server

namespace crowd::router {

// The process's exit status: 0 after a clean stop, 1 when it cannot start.
[[nodiscard]] int run_router(const server::Config& config, const server::TokenTable* tokens,
                             server::AuditLog* audit);

}  // namespace crowd::router
