// Call: one request's context between the session and the handler -- who is
// calling and by when the answer is due (in), which route it was and what
// the audit log should say about it (out).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace crowd::server {

struct Principal;
struct Route;

struct Call {
  // In. When the request's header had arrived; the time budget counts from
  // here, so time spent queued behind other requests counts too.
  std::chrono::steady_clock::time_point arrived = std::chrono::steady_clock::now();
  // In, from the session: a budgeted handler still running at this time
  // stops as it would at its time budget, and Api::serve sets `yielded`
  // instead of answering, so that the session can run the request again
  // away from its I/O thread (http_server.cc). max(): never.
  std::chrono::steady_clock::time_point yield_at = std::chrono::steady_clock::time_point::max();

  // Out, from Api::admit(): the route table's row (null: no route matched)
  // with the values of its pattern's `{name}` segments, and the caller once
  // authenticated (null without --tokens).
  const Route* route = nullptr;
  std::vector<std::string> path_values;
  const Principal* principal = nullptr;
  // Out, set by export and write handlers: the query (or the crowd name) and
  // how many IDs the answer holds / how many users the write touched.
  std::string query;
  uint64_t ids = 0;
  uint64_t users = 0;
  // Set by a handler whose route is not audited as a whole but this request
  // writes (a lookalike with save_as).
  bool audit = false;
  // Out: the request stopped at `yield_at`; the Reply is empty and nothing
  // was written or audited (a budgeted handler never writes before its last
  // deadline check), so running it again is safe.
  bool yielded = false;
};

}  // namespace crowd::server
