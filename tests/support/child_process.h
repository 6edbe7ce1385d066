// A child process of a test -- a third-party server such as etcd or
// nats-server -- started without a shell, its stdout and stderr in a log
// file, signalled at will (SIGKILL, SIGSTOP, SIGCONT) and stopped at scope
// exit (SIGTERM, then SIGKILL after a grace period). Plus free loopback
// ports for servers that cannot be told to pick their own.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace crowd::test {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess() { stop(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Runs argv[0] (a path) with argv[1..], appending its output to `log`.
  // False if it could not be started.
  bool start(const std::vector<std::string>& argv, const std::string& log);
  // Sends `sig`; the process keeps its pid until reaped by wait()/stop().
  void signal(int sig) const;
  // Reaps it after a SIGKILL or an exit of its own (blocks).
  void wait();
  // SIGTERM, and SIGKILL if it is still there after `grace`; then reaped.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  [[nodiscard]] bool running() const { return pid_ > 0; }
  [[nodiscard]] pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and
// released): for servers that take a port number, not 0.
[[nodiscard]] int free_loopback_port();

// The path of `name` on PATH, or "" when it is not installed.
[[nodiscard]] std::string find_program(const std::string& name);

}  // namespace crowd::test
