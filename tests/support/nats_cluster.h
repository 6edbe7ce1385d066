// A real NATS cluster with JetStream for tests: 1 or 3 nats-server members
// (Debian's 2.9) on free loopback ports, their stores in a scratch directory,
// stopped at scope exit. Members can be SIGKILLed and restarted on their
// stores, for fault tests of the write stream.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/tool_process.h"

namespace crowd::test {

class NatsCluster {
 public:
  explicit NatsCluster(int members = 3);
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  // Every member started and JetStream has a meta leader (within 20 s).
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] int size() const { return static_cast<int>(members_.size()); }
  // "nats://127.0.0.1:port" of every member.
  [[nodiscard]] std::vector<std::string> urls() const;
  // The member named `name` ("n0", "n1", ...), or -1.
  [[nodiscard]] int index_of(const std::string& name) const;

  void kill(int i);  // SIGKILL and reap
  bool restart(int i);
  // Waits (up to 20 s) until JetStream has a meta leader again.
  bool wait_ready() const;
  [[nodiscard]] std::string log(int i) const;

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int cluster_port = 0;
    int monitor_port = 0;
    std::string store;
    std::string log_path;
    ChildProcess process;
  };
  bool start(int i);

  ScratchDir dir_{"crowd-nats"};
  std::string routes_;
  std::vector<std::unique_ptr<Member>> members_;
  bool ok_ = false;
};

}  // namespace crowd::test
