#include "server/shard_role.h"

#include <chrono>
#include <iostream>

#include "cluster/jetstream.h"
#include "cluster/membership.h"
#include "cluster/names.h"
#include "cluster/shard_applier.h"
#include "server/json_writer.h"

namespace crowd::server {
namespace {

using namespace std::chrono_literals;

// How long one wait for the next message lasts: also how often the thread
// looks at the stop flag and refreshes its membership value.
constexpr auto kPoll = 200ms;
// After a failure (NATS unreachable, a write error), before trying again.
constexpr auto kRetry = 1s;

}  // namespace

ShardRole::ShardRole(Store& store, ClusterConfig cluster, std::string url)
    : store_(store), cluster_(std::move(cluster)), url_(std::move(url)) {}

std::unique_ptr<ShardRole> ShardRole::start(Store& store, const ClusterConfig& cluster, const std::string& url,
                                            std::string& error) {
  std::unique_ptr<ShardRole> role(new ShardRole(store, cluster, url));
  role->js_ = cluster::JetStream::connect(cluster.nats, error);
  if (!role->js_) return nullptr;
  role->thread_ = std::thread([r = role.get()] { r->run(); });
  return role;
}

ShardRole::~ShardRole() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::string ShardRole::description() const {
  return "replica of shard " + std::to_string(*cluster_.shard) + " of cluster " + cluster_.name;
}

void ShardRole::run() {
  const uint32_t k = *cluster_.shard;
  // The stream, made if missing. JetStream may still be electing its leaders
  // when a replica starts with the cluster: a timeout here is waited out.
  const cluster::StreamSettings stream{
      cluster::shard_stream(cluster_.name, k), cluster::shard_subject(cluster_.name, k),
      static_cast<int>(std::min<std::size_t>(cluster_.stream_replicas, cluster_.nats.size())),
      std::chrono::seconds(600)};
  for (std::string last_error; !stop_;) {
    std::string error;
    if (js_->ensure_stream(stream, error)) break;
    if (error != last_error) std::cerr << "crowdd: " << description() << ": " << error << " (trying again)\n";
    last_error = error;
    for (auto slept = 0ms; slept < kRetry && !stop_; slept += kPoll) std::this_thread::sleep_for(kPoll);
  }
  cluster::ShardApplier applier(store_, *js_,
                                {cluster::shard_stream(cluster_.name, k), cluster::shard_subject(cluster_.name, k)});
  const std::string notices = cluster::applied_subject(cluster_.name, k);
  auto member_value = [&](uint64_t position) {
    std::string v;
    JsonWriter w(v);
    w.raw("{").key("role").string("shard").raw(",").key("shard").number(k).raw(",").key("url").string(url_);
    w.raw(",").key("position").number(position).raw("}");
    return v;
  };
  if (!cluster_.etcd.empty()) {
    membership_ = std::make_unique<cluster::Membership>(cluster_.etcd, cluster::replica_key(cluster_.name, k, url_),
                                                        member_value(applier.position()));
  }
  std::cerr << "crowdd: " << description() << ": applying from stream position " << applier.position() + 1 << "\n";
  std::string last_error;
  auto published = std::chrono::steady_clock::now();
  while (!stop_) {
    std::string error;
    const auto applied = applier.apply_next(kPoll, error);
    if (applied) {
      // The write returned, so under --fsync always|batch it is on disk.
      std::string notice;
      JsonWriter w(notice);
      w.raw("{").key("replica").string(url_).raw(",").key("sequence").number(applied->sequence);
      w.raw(",").key("refused").boolean(applied->status != WriteStatus::kOk);
      if (applied->status != WriteStatus::kOk) w.raw(",").key("refusal").string(applied->refusal);
      // What the write changed: the router answers the client with it, as a crowdd would.
      const WriteResult& r = applied->result;
      w.raw(",").key("users").number(r.users).raw(",").key("added").number(r.added);
      w.raw(",").key("removed").number(r.removed).raw(",").key("erased").number(r.erased).raw("}");
      std::string ignored;
      (void)js_->notify(notices, notice, ignored);  // a lost notice delays an acknowledgement, no more
      last_error.clear();
    } else if (!error.empty()) {
      if (error != last_error) std::cerr << "crowdd: " << description() << ": " << error << "\n";
      last_error = error;
      for (auto slept = 0ms; slept < kRetry && !stop_; slept += kPoll) std::this_thread::sleep_for(kPoll);
    }
    if (membership_ && std::chrono::steady_clock::now() - published >= 1s) {
      membership_->update(member_value(applier.position()));
      published = std::chrono::steady_clock::now();
    }
  }
  membership_.reset();
}

}  // namespace crowd::server
