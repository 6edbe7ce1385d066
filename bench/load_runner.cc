#include "bench/load_runner.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "bench/discard_body.h"

namespace crowd::bench {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using Request = http::request<http::string_body>;

// An open-loop timer that fires this much after a request's due time has let
// the request slip; less is ordinary wake-up jitter.
constexpr auto kTimerSlack = std::chrono::milliseconds(1);
// After a failed connect, wait before the next attempt so a dead server
// costs errors at a bounded rate instead of a spinning core.
constexpr auto kReconnectBackoff = std::chrono::milliseconds(50);

// When the run starts and stops, shared read-only by every thread except the
// ticket counter.
struct Schedule {
  Clock::time_point start;         // closed: first sends; open: request 0 due
  Clock::time_point measure_from;  // start + warm-up
  // Closed loop, duration mode: no request is started at or after this.
  Clock::time_point stop_at = Clock::time_point::max();
  // Closed loop, requests mode: measured requests handed out so far.
  std::optional<uint64_t> request_limit;
  std::atomic<uint64_t> tickets{0};
  // Open loop: request k is due at start + k / rate and recorded if
  // k_measured <= k < k_end.
  double rate = 0;
  uint64_t k_measured = 0;
  uint64_t k_end = 0;

  [[nodiscard]] Clock::time_point due(uint64_t k) const {
    return start + std::chrono::nanoseconds(static_cast<int64_t>(std::llround(static_cast<double>(k) * 1e9 / rate)));
  }
};

// A duration as histogram nanoseconds. Due times are never after the
// moments they are subtracted from, but a negative value would wrap to
// 2^64 ns, so clamp rather than trust that.
uint64_t nanos(Clock::duration d) {
  return static_cast<uint64_t>(std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()));
}

// One request to make: which mix entry, when it was due, whether it counts.
struct Job {
  std::size_t entry = 0;
  Clock::time_point due;
  bool measured = false;
};

// Everything one thread measured; merged after join, so no atomics.
struct ThreadStats {
  LatencyHistogram latency_ns;
  uint64_t requests = 0;
  uint64_t connection_errors = 0;
  uint64_t timeouts = 0;
  uint64_t non_2xx = 0;
  uint64_t queued = 0;
  uint64_t late_dispatch = 0;
  LatencyHistogram send_delay_ns;
  std::array<uint64_t, 1000> status{};  // Beast accepts status codes 0..999
  Clock::time_point last_completion{};
};

class Worker;

// One keep-alive connection: connect when needed, write, read, report.
class Connection {
 public:
  Connection(Worker& worker, uint64_t seed);

  // Closed loop: send requests until the schedule says stop.
  void start_closed() { next_closed(); }
  // Makes one request (connecting first if the socket is closed); calls the
  // worker back when it is answered or has failed.
  void send(const Job& job);

  tcp::socket& socket() { return socket_; }
  // The watchdog's view: mid-request and past the deadline.
  [[nodiscard]] bool overdue(Clock::time_point now) const { return in_flight_ && now >= deadline_; }
  void expire();

 private:
  void next_closed();
  void write();
  void read();
  void on_response();
  void on_failure(beast::error_code ec, bool connecting);
  void close();
  void finished();

  Worker& w_;
  tcp::socket socket_;
  net::steady_timer backoff_;
  beast::flat_buffer buffer_;
  // A fresh parser per response, as Beast requires; emplaced in place so it
  // costs no allocation of its own.
  std::optional<http::response_parser<DiscardBody>> parser_;
  SplitMix64 rng_;  // closed loop: this connection's stream of choices
  Job job_;
  Clock::time_point deadline_;
  bool in_flight_ = false;
  bool timed_out_ = false;
};

// One client I/O thread: its io_context, connections, requests, statistics
// and, in open loop, its share of the arrival schedule.
class Worker {
 public:
  Worker(const LoadPlan& plan, const QueryMix& mix, Schedule& schedule, tcp::endpoint endpoint, unsigned index,
         unsigned threads)
      : plan_(plan),
        endpoint_(endpoint),
        picker_(mix),
        schedule_(schedule),
        ioc_(1),
        arrivals_(ioc_),
        watchdog_(ioc_),
        rng_(plan.seed * 0x9e3779b97f4a7c15ULL + index + 1),
        index_(index),
        threads_(threads) {
    // A private copy of every request: serialising reads the message only,
    // but no thread should share cache lines with another on the hot path.
    for (const auto& e : mix.entries) {
      Request req(e.post ? http::verb::post : http::verb::get, e.target, 11);
      req.set(http::field::host, plan.host_header);
      req.set(http::field::user_agent, "crowd-bench");
      if (e.post) {
        req.set(http::field::content_type, "application/json");
        req.body() = e.body;
      }
      req.prepare_payload();
      requests_.push_back(std::move(req));
    }
  }

  void add_connection(uint64_t seed) { connections_.push_back(std::make_unique<Connection>(*this, seed)); }
  [[nodiscard]] std::vector<std::unique_ptr<Connection>>& connections() { return connections_; }
  net::io_context& ioc() { return ioc_; }
  const LoadPlan& plan() const { return plan_; }
  const tcp::endpoint& endpoint() const { return endpoint_; }
  Schedule& schedule() { return schedule_; }
  const Request& request(std::size_t entry) const { return requests_[entry]; }
  std::size_t pick(SplitMix64& rng) const { return picker_.pick(rng()); }
  ThreadStats& stats() { return stats_; }

  // Runs this thread's share of the load to completion.
  void run() {
    if (schedule_.rate > 0) {
      next_k_ = index_;
      for (auto& c : connections_) idle_.push_back(c.get());
      arm_arrivals();
    } else {
      active_ = connections_.size();
      for (auto& c : connections_) c->start_closed();
    }
    arm_watchdog();
    ioc_.run();
  }

  void record_response(const Job& job, int status, Clock::time_point now) {
    if (!job.measured) return;
    ++stats_.requests;
    stats_.latency_ns.record(nanos(now - job.due));
    ++stats_.status[static_cast<std::size_t>(std::clamp(status, 0, 999))];
    if (status < 200 || status > 299) ++stats_.non_2xx;
    stats_.last_completion = std::max(stats_.last_completion, now);
  }

  void record_send_delay(Clock::duration delay) { stats_.send_delay_ns.record(nanos(delay)); }

  void record_failure(const Job& job, bool timed_out, Clock::time_point now) {
    if (!job.measured) return;
    ++stats_.requests;
    ++(timed_out ? stats_.timeouts : stats_.connection_errors);
    stats_.last_completion = std::max(stats_.last_completion, now);
  }

  // Open loop: `c` has finished its request; give it the oldest queued one.
  void connection_free(Connection* c) {
    if (!queue_.empty()) {
      const Job job = queue_.front();
      queue_.pop_front();
      c->send(job);
      return;
    }
    idle_.push_back(c);
    if (arrivals_done_ && idle_.size() == connections_.size()) finish();
  }

  // Closed loop: a connection has sent its last request.
  void connection_stopped() {
    if (--active_ == 0) finish();
  }

 private:
  void arm_arrivals() {
    if (next_k_ >= schedule_.k_end) {
      arrivals_done_ = true;
      if (idle_.size() == connections_.size()) finish();
      return;
    }
    arrivals_.expires_at(schedule_.due(next_k_));
    arrivals_.async_wait([this](beast::error_code ec) {
      if (!ec) on_arrivals();
    });
  }

  // Hands every request that is due by now to an idle connection, or queues
  // it; one timer wake-up may cover several requests at high rates.
  void on_arrivals() {
    const auto now = Clock::now();
    while (next_k_ < schedule_.k_end) {
      const auto due = schedule_.due(next_k_);
      if (due > now) break;
      const Job job{pick(rng_), due, next_k_ >= schedule_.k_measured};
      next_k_ += threads_;
      if (!idle_.empty()) {
        if (job.measured && now - due > kTimerSlack) ++stats_.late_dispatch;
        Connection* c = idle_.back();
        idle_.pop_back();
        c->send(job);
      } else {
        if (job.measured) ++stats_.queued;
        queue_.push_back(job);
      }
    }
    arm_arrivals();
  }

  // One coarse timer per thread enforces --timeout-ms for all its
  // connections, instead of a timer armed and cancelled per request (or, with
  // beast::tcp_stream, per read and write).
  void arm_watchdog() {
    if (finished_) return;
    const auto period = std::clamp<std::chrono::milliseconds>(plan_.timeout / 10, std::chrono::milliseconds(1),
                                                              std::chrono::milliseconds(100));
    watchdog_.expires_after(period);
    watchdog_.async_wait([this](beast::error_code ec) {
      if (ec || finished_) return;
      const auto now = Clock::now();
      for (auto& c : connections_) {
        if (c->overdue(now)) c->expire();
      }
      arm_watchdog();
    });
  }

  void finish() {
    finished_ = true;
    watchdog_.cancel();
  }

  const LoadPlan& plan_;
  tcp::endpoint endpoint_;
  MixPicker picker_;
  Schedule& schedule_;
  net::io_context ioc_;
  std::vector<Request> requests_;
  std::vector<std::unique_ptr<Connection>> connections_;
  ThreadStats stats_;
  net::steady_timer arrivals_;
  net::steady_timer watchdog_;
  SplitMix64 rng_;  // open loop: this thread's stream of choices
  unsigned index_;
  unsigned threads_;
  std::size_t active_ = 0;
  uint64_t next_k_ = 0;
  bool arrivals_done_ = false;
  bool finished_ = false;
  std::deque<Job> queue_;
  std::vector<Connection*> idle_;
};

Connection::Connection(Worker& worker, uint64_t seed)
    : w_(worker), socket_(worker.ioc()), backoff_(worker.ioc()), rng_(seed) {}

void Connection::next_closed() {
  auto& s = w_.schedule();
  const auto now = Clock::now();
  Job job{w_.pick(rng_), now, false};
  if (now >= s.measure_from) {
    if (s.request_limit) {
      if (s.tickets.fetch_add(1, std::memory_order_relaxed) >= *s.request_limit) return w_.connection_stopped();
    } else if (now >= s.stop_at) {
      return w_.connection_stopped();
    }
    job.measured = true;
  }
  send(job);
}

void Connection::send(const Job& job) {
  job_ = job;
  in_flight_ = true;
  timed_out_ = false;
  deadline_ = Clock::now() + w_.plan().timeout;
  if (socket_.is_open()) return write();
  // The server closed the last connection (or it failed): open a new one;
  // its connect time is part of this request's latency.
  socket_.async_connect(w_.endpoint(), [this](beast::error_code ec) {
    if (ec) return on_failure(ec, true);
    socket_.set_option(tcp::no_delay(true), ec);
    write();
  });
}

void Connection::write() {
  if (job_.measured && w_.schedule().rate > 0) w_.record_send_delay(Clock::now() - job_.due);
  http::async_write(socket_, w_.request(job_.entry), [this](beast::error_code ec, std::size_t) {
    if (ec) return on_failure(ec, false);
    read();
  });
}

void Connection::read() {
  parser_.emplace();
  parser_->body_limit(boost::none);
  http::async_read(socket_, buffer_, *parser_, [this](beast::error_code ec, std::size_t) {
    if (ec) return on_failure(ec, false);
    on_response();
  });
}

void Connection::on_response() {
  const auto now = Clock::now();
  in_flight_ = false;
  const auto& res = parser_->get();
  if (!res.keep_alive()) close();
  w_.record_response(job_, res.result_int(), now);
  finished();
}

void Connection::on_failure(beast::error_code, bool connecting) {
  const auto now = Clock::now();
  in_flight_ = false;
  close();
  w_.record_failure(job_, timed_out_, now);
  if (connecting && !timed_out_) {
    backoff_.expires_after(kReconnectBackoff);
    backoff_.async_wait([this](beast::error_code) { finished(); });
    return;
  }
  finished();
}

void Connection::expire() {
  timed_out_ = true;
  // Closing aborts the pending connect, write or read; its handler then
  // sees timed_out_.
  beast::error_code ignored;
  socket_.close(ignored);
}

void Connection::close() {
  beast::error_code ignored;
  socket_.close(ignored);
  buffer_.clear();
}

void Connection::finished() {
  if (w_.schedule().rate > 0) return w_.connection_free(this);
  next_closed();
}

// Connects `socket` within `timeout` by running its idle io_context here,
// before the threads start: a plain connect() to a host that drops SYNs
// would wait for the kernel's two-minute give-up instead of --timeout-ms.
beast::error_code connect_within(net::io_context& ioc, tcp::socket& socket, const tcp::endpoint& endpoint,
                                 std::chrono::milliseconds timeout) {
  std::optional<beast::error_code> result;
  socket.async_connect(endpoint, [&result](beast::error_code ec) { result = ec; });
  ioc.run_for(timeout);
  if (!result) {
    beast::error_code ignored;
    socket.close(ignored);
    ioc.restart();
    ioc.run();  // the aborted connect's handler
    result = net::error::timed_out;
  }
  ioc.restart();
  if (!*result) socket.set_option(tcp::no_delay(true), *result);
  return *result;
}

}  // namespace

std::optional<LoadResult> run_load(const LoadPlan& plan, const QueryMix& mix, std::string& error) {
  const unsigned threads = std::max(1u, std::min(plan.threads, plan.connections));

  tcp::endpoint endpoint;
  {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    const auto results = resolver.resolve(plan.host, plan.port, ec);
    if (ec || results.empty()) {
      error = "cannot resolve " + plan.host + ":" + plan.port + ": " + ec.message();
      return std::nullopt;
    }
    endpoint = results.begin()->endpoint();
  }

  Schedule schedule;
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned t = 0; t < threads; ++t) {
    workers.push_back(std::make_unique<Worker>(plan, mix, schedule, endpoint, t, threads));
  }
  // Connections round-robin over the threads, each with its own seed.
  for (unsigned c = 0; c < plan.connections; ++c) {
    workers[c % threads]->add_connection(plan.seed ^ (0xd1b54a32d192ed03ULL * (c + 1)));
  }
  // Connect everything before the clock starts: connection set-up is not
  // part of the load, and an unreachable server fails here, once.
  for (auto& w : workers) {
    for (auto& c : w->connections()) {
      const auto ec = connect_within(w->ioc(), c->socket(), endpoint, plan.timeout);
      if (ec) {
        error = "cannot connect to " + plan.host + ":" + plan.port + ": " + ec.message();
        return std::nullopt;
      }
    }
  }

  const auto warmup = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(plan.warmup_s));
  schedule.start = Clock::now();
  schedule.measure_from = schedule.start + warmup;
  if (plan.rate) {
    schedule.rate = *plan.rate;
    schedule.k_measured = static_cast<uint64_t>(std::ceil(plan.warmup_s * *plan.rate - 1e-9));
    const uint64_t measured =
        plan.requests ? *plan.requests : static_cast<uint64_t>(std::llround(*plan.duration_s * *plan.rate));
    schedule.k_end = schedule.k_measured + measured;
  } else if (plan.requests) {
    schedule.request_limit = *plan.requests;
  } else {
    schedule.stop_at = schedule.measure_from +
                       std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*plan.duration_s));
  }

  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back([&w = *workers[t]] { w.run(); });
  workers[0]->run();
  for (auto& t : pool) t.join();

  LoadResult r;
  r.open_loop = plan.rate.has_value();
  r.connections = plan.connections;
  r.threads = threads;
  r.rate = plan.rate;
  Clock::time_point last = schedule.measure_from;
  for (auto& w : workers) {
    const auto& s = w->stats();
    r.latency_ns.merge(s.latency_ns);
    r.requests += s.requests;
    r.connection_errors += s.connection_errors;
    r.timeouts += s.timeouts;
    r.non_2xx += s.non_2xx;
    r.queued += s.queued;
    r.late_dispatch += s.late_dispatch;
    r.send_delay_ns.merge(s.send_delay_ns);
    for (std::size_t code = 0; code < s.status.size(); ++code) {
      if (s.status[code] != 0) r.status[static_cast<int>(code)] += s.status[code];
    }
    last = std::max(last, s.last_completion);
  }
  r.behind_schedule = r.queued + r.late_dispatch;
  r.duration_s = std::chrono::duration<double>(last - schedule.measure_from).count();
  return r;
}

}  // namespace crowd::bench
