// ServerProcess: the real build/crowdd, started as a child process on an
// ephemeral loopback port, and a tiny synchronous HTTP client (Beast) to talk
// to it. For end-to-end tests.
//
// The environment variable CROWD_TEST_CROWDD, when set, names the crowdd
// binary to start instead of the build tree's (a patched or instrumented
// build, e.g. to check that a test fails when a guarantee is broken).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <atomic>
#include <string>
#include <vector>

namespace crowd::test {

// True when this test (and so the crowdd it starts) is built with ASan or
// TSan: their shadow memory and quarantine make RSS say nothing about crowd's
// own memory, so tests judge only the answers there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// A memory field of /proc/PID/status in bytes: "VmRSS" (resident now) or
// "VmHWM" (peak resident). 0 when the process or the field is gone.
uint64_t proc_status_bytes(pid_t pid, const std::string& field);

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  bool chunked = false;
};

// A resource limit set in the child between fork and exec (setrlimit(2)).
struct ResourceLimit {
  int resource = 0;  // RLIMIT_FSIZE, RLIMIT_NOFILE, ...
  uint64_t soft = 0;
  uint64_t hard = 0;
};

struct LaunchOptions {
  // How long to wait for the "listening" line.
  int timeout_s = 120;
  // E.g. {RLIMIT_FSIZE, 1 << 20, 1 << 20}: a write that would take a file
  // past 1 MiB fails with EFBIG, as on a full disk (crowdd ignores SIGXFSZ).
  std::vector<ResourceLimit> limits;
};

class ServerProcess {
 public:
  // Starts crowdd with `args` plus --host 127.0.0.1 --port 0, and waits until
  // it prints its port (up to `timeout_s`). On failure, ok() is false and
  // log() has its stderr.
  explicit ServerProcess(std::vector<std::string> args, int timeout_s = 120);
  ServerProcess(std::vector<std::string> args, const LaunchOptions& options);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  [[nodiscard]] bool ok() const { return port_ != 0; }
  [[nodiscard]] int port() const { return port_; }
  // The child's process id (-1 once stopped): for /proc/PID/status, signals.
  [[nodiscard]] pid_t pid() const { return pid_; }
  // The child's stderr so far (kept in a temporary file, removed with this object).
  [[nodiscard]] std::string log() const;
  // When the child exited before it was ready (ok() false): its exit code, or
  // 128+signal when a signal ended it. -1 otherwise (running, stopped by
  // stop(), or never started).
  [[nodiscard]] int exit_status() const { return exit_status_; }

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
  int exit_status_ = -1;
  std::string log_path_;
};

// A keep-alive HTTP/1.1 connection to 127.0.0.1:`port`: requests go one
// after another on one socket, reopened only after the server answered
// `Connection: close`. A transport error — connection refused or reset, end
// of stream, no answer within `timeout_s` — throws boost::system::system_error
// and closes the connection (the next request reconnects); whether the server
// received or acted on that request is then unknown.
class HttpConnection {
 public:
  explicit HttpConnection(int port, int timeout_s = 120);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  [[nodiscard]] HttpResult request(const std::string& method, const std::string& target, const std::string& body = "",
                                   const std::string& content_type = "application/json",
                                   const std::vector<std::pair<std::string, std::string>>& headers = {});
  [[nodiscard]] HttpResult get(const std::string& target) { return request("GET", target); }
  [[nodiscard]] HttpResult post(const std::string& target, const std::string& body,
                                const std::string& content_type = "application/json") {
    return request("POST", target, body, content_type);
  }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes a query-string value.
[[nodiscard]] std::string url_encode(const std::string& s);

// A fresh empty directory under /tmp.
[[nodiscard]] std::string temp_dir(const std::string& prefix);

// Snapshots racing a crash test's writes (rotation, the .tmp file and the
// deletion of covered segments can all be cut by a kill): run() takes one
// (POST /v1/admin/snapshot) every 20-140 ms, at random by `seed`, until the
// server goes away, counting them; a refused one stops it with `failure`.
struct SnapshotRacer {
  std::atomic<uint64_t> taken{0};
  std::string failure;
  void run(int port, uint64_t seed);
};

}  // namespace crowd::test
