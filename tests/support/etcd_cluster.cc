#include "tests/support/etcd_cluster.h"

#include <signal.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "cluster/http_client.h"

namespace crowd::test {

bool cluster_tools_required() {
  const char* v = std::getenv("CROWD_REQUIRE_CLUSTER_TOOLS");
  return v != nullptr && std::string(v) == "1";
}

EtcdCluster::EtcdCluster(int members) {
  for (int i = 0; i < members; ++i) {
    // Built by appending: GCC 12 warns falsely (-Wrestrict) on "m" + std::to_string(i).
    auto m = std::make_unique<Member>();
    m->name.append(1, 'm').append(std::to_string(i));
    m->client_port = free_loopback_port();
    m->peer_port = free_loopback_port();
    m->data_dir.append(dir_.path).append("/").append(m->name);
    m->log_path.append(m->data_dir).append(".log");
    if (!initial_cluster_.empty()) initial_cluster_.append(",");
    initial_cluster_.append(m->name).append("=http://127.0.0.1:").append(std::to_string(m->peer_port));
    members_.push_back(std::move(m));
  }
  if (find_program("etcd").empty()) return;
  for (int i = 0; i < members; ++i) {
    if (!start(i)) return;
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < until) {
    if (leader() >= 0 && answers(0)) {
      ok_ = true;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

EtcdCluster::~EtcdCluster() {
  for (auto& m : members_) m->process.stop();
}

bool EtcdCluster::start(int i) {
  Member& m = *members_[static_cast<std::size_t>(i)];
  const std::string client = "http://127.0.0.1:" + std::to_string(m.client_port);
  const std::string peer = "http://127.0.0.1:" + std::to_string(m.peer_port);
  // Short heartbeats and elections so that fault tests see a new leader in
  // about a second rather than the defaults' several.
  return m.process.start({find_program("etcd"),
                          "--name",
                          m.name,
                          "--data-dir",
                          m.data_dir,
                          "--listen-client-urls",
                          client,
                          "--advertise-client-urls",
                          client,
                          "--listen-peer-urls",
                          peer,
                          "--initial-advertise-peer-urls",
                          peer,
                          "--initial-cluster",
                          initial_cluster_,
                          "--initial-cluster-state",
                          "new",
                          "--initial-cluster-token",
                          "crowd-test",
                          "--heartbeat-interval",
                          "50",
                          "--election-timeout",
                          "500",
                          "--log-level",
                          "warn"},
                         m.log_path);
}

std::vector<std::string> EtcdCluster::endpoints() const {
  std::vector<std::string> out;
  for (int i = 0; i < size(); ++i) out.push_back(endpoint(i));
  return out;
}

std::string EtcdCluster::endpoint(int i) const {
  return "127.0.0.1:" + std::to_string(members_[static_cast<std::size_t>(i)]->client_port);
}

void EtcdCluster::kill(int i) {
  auto& p = members_[static_cast<std::size_t>(i)]->process;
  p.signal(SIGKILL);
  p.wait();
}

void EtcdCluster::pause(int i) { members_[static_cast<std::size_t>(i)]->process.signal(SIGSTOP); }
void EtcdCluster::resume(int i) { members_[static_cast<std::size_t>(i)]->process.signal(SIGCONT); }

bool EtcdCluster::restart(int i) { return start(i); }

bool EtcdCluster::answers(int i) const {
  const Member& m = *members_[static_cast<std::size_t>(i)];
  cluster::HttpClient c("127.0.0.1", std::to_string(m.client_port));
  return c.post("/v3/kv/put", R"({"key":"cHJvYmU=","value":"MQ=="})", std::chrono::milliseconds(1000)).ok();
}

int EtcdCluster::leader() const {
  for (int i = 0; i < size(); ++i) {
    const Member& m = *members_[static_cast<std::size_t>(i)];
    if (!m.process.running()) continue;
    cluster::HttpClient c("127.0.0.1", std::to_string(m.client_port));
    const auto a = c.post("/v3/maintenance/status", "{}", std::chrono::milliseconds(500));
    if (!a.ok()) continue;
    const auto j = nlohmann::json::parse(a.body, nullptr, false);
    if (j.is_discarded() || !j.contains("leader") || !j.contains("header")) continue;
    if (j["leader"] == j["header"].value("member_id", "")) return i;
  }
  return -1;
}

std::string EtcdCluster::log(int i) const { return read_file(members_[static_cast<std::size_t>(i)]->log_path); }

}  // namespace crowd::test
