#include "server/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "server/outsized_request.h"
#include "server/http_framing.h"
#include "server/route.h"

namespace crowd::server {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

class Session;

struct HttpServer::Shared : std::enable_shared_from_this<HttpServer::Shared> {
  Shared(HttpOptions o, RequestHandler& a, Metrics& m)
      : options(std::move(o)),
        api(a),
        metrics(m),
        compute(std::max(1u, options.threads)),
        acceptor(ioc),
        signals(ioc, SIGINT, SIGTERM),
        drain(ioc) {
    for (unsigned i = 1; i < std::max(1u, options.threads); ++i) more.push_back(std::make_unique<net::io_context>(1));
  }

  HttpOptions options;
  RequestHandler& api;
  Metrics& metrics;
  // One io_context per worker thread, each run by that thread alone, and a
  // connection lives on one of them (round robin at accept). With a single
  // shared io_context a connection's completions hopped between threads: a
  // cross-thread wake-up per request (one keep-alive connection: 112 us a
  // round trip with 2 threads against 67 us with 1, measured).
  // `ioc` also holds the acceptor, the signals and the drain timer.
  net::io_context ioc{1};
  std::vector<std::unique_ptr<net::io_context>> more;
  // Where budgeted requests that outlast HttpOptions::inline_slice finish,
  // so that they never hold an I/O worker (and /healthz) for long.
  net::thread_pool compute;
  std::size_t accepted = 0;
  tcp::acceptor acceptor;
  net::signal_set signals;
  net::steady_timer drain;
  std::atomic<bool> stopping{false};
  // Requests between their header's arrival and the end of their reply.
  std::atomic<std::size_t> in_progress{0};

  std::mutex sessions_mutex;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;

  void accept();
  // The io_context the next connection goes to. Acceptor thread only.
  net::io_context& next_context() {
    const std::size_t i = accepted++ % (more.size() + 1);
    return i == 0 ? ioc : *more[i - 1];
  }
  void stop_all() {
    ioc.stop();
    for (auto& c : more) c->stop();
  }
  void begin_shutdown();
  void session_closed(Session* s);
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<HttpServer::Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {
    shared_->metrics.connection_opened();
  }
  ~Session() {
    leave_queue();
    shared_->metrics.connection_closed();
    shared_->session_closed(this);
  }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
  }

  // Shutdown: a connection waiting for its next request is closed now; one
  // with a request in flight finishes it and closes after the reply.
  void close_if_idle() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_) self->close();
    });
  }

  // A connection past max_connections: answered 503 and closed.
  void refuse() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->reply_and_close(unavailable("too many connections (" +
                                        std::to_string(self->shared_->options.max_connections) +
                                        "); try again later"));
    });
  }

 private:
  void read_header() {
    if (shared_->stopping) return close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_->options.max_header));
    parser_->body_limit(shared_->options.max_body);
    idle_ = true;
    stream_.expires_after(shared_->options.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    idle_ = false;
    if (ec) return read_failed(ec);
    call_ = Call{};  // arrived: now
    // Framing Beast accepts but RFC 9112 does not (http_framing.h): refused
    // first, and the connection closed, since its next bytes may be a body.
    if (auto problem = framing_problem(parser_->get())) return reply_and_close(*problem);
    if (shared_->in_progress.fetch_add(1, std::memory_order_relaxed) >= shared_->options.max_queue) {
      shared_->in_progress.fetch_sub(1, std::memory_order_relaxed);
      auto error = too_many_requests("too many requests in progress (" +
                                     std::to_string(shared_->options.max_queue) + "); try again shortly");
      reply_and_close(error);
      return;
    }
    queued_ = true;
    // Route and caller from the header alone: a request nobody may make, or
    // that no route answers, is refused before its body costs anything.
    if (auto refusal = shared_->api.admit(parser_->get(), call_)) {
      reply_ = std::move(*refusal);
      return answer_unread(parser_->get().version());
    }
    // Each route reads at most its own limit (a count needs kilobytes, an
    // ingest --max-body).
    const std::size_t limit = shared_->api.body_limit(call_);
    parser_->body_limit(limit);
    const auto length = parser_->content_length();
    if (length && *length > limit) {
      // Refuse before reading the body; the unread body means the connection
      // cannot be reused.
      return reply_and_close(shared_->api.body_too_large(call_));
    }
    // A declared body takes its whole length from the process-wide budget
    // before a byte of it is read (Beast reserves that much at once); a
    // chunked one takes room piece by piece (read_body_piece).
    if (length && *length > 0 && !body_hold_.grow_to(*length)) return refuse_body(*length);
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      continue_.emplace(http::status::continue_, parser_->get().version());
      stream_.expires_after(shared_->options.write_timeout);
      http::async_write(stream_, *continue_, [self = shared_from_this()](beast::error_code wec, std::size_t) {
        if (wec) return self->close();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  // A refusal from the header (401, 403, 404, 405): with no body to come the
  // connection stays open; with one, the reply goes out and the connection
  // closes without reading it (a lingering close, so the client sees it).
  void answer_unread(unsigned version) {
    const auto length = parser_->content_length();
    const bool body_follows = parser_->chunked() || (length && *length > 0);
    shared_->metrics.record(route_slot(call_.route), reply_.message.result_int(), 0);
    if (body_follows) {
      keep_alive_ = false;
      linger_ = true;
    } else {
      keep_alive_ = parser_->get().keep_alive() && !shared_->stopping;
    }
    reply_.message.version(version);
    reply_.message.keep_alive(keep_alive_);
    write_whole();
  }

  void read_body() {
    stream_.expires_after(shared_->options.read_timeout);  // for the whole body
    if (parser_->chunked()) return read_body_piece();
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  // A chunked body has no length to take up front. It is read a piece at a
  // time, and before the body's string would have to grow, the room for
  // the next pieces comes from the budget and is reserved, so the string
  // never outgrows what was granted (a read adds at most about a buffer's
  // 64 KiB; account() keeps the gauge true if one ever adds more).
  void read_body_piece() {
    auto& body = parser_->get().body();
    if (body.capacity() - body.size() < kBodyPiece) {
      const std::size_t limit = shared_->api.body_limit(call_);
      const std::size_t want = std::min(std::max(body.capacity() * 2, body.size() + kBodyPiece), limit + kBodyPiece);
      if (!body_hold_.grow_to(want)) return refuse_body(want);
      body.reserve(want);
    }
    http::async_read_some(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->read_failed(ec);
      self->body_hold_.account(self->parser_->get().body().capacity());
      if (self->parser_->is_done()) return self->on_read({}, 0);
      self->read_body_piece();
    });
  }

  // The body budget has no room: 503 with Retry-After, the body unread.
  void refuse_body(std::size_t bytes) {
    const auto& budget = shared_->metrics.inflight_bodies();
    reply_and_close(unavailable("request bodies being read hold " + std::to_string(budget.held() >> 20) + " MiB of " +
                                std::to_string(budget.limit() >> 20) + " MiB (--max-inflight-body-mb); this body of " +
                                std::to_string(bytes >> 10) + " KiB would not fit; try again shortly"),
                    true);
  }

  void read_failed(beast::error_code ec) {
    if (ec == http::error::body_limit) return reply_and_close(shared_->api.body_too_large(call_));
    if (ec == http::error::header_limit) {
      return reply_and_close(too_large("request header larger than " + std::to_string(shared_->options.max_header) +
                                       " bytes"));
    }
    if (ec == http::error::end_of_stream || ec == http::error::partial_message || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset || ec == net::error::eof) {
      return close();
    }
    // Anything else is a malformed request: say so, then close, since the
    // stream can no longer be trusted to be at a message boundary.
    return reply_and_close(bad_request("malformed HTTP request: " + ec.message()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return read_failed(ec);
    request_ = parser_->release();
    served_from_ = std::chrono::steady_clock::now();
    call_.yield_at = served_from_ + shared_->options.inline_slice;
    serve();
    if (call_.yielded) return serve_on_pool();
    answer();
  }

  // The request outlasted its slice on this I/O worker: run it again from
  // the start on the compute pool and answer from this connection's strand.
  // Nothing else touches the session meanwhile: no read or write is pending.
  void serve_on_pool() {
    call_.yielded = false;
    call_.yield_at = std::chrono::steady_clock::time_point::max();
    net::post(shared_->compute, [self = shared_from_this()] {
      self->serve();
      net::post(self->stream_.get_executor(), [self] { self->answer(); });
    });
  }

  void serve() {
    try {
      reply_ = shared_->api.serve(request_, call_);
    } catch (const std::bad_alloc&) {
      reply_ = error_reply(unavailable("out of memory while answering"));
    } catch (const std::exception& e) {
      std::cerr << "crowdd: internal error on " << request_.target() << ": " << e.what() << "\n";
      reply_ = error_reply({http::status::internal_server_error, "internal", "internal error", {}, {}, {}});
    }
    // What parsing an outsized body grew is this thread's (the JSON parser
    // is per thread), so it is given back here, on the thread that served.
    release_after_outsized_request(request_.body().size());
  }

  void answer() {
    keep_alive_ = request_.keep_alive() && !shared_->stopping;
    const auto micros = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                  std::chrono::steady_clock::now() - served_from_)
                                                  .count());
    shared_->metrics.record(route_slot(call_.route), reply_.message.result_int(), micros);
    reply_.message.version(request_.version());
    reply_.message.keep_alive(keep_alive_);
    request_ = Request{};
    body_hold_.reset();  // the body is gone: its budget goes back
    if (reply_.stream) return write_stream();
    write_whole();
  }

  void write_whole() {
    reply_.message.prepare_payload();
    stream_.expires_after(shared_->options.write_timeout);
    http::async_write(stream_, reply_.message, beast::bind_front_handler(&Session::on_written, shared_from_this()));
  }

  void write_stream() {
    head_.emplace();
    head_->base() = reply_.message.base();
    head_->chunked(true);
    serializer_.emplace(*head_);
    stream_.expires_after(shared_->options.write_timeout);
    http::async_write_header(stream_, *serializer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->write_chunk();
    });
  }

  void write_chunk() {
    bool more = false;
    try {
      more = reply_.stream->next(chunk_);
    } catch (const std::exception& e) {
      // The head is out; all we can do is cut the stream short, which the
      // client sees as a missing last chunk.
      std::cerr << "crowdd: export failed mid-stream: " << e.what() << "\n";
      return close();
    }
    // A piece larger than the stream promised is already spent: the gauge
    // shows it (reply_budget.h).
    reply_.held.account(chunk_.capacity());
    stream_.expires_after(shared_->options.write_timeout);
    if (!more) {
      net::async_write(stream_, http::make_chunk_last(),
                       beast::bind_front_handler(&Session::on_written, shared_from_this()));
      return;
    }
    net::async_write(stream_, http::make_chunk(net::buffer(chunk_)),
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->close();
                       self->write_chunk();
                     });
  }

  void on_written(beast::error_code ec, std::size_t) {
    leave_queue();
    reply_ = Reply{};
    serializer_.reset();
    head_.reset();
    std::string().swap(chunk_);
    if (!ec && linger_) return linger();
    if (ec || !keep_alive_) return close();
    read_header();
  }

  // After refusing a request whose body we did not read: stop sending, then
  // read and discard what the client is still sending (bounded in bytes and
  // time) before closing. Closing at once would reset the connection under a
  // client still writing, and it would never see the error reply.
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    drain_.resize(64 * 1024);
    drain_some();
  }
  void drain_some() {
    stream_.async_read_some(net::buffer(drain_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kLingerBytes) return self->close();
      self->drain_some();
    });
  }

  void leave_queue() {
    if (queued_) shared_->in_progress.fetch_sub(1, std::memory_order_relaxed);
    queued_ = false;
  }

  // `retry_after`: the refusal is of the moment (a budget), say when to try
  // again; 429 always says so.
  void reply_and_close(const ApiError& error, bool retry_after = false) {
    keep_alive_ = false;
    linger_ = true;
    body_hold_.reset();  // the body will not be read
    reply_ = error_reply(error);
    if (retry_after || error.status == http::status::too_many_requests) {
      reply_.message.set(http::field::retry_after, "1");
    }
    shared_->metrics.record(route_slot(call_.route), reply_.message.result_int(), 0);
    reply_.message.keep_alive(false);
    write_whole();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<HttpServer::Shared> shared_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Request request_;  // from its body's arrival until answer()
  std::chrono::steady_clock::time_point served_from_;
  std::optional<http::response<http::empty_body>> continue_;
  Reply reply_;
  std::optional<http::response<http::empty_body>> head_;
  std::optional<http::response_serializer<http::empty_body>> serializer_;
  std::string chunk_;
  Call call_;
  // This request's body's share of the in-flight body budget (Metrics).
  BudgetHold body_hold_{shared_->metrics.inflight_bodies()};
  bool queued_ = false;  // counted in Shared::in_progress
  bool keep_alive_ = false;
  bool idle_ = false;
  bool linger_ = false;
  std::string drain_;
  std::size_t drained_ = 0;
  // How long and how much a lingering close reads before giving up.
  static constexpr std::chrono::seconds kLingerTime{2};
  static constexpr std::size_t kLingerBytes = 64u << 20;
  // Room a chunked body keeps ahead of its reads: more than one read adds.
  static constexpr std::size_t kBodyPiece = 256u << 10;
};

void HttpServer::Shared::accept() {
  acceptor.async_accept(net::make_strand(next_context()), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (!acceptor.is_open()) return;  // shutting down
      // Out of descriptors and the like: keep serving what we have.
      std::cerr << "crowdd: accept failed: " << ec.message() << "\n";
    } else if (!stopping) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto session = std::make_shared<Session>(std::move(socket), shared_from_this());
      bool room = false;
      {
        std::lock_guard lock(sessions_mutex);
        room = sessions.size() < options.max_connections;
        if (room) sessions.emplace(session.get(), session);
      }
      if (room) {
        session->start();
      } else {
        session->refuse();
      }
    }
    if (acceptor.is_open()) accept();
  });
}

void HttpServer::Shared::begin_shutdown() {
  if (stopping.exchange(true)) return;
  beast::error_code ignored;
  acceptor.close(ignored);
  signals.cancel(ignored);
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(sessions_mutex);
    for (auto& [raw, weak] : sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->close_if_idle();
  // In-flight requests get drain_timeout to finish; then the workers stop.
  drain.expires_after(options.drain_timeout);
  drain.async_wait([this](beast::error_code ec) {
    if (!ec) stop_all();
  });
  session_closed(nullptr);  // nothing open at all: stop waiting now
}

void HttpServer::Shared::session_closed(Session* s) {
  bool last = false;
  {
    std::lock_guard lock(sessions_mutex);
    if (s != nullptr) sessions.erase(s);
    last = sessions.empty();
  }
  if (last && stopping) net::post(ioc, [self = shared_from_this()] { self->drain.cancel(); });
}

HttpServer::HttpServer(HttpOptions options, RequestHandler& api, Metrics& metrics)
    : shared_(std::make_shared<Shared>(std::move(options), api, metrics)) {}

HttpServer::~HttpServer() = default;

bool HttpServer::listen(std::string& error) {
  beast::error_code ec;
  const auto address = net::ip::make_address(shared_->options.host, ec);
  if (ec) {
    error = "bad --host " + shared_->options.host + ": " + ec.message();
    return false;
  }
  const tcp::endpoint endpoint(address, shared_->options.port);
  auto& acceptor = shared_->acceptor;
  if (acceptor.open(endpoint.protocol(), ec) || acceptor.set_option(net::socket_base::reuse_address(true), ec) ||
      acceptor.bind(endpoint, ec) || acceptor.listen(net::socket_base::max_listen_connections, ec)) {
    error = "cannot listen on " + shared_->options.host + ":" + std::to_string(shared_->options.port) + ": " +
            ec.message();
    return false;
  }
  return true;
}

uint16_t HttpServer::port() const { return shared_->acceptor.local_endpoint().port(); }

void HttpServer::run() {
  auto shared = shared_;
  shared->signals.async_wait([shared](beast::error_code ec, int) {
    if (!ec) shared->begin_shutdown();
  });
  shared->accept();
  // The other contexts may have no connection for a while: guards keep their
  // threads in run() until the main context is done.
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  std::vector<std::thread> workers;
  for (auto& c : shared->more) {
    guards.push_back(net::make_work_guard(*c));
    workers.emplace_back([c = c.get()] { c->run(); });
  }
  shared->ioc.run();  // returns once shut down and every session is closed
  guards.clear();
  for (auto& t : workers) t.join();
  // A request still on the pool (past the drain timeout) finishes its
  // budget; its answer has nowhere to go.
  shared->compute.join();
}

void HttpServer::stop() {
  net::post(shared_->ioc, [shared = shared_] { shared->begin_shutdown(); });
}

}  // namespace crowd::server
