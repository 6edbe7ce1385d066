// A blocking HTTP/1.1 client for the cluster's control plane and a router's
// requests to shard replicas: one keep-alive
// connection to one host:port, each exchange bounded by a deadline.
//
// Beast, like every other HTTP peer of crowd's; blocking because its callers
// (membership, the shard map, a router's fan-out pool) run on their own
// threads. Beast's timeouts apply only to asynchronous operations,
// so an exchange is the async chain connect -> write -> read run to its end
// on a private io_context, with the stream's expiry as the deadline.
#pragma once

#include <boost/system/error_code.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace crowd::cluster {

struct HttpAnswer {
  unsigned status = 0;  // 0: no answer (see error)
  std::string body;
  std::string error;  // why there was no answer, in words: "connection refused", "timed out", ...
  [[nodiscard]] bool ok() const { return status >= 200 && status < 300; }
};

class HttpClient {
 public:
  HttpClient(std::string host, std::string port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POSTs `body` (application/json) to `target`. Reuses the connection when
  // it is open; a request that fails on a reused connection before any
  // answer is tried once more on a fresh one (the server may have closed it
  // while idle). Any failure closes the connection.
  [[nodiscard]] HttpAnswer post(std::string_view target, std::string_view body, std::chrono::milliseconds timeout);
  // The same with any method ("GET", "DELETE", ...); a GET or DELETE with
  // an empty body sends none.
  [[nodiscard]] HttpAnswer send(std::string_view method, std::string_view target, std::string_view body,
                                std::chrono::milliseconds timeout);

  [[nodiscard]] const std::string& host() const { return host_; }
  [[nodiscard]] const std::string& port() const { return port_; }

 private:
  struct Connection;
  [[nodiscard]] HttpAnswer exchange(std::string_view method, std::string_view target, std::string_view body,
                                    std::chrono::steady_clock::time_point deadline, bool& reused);
  std::string host_;
  std::string port_;
  std::unique_ptr<Connection> connection_;
};

// A network error in words, as HttpAnswer::error has them: "timed out",
// "connection refused", "connection closed without an answer", ...
[[nodiscard]] std::string network_error_words(const boost::system::error_code& ec);

// "host:port" split at the last ':' (no scheme, no brackets); nullopt when
// either side is empty.
[[nodiscard]] std::optional<std::pair<std::string, std::string>> split_host_port(std::string_view endpoint);

}  // namespace crowd::cluster
