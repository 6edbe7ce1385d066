#include "tests/support/nats_cluster.h"

#include <signal.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

#include "cluster/http_client.h"

namespace crowd::test {

NatsCluster::NatsCluster(int members) {
  for (int i = 0; i < members; ++i) {
    // Built by appending: GCC 12 warns falsely (-Wrestrict) on "n" + std::to_string(i).
    auto m = std::make_unique<Member>();
    m->name.append(1, 'n').append(std::to_string(i));
    m->client_port = free_loopback_port();
    m->cluster_port = free_loopback_port();
    m->monitor_port = free_loopback_port();
    m->store.append(dir_.path).append("/").append(m->name);
    m->log_path.append(m->store).append(".log");
    if (!routes_.empty()) routes_.append(",");
    routes_.append("nats://127.0.0.1:").append(std::to_string(m->cluster_port));
    members_.push_back(std::move(m));
  }
  if (find_program("nats-server").empty()) return;
  for (int i = 0; i < members; ++i) {
    if (!start(i)) return;
  }
  ok_ = wait_ready();
}

NatsCluster::~NatsCluster() {
  for (auto& m : members_) m->process.stop();
}

bool NatsCluster::start(int i) {
  Member& m = *members_[static_cast<std::size_t>(i)];
  std::vector<std::string> argv = {find_program("nats-server"),
                                   "-js",
                                   "-sd",
                                   m.store,
                                   "-a",
                                   "127.0.0.1",
                                   "-p",
                                   std::to_string(m.client_port),
                                   "-m",
                                   std::to_string(m.monitor_port),
                                   "-n",
                                   m.name};
  if (size() > 1) {
    for (const char* a : {"--cluster_name", "crowd-test", "--cluster"}) argv.emplace_back(a);
    argv.push_back("nats://127.0.0.1:" + std::to_string(m.cluster_port));
    argv.emplace_back("--routes");
    argv.push_back(routes_);
  }
  return m.process.start(argv, m.log_path);
}

bool NatsCluster::wait_ready() const {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < until) {
    for (const auto& m : members_) {
      if (!m->process.running()) continue;
      cluster::HttpClient c("127.0.0.1", std::to_string(m->monitor_port));
      // /jsz is a GET route; the client only POSTs, which the monitor answers the same.
      const auto a = c.post("/jsz", "", std::chrono::milliseconds(500));
      if (!a.ok()) continue;
      const auto j = nlohmann::json::parse(a.body, nullptr, false);
      if (j.is_discarded()) continue;
      if (size() == 1) return true;
      const auto meta = j.find("meta_cluster");
      if (meta != j.end() && !meta->value("leader", "").empty()) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::vector<std::string> NatsCluster::urls() const {
  std::vector<std::string> out;
  for (const auto& m : members_) out.push_back("nats://127.0.0.1:" + std::to_string(m->client_port));
  return out;
}

int NatsCluster::index_of(const std::string& name) const {
  for (int i = 0; i < size(); ++i) {
    if (members_[static_cast<std::size_t>(i)]->name == name) return i;
  }
  return -1;
}

void NatsCluster::kill(int i) {
  auto& p = members_[static_cast<std::size_t>(i)]->process;
  p.signal(SIGKILL);
  p.wait();
}

bool NatsCluster::restart(int i) { return start(i); }

std::string NatsCluster::log(int i) const { return read_file(members_[static_cast<std::size_t>(i)]->log_path); }

}  // namespace crowd::test
