// HttpServer: the Beast/Asio front end, serving a RequestHandler (an Api, or
// a cluster router). An acceptor, one Session per
// connection, `threads` workers each running its own io_context; connections
// are dealt to them round robin and stay on theirs.
//
// Every connection is bounded: a header size limit, a body limit (413), a
// deadline on every read and write (a slow or silent client is cut off and
// cannot hold a worker), and keep-alive. Handlers run on the worker that read
// the request, for at most `inline_slice`: almost every request is done by
// then (sub-millisecond), and pays no hand-over. A budgeted request still
// running then stops (as at its time budget; nothing written) and runs again
// from the start on a separate pool of `threads` compute threads, so that
// the I/O workers stay free: /healthz, cheap counts and every other
// connection on that worker are answered while any number of long queries
// run. Long outputs (CSV exports) are
// produced chunk by chunk, the next only once the last has been written (a
// slow reader holds one chunk, not the export). Overload is refused rather
// than queued without bound: connections past max_connections get 503,
// requests past max_queue in progress get 429 with Retry-After, and bodies
// and unread replies past their process-wide byte budgets (Metrics) 503 with
// Retry-After.
//
// Shutdown (SIGINT/SIGTERM or stop()): stop accepting, close idle
// connections, let in-flight requests finish and answer with
// `Connection: close`, then return from run().
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "server/metrics.h"
#include "server/request_handler.h"

namespace crowd::server {

struct HttpOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (see port())
  unsigned threads = 1;
  std::size_t max_body = 256u << 20;  // bytes
  std::size_t max_header = 64u << 10;  // bytes; a 64 KiB query fits in a GET target
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds write_timeout{60};
  std::chrono::seconds drain_timeout{30};  // shutdown gives in-flight requests this long
  // Open connections beyond this are answered 503 and closed at once.
  std::size_t max_connections = 10'000;
  // Requests in progress (from their header's arrival to the end of their
  // reply, streamed exports included) beyond this are answered 429.
  std::size_t max_queue = 1'024;
  // All request bodies being read or waiting to be served may hold this
  // much together; a body that would go past it is answered 503 with
  // Retry-After and not read. At least max_body (config.cc checks).
  std::size_t max_inflight_body = 512u << 20;
  // All replies made but not yet taken by their readers (a whole reply of
  // 64 KiB or more, a streamed export's chunk) may hold this much together;
  // a reply that would go past it is answered 503 with Retry-After instead.
  std::size_t max_queued_reply = 256u << 20;
  // How long a budgeted handler may run on an I/O worker before it is moved
  // to the compute pool. It bounds how long one long query delays the other
  // connections of its worker (/healthz included); the cost is that a long
  // query does its first slice twice (5 ms of a query that runs for seconds;
  // unions it built are kept in the union cache). Zero: every budgeted
  // request runs on the pool.
  std::chrono::milliseconds inline_slice{5};
};

class HttpServer {
 public:
  HttpServer(HttpOptions options, RequestHandler& handler, Metrics& metrics);
  ~HttpServer();

  // Binds and listens. Returns false with a message on failure.
  [[nodiscard]] bool listen(std::string& error);
  // The bound port (after listen()).
  [[nodiscard]] uint16_t port() const;
  // Serves on `threads` workers until SIGINT/SIGTERM or stop(); returns once
  // in-flight requests are done (or the drain timeout passed).
  void run();
  // Begins a graceful shutdown; any thread.
  void stop();

  struct Shared;  // state shared with sessions

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace crowd::server
