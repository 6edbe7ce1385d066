// A real etcd cluster for tests: 1 or 3 members of Debian's etcd-server on
// free loopback ports, data in a scratch directory, every member stopped at
// scope exit. Members can be SIGKILLed, SIGSTOPped and restarted, and the
// leader found, for fault tests of the control plane.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/tool_process.h"

namespace crowd::test {

// Skips the test when `program` is not installed -- unless the environment
// sets CROWD_REQUIRE_CLUSTER_TOOLS=1 (CI does), where a missing tool fails
// it: CI must never pass by skipping.
#define CROWD_NEED_PROGRAM(program)                                                             \
  do {                                                                                          \
    if (::crowd::test::find_program(program).empty()) {                                         \
      if (::crowd::test::cluster_tools_required()) FAIL() << program << " is not installed";    \
      GTEST_SKIP() << program << " is not installed (apt-get install etcd-server nats-server)"; \
    }                                                                                           \
  } while (0)

[[nodiscard]] bool cluster_tools_required();

class EtcdCluster {
 public:
  explicit EtcdCluster(int members = 1);
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // Every member started and the cluster answered a put within 20 s.
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] int size() const { return static_cast<int>(members_.size()); }
  // "127.0.0.1:port" of every member's client URL, in member order.
  [[nodiscard]] std::vector<std::string> endpoints() const;
  [[nodiscard]] std::string endpoint(int i) const;

  void kill(int i);    // SIGKILL and reap
  void pause(int i);   // SIGSTOP
  void resume(int i);  // SIGCONT
  // Starts a killed member again on its data directory and ports.
  bool restart(int i);
  // The index of the member that is leader now, or -1 (asks each live one).
  [[nodiscard]] int leader() const;
  [[nodiscard]] std::string log(int i) const;

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    std::string data_dir;
    std::string log_path;
    ChildProcess process;
  };
  bool start(int i);
  [[nodiscard]] bool answers(int i) const;

  ScratchDir dir_{"crowd-etcd"};
  std::string initial_cluster_;
  std::vector<std::unique_ptr<Member>> members_;
  bool ok_ = false;
};

}  // namespace crowd::test
