// tools/push_receiver.py -- a real receiver of webhook pushes -- run as a
// child process on 127.0.0.1 and an ephemeral port, its state file and
// stderr in a scratch directory; SIGTERMed at scope exit (SIGKILLed after 5 s).
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tests/support/tool_process.h"

namespace crowd::test {

class PushReceiver {
 public:
  // `flags`: the script's own (--fail-first N, --hang-at K, ...).
  explicit PushReceiver(const std::vector<std::string>& flags = {});
  ~PushReceiver();
  PushReceiver(const PushReceiver&) = delete;
  PushReceiver& operator=(const PushReceiver&) = delete;

  [[nodiscard]] bool ok() const { return port_ != 0; }
  [[nodiscard]] int port() const { return port_; }
  // A webhook URL of it (with a query, which crowd must never show or log).
  [[nodiscard]] std::string url() const;
  [[nodiscard]] std::string log() const { return read_file(log_path_); }
  // Its GET /state: {"version", "applied", "ids", "requests", "pushes"}.
  [[nodiscard]] nlohmann::json state() const;

 private:
  void read_port(int fd);

  ScratchDir dir_{"crowd-push-receiver"};
  std::string state_path_;
  std::string log_path_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// python3 as PATH finds it: execv() wants a path.
[[nodiscard]] std::string python3_path();

}  // namespace crowd::test
