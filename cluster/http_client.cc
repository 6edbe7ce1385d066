#include "cluster/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace crowd::cluster {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Control-plane answers are small (a shard map is a few KiB); a shard's
// page of IDs for a router is at most a million IDs of 20 digits. Anything
// bigger is a peer to stop reading from.
constexpr std::uint64_t kAnswerLimit = 64 * 1024 * 1024;

}  // namespace

struct HttpClient::Connection {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool open = false;
};

HttpClient::HttpClient(std::string host, std::string port) : host_(std::move(host)), port_(std::move(port)) {}
HttpClient::~HttpClient() = default;

HttpAnswer HttpClient::post(std::string_view target, std::string_view body, std::chrono::milliseconds timeout) {
  return send("POST", target, body, timeout);
}

HttpAnswer HttpClient::send(std::string_view method, std::string_view target, std::string_view body,
                            std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool reused = false;
  HttpAnswer answer = exchange(method, target, body, deadline, reused);
  if (answer.status == 0 && reused && answer.error != "timed out") {
    answer = exchange(method, target, body, deadline, reused);
  }
  return answer;
}

HttpAnswer HttpClient::exchange(std::string_view method, std::string_view target, std::string_view body,
                                std::chrono::steady_clock::time_point deadline, bool& reused) {
  if (!connection_) connection_ = std::make_unique<Connection>();
  Connection& c = *connection_;
  reused = c.open;
  c.ioc.restart();
  c.stream.expires_at(deadline);

  http::request<http::string_body> request;
  request.method_string(method);
  request.target(target);
  request.version(11);
  request.set(http::field::host, host_ + ":" + port_);
  if (!body.empty() || request.method() == http::verb::post) {
    request.set(http::field::content_type, "application/json");
    request.body() = std::string(body);
  }
  request.set(http::field::user_agent, "crowd");
  request.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(kAnswerLimit);
  beast::error_code failed;

  auto send = [&] {
    http::async_write(c.stream, request, [&](beast::error_code write_ec, std::size_t) {
      if (write_ec) {
        failed = write_ec;
        return;
      }
      http::async_read(c.stream, c.buffer, parser, [&](beast::error_code read_ec, std::size_t) { failed = read_ec; });
    });
  };
  if (c.open) {
    send();
  } else {
    tcp::resolver resolver(c.ioc);
    beast::error_code resolve_ec;
    // Endpoints are addresses or local names: resolving does not block for long.
    const auto found = resolver.resolve(host_, port_, resolve_ec);
    if (resolve_ec) return HttpAnswer{0, {}, "cannot resolve the host (" + resolve_ec.message() + ")"};
    c.stream.async_connect(found, [&](beast::error_code connect_ec, const tcp::endpoint&) {
      if (connect_ec) {
        failed = connect_ec;
        return;
      }
      c.open = true;
      send();
    });
  }
  c.ioc.run();

  if (failed) {
    connection_.reset();  // half-done exchanges leave the stream unusable
    return HttpAnswer{0, {}, network_error_words(failed)};
  }
  HttpAnswer answer;
  answer.status = parser.get().result_int();
  answer.body = std::move(parser.get().body());
  if (!parser.get().keep_alive()) connection_.reset();
  return answer;
}

std::string network_error_words(const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  if (ec == net::error::connection_refused) return "connection refused";
  if (ec == net::error::connection_reset || ec == net::error::eof || ec == http::error::end_of_stream) {
    return "connection closed without an answer";
  }
  return "network error (" + ec.message() + ")";
}

std::optional<std::pair<std::string, std::string>> split_host_port(std::string_view endpoint) {
  const auto colon = endpoint.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == endpoint.size()) return std::nullopt;
  return std::make_pair(std::string(endpoint.substr(0, colon)), std::string(endpoint.substr(colon + 1)));
}

}  // namespace crowd::cluster
