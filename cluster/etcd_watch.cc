#include "cluster/etcd_watch.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "cluster/base64.h"
#include "cluster/etcd_json.h"

namespace crowd::cluster {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using json = nlohmann::json;

// How often a blocked read looks at the stop flag.
constexpr std::chrono::milliseconds kStopPoll{100};
// A line of the stream longer than this is not a watch message.
constexpr std::size_t kMaxLine = 64 * 1024 * 1024;

}  // namespace

EtcdWatch::EtcdWatch(std::vector<std::string> endpoints, std::string prefix, int64_t start_revision, Handler on_events,
                     std::function<void()> on_lost, std::chrono::milliseconds idle_restart)
    : endpoints_(std::move(endpoints)),
      prefix_(std::move(prefix)),
      on_events_(std::move(on_events)),
      on_lost_(std::move(on_lost)),
      idle_restart_(idle_restart),
      next_revision_(start_revision) {
  thread_ = std::thread([this] { run(); });
}

EtcdWatch::~EtcdWatch() {
  stop_ = true;
  thread_.join();
}

void EtcdWatch::run() {
  std::size_t at = 0;
  while (!stop_ && !lost_) {
    if (!follow(endpoints_[at % endpoints_.size()])) break;
    ++at;  // the next connection goes to the next member
    if (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (lost_ && on_lost_) on_lost_();
}

bool EtcdWatch::handle_line(const std::string& line) {
  if (line.empty()) return true;
  const json message = json::parse(line, nullptr, false);
  if (message.is_discarded()) return true;  // not ours to judge; the next line may be fine
  const json& result = message.contains("result") ? message["result"] : message;
  if (etcd_int(result, "compact_revision") > 0) {
    lost_ = true;
    return false;
  }
  const auto events = result.find("events");
  if (events == result.end() || !events->is_array() || events->empty()) return true;
  std::vector<EtcdEvent> batch;
  int64_t newest = 0;
  for (const auto& e : *events) {
    EtcdEvent ev;
    ev.deleted = e.value("type", "PUT") == "DELETE";
    ev.kv = etcd_kv(e.contains("kv") ? e["kv"] : json::object());
    newest = std::max(newest, ev.kv.mod_revision);
    // A resumed watch may repeat the revision it stopped in: skip what was delivered.
    if (ev.kv.mod_revision >= next_revision_) batch.push_back(std::move(ev));
  }
  if (!batch.empty()) on_events_(batch);
  if (newest + 1 > next_revision_) next_revision_ = newest + 1;
  return true;
}

bool EtcdWatch::follow(const std::string& endpoint) {
  const auto hp = split_host_port(endpoint);
  if (!hp) return false;
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  ++connections_;

  json create = {{"create_request",
                  {{"key", base64_encode(prefix_)},
                   {"range_end", base64_encode(prefix_range_end(prefix_))},
                   {"start_revision", std::to_string(next_revision_.load())}}}};
  http::request<http::string_body> request{http::verb::post, "/v3/watch", 11};
  request.set(http::field::host, endpoint);
  request.set(http::field::content_type, "application/json");
  request.body() = create.dump();
  request.prepare_payload();

  // Runs `op` (which starts one async operation) to its end, watching the
  // stop flag; the operation's deadline is the stream's expiry.
  beast::error_code ec;
  bool done = false;
  auto wait = [&] {
    while (!done) {
      ioc.run_for(kStopPoll);
      if (stop_ && !done) {
        stream.close();  // the handler still runs (operation_aborted)
      }
    }
    ioc.restart();
    done = false;
  };
  tcp::resolver resolver(ioc);
  beast::error_code resolve_ec;
  const auto found = resolver.resolve(hp->first, hp->second, resolve_ec);
  if (resolve_ec) return true;
  stream.expires_after(std::chrono::seconds(2));
  stream.async_connect(found, [&](beast::error_code e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  wait();
  if (ec || stop_) return !stop_;
  stream.expires_after(std::chrono::seconds(2));
  http::async_write(stream, request, [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  wait();
  if (ec || stop_) return !stop_;

  // The stream: read whatever arrives, split it into lines.
  char chunk[16 * 1024];
  std::string pending;
  while (!stop_) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    stream.expires_after(idle_restart_);
    // read_some: async_read would wait for the whole (endless) message or a
    // full buffer.
    http::async_read_some(stream, buffer, parser, [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    wait();
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return !stop_;  // idle restart, a broken connection, or stop: resume elsewhere
    pending.append(chunk, sizeof chunk - parser.get().body().size);
    for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
      const std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (!handle_line(line)) return false;
    }
    if (pending.size() > kMaxLine) return true;
    if (parser.is_done()) {
      // A message without its newline at the end of the answer.
      if (!handle_line(pending)) return false;
      return true;
    }
  }
  return false;
}

}  // namespace crowd::cluster
