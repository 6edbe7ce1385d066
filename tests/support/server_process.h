// ServerProcess: the real build/crowdd, started as a child process on an
// ephemeral loopback port, and a tiny synchronous HTTP client (Beast) to talk
// to it. For end-to-end tests.
#pragma once

#include <sys/types.h>

#include <map>
#include <utility>
#include <string>
#include <vector>

namespace crowd::test {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  bool chunked = false;
};

class ServerProcess {
 public:
  // Starts crowdd with `args` plus --host 127.0.0.1 --port 0, and waits until
  // it prints its port (up to `timeout_s`). On failure, ok() is false and
  // log() has its stderr.
  explicit ServerProcess(std::vector<std::string> args, int timeout_s = 120);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  [[nodiscard]] bool ok() const { return port_ != 0; }
  [[nodiscard]] int port() const { return port_; }
  // The child's process id (-1 once stopped): for /proc/PID/status, signals.
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] std::string log() const;

  // One request on a fresh connection, with any extra `headers` (name, value),
  // e.g. {{"Authorization", "Bearer ..."}}.
  [[nodiscard]] HttpResult request(const std::string& method, const std::string& target, const std::string& body = "",
                                   const std::string& content_type = "application/json",
                                   const std::vector<std::pair<std::string, std::string>>& headers = {}) const;
  [[nodiscard]] HttpResult get(const std::string& target) const { return request("GET", target); }
  [[nodiscard]] HttpResult post(const std::string& target, const std::string& body,
                                const std::string& content_type = "application/json") const {
    return request("POST", target, body, content_type);
  }

  // Sends SIGTERM (or `signal`) and waits; returns the exit status (the exit
  // code, or 128+signal if killed), -1 if it had to be SIGKILLed after
  // `timeout_s`.
  int stop(int signal = 15, int timeout_s = 60);

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

// Percent-encodes a query-string value.
[[nodiscard]] std::string url_encode(const std::string& s);

// A fresh empty directory under /tmp.
[[nodiscard]] std::string temp_dir(const std::string& prefix);

}  // namespace crowd::test
