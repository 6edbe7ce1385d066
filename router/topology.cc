#include "router/topology.h"

#include <nlohmann/json.hpp>

#include <iostream>

#include "cluster/names.h"

namespace crowd::router {
namespace {

using json = nlohmann::json;

constexpr std::string_view kMap = "map";
constexpr std::string_view kMembers = "members/shard-";

// A replica from its members/ key's value ({role, shard, url, position});
// nullopt for anything else (a router's own key, a malformed value).
std::optional<std::pair<uint32_t, Replica>> replica_of(const std::string& value) {
  const json j = json::parse(value, nullptr, false);
  if (!j.is_object() || j.value("role", "") != "shard") return std::nullopt;
  const auto shard = j.find("shard");
  const auto url = j.find("url");
  if (shard == j.end() || !shard->is_number_unsigned() || url == j.end() || !url->is_string()) return std::nullopt;
  Replica r;
  r.url = url->get<std::string>();
  r.position = j.value("position", uint64_t{0});
  return std::make_pair(shard->get<uint32_t>(), std::move(r));
}

}  // namespace

Topology::Topology(std::vector<std::string> etcd, std::string name)
    : etcd_(std::move(etcd)), prefix_(cluster::etcd_prefix(name)), client_(etcd_) {}

Topology::~Topology() { watch_.reset(); }

std::unique_ptr<Topology> Topology::start(const std::vector<std::string>& etcd, const std::string& name,
                                          uint32_t shards, std::string& error) {
  std::unique_ptr<Topology> t(new Topology(etcd, name));
  const std::string map_key = t->prefix_ + std::string(kMap);
  // The first router of a new cluster places the partitions; a create that
  // loses the race is fine: the winner's map is read below.
  const auto created = t->client_.create(map_key, cluster::ShardMap::initial(shards).to_json());
  if (!created.ok()) {
    error = "etcd: " + created.error;
    return nullptr;
  }
  int64_t revision = 0;
  if (!t->reload(error, revision)) return nullptr;
  if (t->layout()->map.shards() != shards) {
    std::cerr << "crowdd: the cluster's map has " << t->layout()->map.shards() << " shards (--shards "
              << shards << " applies only to a new cluster)\n";
  }
  Topology* self = t.get();
  t->watch_ = std::make_unique<cluster::EtcdWatch>(
      etcd, t->prefix_, revision + 1, [self](const auto& events) { self->apply(events); },
      [self] {
        // Events were lost (compacted): read everything again.
        std::string e;
        int64_t r = 0;
        if (!self->reload(e, r)) std::cerr << "crowdd: router: cannot re-read the cluster: " << e << "\n";
      });
  return t;
}

bool Topology::reload(std::string& error, int64_t& revision) {
  const auto all = client_.get_prefix(prefix_);
  if (!all.ok()) {
    error = "etcd: " + all.error;
    return false;
  }
  auto next = std::make_unique<Layout>();
  bool has_map = false;
  std::vector<std::pair<uint32_t, Replica>> found;
  for (const auto& kv : all->kvs) {
    const std::string_view rest = std::string_view(kv.key).substr(prefix_.size());
    if (rest == kMap) {
      auto map = cluster::ShardMap::parse(kv.value, error);
      if (!map) {
        error = "the cluster's shard map: " + error;
        return false;
      }
      next->map = std::move(*map);
      has_map = true;
    } else if (rest.starts_with(kMembers)) {
      if (auto r = replica_of(kv.value)) found.push_back(std::move(*r));
    }
  }
  if (!has_map) {
    error = "the cluster has no shard map under " + prefix_ + std::string(kMap);
    return false;
  }
  next->replicas.resize(next->map.shards());
  for (auto& [shard, replica] : found) {
    if (shard < next->replicas.size()) next->replicas[shard].push_back(std::move(replica));
  }
  revision = all->revision;
  publish(std::move(next));
  return true;
}

void Topology::apply(const std::vector<cluster::EtcdEvent>& events) {
  auto next = std::make_unique<Layout>(*layout());
  for (const auto& event : events) {
    const std::string_view rest = std::string_view(event.kv.key).substr(prefix_.size());
    if (rest == kMap && !event.deleted) {
      std::string error;
      if (auto map = cluster::ShardMap::parse(event.kv.value, error)) {
        next->map = std::move(*map);
        next->replicas.resize(next->map.shards());
      } else {
        std::cerr << "crowdd: router: ignoring a malformed shard map: " << error << "\n";
      }
      continue;
    }
    if (!rest.starts_with(kMembers)) continue;
    // members/shard-<k>/<url>: the key says whose it is, also on a delete.
    const std::string_view tail = rest.substr(kMembers.size());
    const auto slash = tail.find('/');
    if (slash == std::string_view::npos) continue;
    const std::string url(tail.substr(slash + 1));
    for (auto& list : next->replicas) std::erase_if(list, [&](const Replica& r) { return r.url == url; });
    if (event.deleted) continue;
    if (auto r = replica_of(event.kv.value); r && r->first < next->replicas.size()) {
      next->replicas[r->first].push_back(std::move(r->second));
    }
  }
  publish(std::move(next));
}

void Topology::publish(std::unique_ptr<Layout> next) {
  {
    std::lock_guard lock(mu_);
    layout_ = std::move(next);
  }
  changed_.notify_all();
}

std::shared_ptr<const Layout> Topology::layout() const {
  std::lock_guard lock(mu_);
  return layout_;
}

bool Topology::wait_for_replicas(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] {
    for (const auto& list : layout_->replicas) {
      if (list.empty()) return false;
    }
    return true;
  });
}

}  // namespace crowd::router
