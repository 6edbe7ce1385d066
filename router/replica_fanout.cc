#include "router/replica_fanout.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <memory>
#include <optional>

#include "cluster/http_client.h"

namespace crowd::router {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// How long a replica that failed to answer is put last.
constexpr auto kSuspectFor = std::chrono::seconds(5);
// A shard's page of IDs is at most a million IDs of 20 digits; anything
// bigger is a peer to stop reading from.
constexpr std::uint64_t kAnswerLimit = 64 * 1024 * 1024;
// Idle keep-alive connections kept per replica per thread.
constexpr std::size_t kIdlePerReplica = 4;

struct Connection {
  explicit Connection(net::io_context& ioc) : stream(ioc) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  bool open = false;
};

// Per thread: its io_context, the replicas' addresses, idle connections.
struct Worker {
  net::io_context ioc;
  std::unordered_map<std::string, tcp::endpoint> endpoints;
  std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>> idle;

  // "http://host:port" as an endpoint (resolved once), or nullopt.
  std::optional<tcp::endpoint> endpoint(const std::string& url) {
    if (const auto found = endpoints.find(url); found != endpoints.end()) return found->second;
    const auto slashes = url.find("//");
    const auto host_port = cluster::split_host_port(
        slashes == std::string::npos ? std::string_view(url) : std::string_view(url).substr(slashes + 2));
    if (!host_port) return std::nullopt;
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    const auto results = resolver.resolve(host_port->first, host_port->second, ec);
    if (ec || results.empty()) return std::nullopt;
    return endpoints[url] = results.begin()->endpoint();
  }

  std::unique_ptr<Connection> take(const std::string& url) {
    auto& list = idle[url];
    if (list.empty()) return std::make_unique<Connection>(ioc);
    auto c = std::move(list.back());
    list.pop_back();
    return c;
  }

  void give_back(const std::string& url, std::unique_ptr<Connection> c) {
    auto& list = idle[url];
    if (list.size() < kIdlePerReplica) list.push_back(std::move(c));
  }
};

Worker& worker() {
  thread_local Worker w;
  return w;
}

// One exchange with one replica, for one shard of a gather.
struct Attempt {
  std::size_t shard = 0;  // index into the gather's shards
  std::string url;
  std::unique_ptr<Connection> conn;
  http::request<http::string_body> request;
  http::response_parser<http::string_body> parser;
  bool reused = false;
  bool finished = false;
};

}  // namespace

ReplicaFanOut::ReplicaFanOut(std::chrono::milliseconds hedge_after) : hedge_after_(hedge_after) {}
ReplicaFanOut::~ReplicaFanOut() = default;

std::vector<std::string> ReplicaFanOut::order(uint32_t shard, const std::vector<Replica>& replicas) {
  std::vector<std::string> urls;
  urls.reserve(replicas.size());
  std::lock_guard lock(suspects_mu_);
  const std::size_t n = replicas.size();
  const uint64_t first = n == 0 ? 0 : turns_[shard]++ % n;
  const auto now = Clock::now();
  std::vector<std::string> late;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& url = replicas[(first + i) % n].url;
    const auto s = suspects_.find(url);
    if (s != suspects_.end() && s->second > now) {
      late.push_back(url);
    } else {
      urls.push_back(url);
    }
  }
  urls.insert(urls.end(), late.begin(), late.end());
  return urls;
}

void ReplicaFanOut::suspect(const std::string& url) {
  std::lock_guard lock(suspects_mu_);
  suspects_[url] = Clock::now() + kSuspectFor;
}

std::vector<ShardAnswer> ReplicaFanOut::gather(const Layout& layout, const std::vector<uint32_t>& shards,
                                               const std::function<ShardRequest(uint32_t)>& request_of,
                                               Clock::time_point deadline) {
  Worker& w = worker();
  const std::size_t n = shards.size();
  std::vector<std::vector<std::string>> urls(n);
  std::vector<ShardRequest> requests(n);
  std::vector<std::size_t> tried(n, 0);
  std::vector<int> in_flight(n, 0);
  std::vector<Clock::time_point> hedge_at(n, Clock::time_point::max());
  std::vector<ShardAnswer> answers(n);
  std::vector<bool> answered(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    const uint32_t k = shards[i];
    if (k < layout.replicas.size()) urls[i] = order(k, layout.replicas[k]);
    requests[i] = request_of(k);
    answers[i].error = "the shard has no replica";
  }
  std::vector<std::unique_ptr<Attempt>> attempts;

  // Starts an exchange of shard i's request with `url` (a fresh connection
  // when `fresh`, else an idle one if there is).
  std::function<void(std::size_t, const std::string&, bool)> start;
  const auto finish = [&](Attempt* a, beast::error_code ec) {
    a->finished = true;
    const std::size_t i = a->shard;
    --in_flight[i];
    if (!ec) {
      if (!answered[i]) {
        answered[i] = true;
        answers[i] = ShardAnswer{a->parser.get().result_int(), std::move(a->parser.get().body()), a->url, {}};
      }
      if (a->parser.get().keep_alive()) w.give_back(a->url, std::move(a->conn));
      return;
    }
    if (answered[i] || ec == net::error::operation_aborted) return;
    // An idle connection the replica closed meanwhile: once more, fresh.
    if (a->reused && ec != beast::error::timeout) {
      start(i, a->url, true);
      return;
    }
    suspect(a->url);
    answers[i].error = a->url + ": " + cluster::network_error_words(ec);
  };
  start = [&](std::size_t i, const std::string& url, bool fresh) {
    const auto endpoint = w.endpoint(url);
    if (!endpoint) {
      answers[i].error = url + ": not an address";
      suspect(url);
      return;
    }
    auto a = std::make_unique<Attempt>();
    a->shard = i;
    a->url = url;
    a->conn = fresh ? std::make_unique<Connection>(w.ioc) : w.take(url);
    a->reused = a->conn->open;
    a->parser.body_limit(kAnswerLimit);
    const ShardRequest& r = requests[i];
    a->request.method_string(r.method);
    a->request.target(r.target);
    a->request.version(11);
    a->request.set(http::field::host, endpoint->address().to_string() + ":" + std::to_string(endpoint->port()));
    a->request.set(http::field::user_agent, "crowd-router");
    if (!r.body.empty() || r.method == "POST") {
      a->request.set(http::field::content_type, "application/json");
      a->request.body() = r.body;
    }
    a->request.prepare_payload();
    Attempt* p = a.get();
    attempts.push_back(std::move(a));
    ++in_flight[i];
    hedge_at[i] = Clock::now() + hedge_after_;
    p->conn->stream.expires_at(deadline);
    const auto exchange = [p, &finish] {
      http::async_write(p->conn->stream, p->request, [p, &finish](beast::error_code ec, std::size_t) {
        if (ec) return finish(p, ec);
        http::async_read(p->conn->stream, p->conn->buffer, p->parser,
                         [p, &finish](beast::error_code read_ec, std::size_t) { finish(p, read_ec); });
      });
    };
    if (p->conn->open) {
      exchange();
    } else {
      p->conn->stream.async_connect(*endpoint, [p, exchange, &finish](beast::error_code ec) {
        if (ec) return finish(p, ec);
        p->conn->open = true;
        exchange();
      });
    }
  };

  net::io_context& ioc = w.ioc;
  ioc.restart();
  for (std::size_t i = 0; i < n; ++i) {
    if (!urls[i].empty()) start(i, urls[i][tried[i]++], false);
  }
  for (;;) {
    const auto now = Clock::now();
    bool waiting = false;
    auto wake = deadline;
    for (std::size_t i = 0; i < n; ++i) {
      if (answered[i]) continue;
      const bool untried = tried[i] < urls[i].size();
      if (untried && in_flight[i] == 0) {
        failovers_.fetch_add(1, std::memory_order_relaxed);
        start(i, urls[i][tried[i]++], false);
      } else if (untried && now >= hedge_at[i]) {
        hedges_.fetch_add(1, std::memory_order_relaxed);
        // The slow replica goes last for the next requests too.
        suspect(urls[i][tried[i] - 1]);
        start(i, urls[i][tried[i]++], false);
      }
      if (in_flight[i] > 0) {
        waiting = true;
        if (tried[i] < urls[i].size()) wake = std::min(wake, hedge_at[i]);
      }
    }
    if (!waiting || now >= deadline) break;
    if (ioc.stopped()) ioc.restart();
    ioc.run_one_until(wake);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!answered[i] && in_flight[i] > 0) answers[i].error = "no replica answered in time";
  }
  // Exchanges still going (a hedge's loser, or past the deadline) are cut
  // off: their connections closed, their handlers run to the end here.
  for (auto& a : attempts) {
    if (!a->finished && a->conn) {
      beast::error_code ignored;
      a->conn->stream.socket().close(ignored);
    }
  }
  ioc.restart();
  ioc.run();
  return answers;
}

}  // namespace crowd::router
