// LoadResult: what one crowd-bench run measured, and its two renderings, the
// human-readable report and the JSON document (--json). Pure: no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "bench/latency_histogram.h"

namespace crowd::bench {

struct LoadResult {
  // What was asked.
  std::string url;
  std::string mix;
  bool open_loop = false;
  unsigned connections = 0;
  unsigned threads = 0;
  std::optional<double> rate;  // req/s, open loop only

  // What happened, counting measured (post-warm-up) requests only.
  uint64_t requests = 0;           // finished: answered, failed or timed out
  uint64_t connection_errors = 0;  // connect, write or read failed
  uint64_t timeouts = 0;           // no full response within --timeout-ms
  uint64_t non_2xx = 0;            // answered with a status outside 200..299
  std::map<int, uint64_t> status;  // every answered request by status
  // Open loop: measured requests sent later than due, because no connection
  // was free (queued) or the client's own timer ran late by more than 1 ms
  // (late_dispatch: the client, not the server, fell behind).
  uint64_t behind_schedule = 0;  // queued + late_dispatch
  uint64_t queued = 0;
  uint64_t late_dispatch = 0;
  // Open loop: nanoseconds from the due time to the moment the request was
  // written, the client-side share of latency_ns.
  LatencyHistogram send_delay_ns;
  double duration_s = 0;  // end of the warm-up to the last measured completion
  // Nanoseconds from the (intended) send to the last byte of the response,
  // for every answered request whatever its status.
  LatencyHistogram latency_ns;

  [[nodiscard]] uint64_t errors() const { return connection_errors + timeouts + non_2xx; }
  [[nodiscard]] double throughput_rps() const { return duration_s > 0 ? requests / duration_s : 0.0; }
};

// Several lines for a terminal, latencies in µs.
[[nodiscard]] std::string format_report(const LoadResult& r);

// In this order (ordered_json, for people reading the file):
// {"mode": "closed"|"open", "connections", "threads", "rate" (null when
// closed), "requests", "errors", "connection_errors", "timeouts", "non_2xx",
// "status": {"200": n, ...}, "duration_s", "throughput_rps",
// "latency_us": {"p50", "p90", "p99", "p999", "max", "mean", "min"} (each
// null if nothing was answered), "behind_schedule", "queued",
// "late_dispatch", "send_delay_us": {"p50", "p99", "max"} (null in a closed
// loop), "url", "mix"}.
[[nodiscard]] nlohmann::ordered_json report_json(const LoadResult& r);

}  // namespace crowd::bench
