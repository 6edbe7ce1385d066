// run_load: drives HTTP/1.1 keep-alive connections against a server with a
// query mix and measures every response. The engine of crowd-bench.
//
// Closed loop (no rate): each connection sends its next request as soon as
// the previous response has arrived, so the offered load adapts to the
// server and the result is its throughput at that concurrency.
//
// Open loop (rate R): request k is due at start + k/R whatever the server
// does. Each client thread schedules its share (every T-th request) and hands
// a due request to one of its idle connections; when none is idle the request
// waits in the thread's queue. Latency runs from the due time, not from the
// moment a connection got to it, so time spent queued behind a slow response
// is measured instead of omitted ("coordinated omission").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "bench/load_report.h"
#include "bench/query_mix.h"

namespace crowd::bench {

struct LoadPlan {
  std::string host;         // to resolve and connect to
  std::string port;         // service or number
  std::string host_header;  // Host: as in the URL
  unsigned connections = 1;
  unsigned threads = 1;  // client I/O threads; more than connections is pointless
  // Exactly one of duration_s and requests: measure for this long, or
  // exactly this many requests (spread over the connections).
  std::optional<double> duration_s;
  std::optional<uint64_t> requests;
  std::optional<double> rate;  // open loop when set, req/s over all connections
  double warmup_s = 1;         // requests due in the first warmup_s are not recorded
  uint64_t seed = 1;
  std::chrono::milliseconds timeout{10'000};  // connect + write + read of one request
};

// Connects every connection first; if the server cannot be reached returns
// nullopt with `error`. Otherwise runs the plan to completion, waiting for the
// answer (or timeout) of every measured request, and returns what happened.
// The caller fills LoadResult::url and ::mix. Threads: plan.threads (clamped
// to the number of connections), joined before returning.
[[nodiscard]] std::optional<LoadResult> run_load(const LoadPlan& plan, const QueryMix& mix, std::string& error);

}  // namespace crowd::bench
