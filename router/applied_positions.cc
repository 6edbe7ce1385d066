#include "router/applied_positions.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <utility>

#include "cluster/names.h"

namespace crowd::router {

std::unique_ptr<AppliedPositions> AppliedPositions::start(cluster::JetStream& js, const std::string& name,
                                                          uint32_t shards, std::string& error) {
  std::unique_ptr<AppliedPositions> p(new AppliedPositions());
  p->shards_.resize(shards);
  std::vector<std::unique_ptr<cluster::JetStream::Listener>> listeners;
  for (uint32_t k = 0; k < shards; ++k) {
    auto listener = js.listen(cluster::applied_subject(name, k), error);
    if (!listener) return nullptr;
    listeners.push_back(std::move(listener));
  }
  for (uint32_t k = 0; k < shards; ++k) {
    p->threads_.emplace_back([self = p.get(), k, l = std::move(listeners[k])]() mutable { self->listen(k, std::move(l)); });
  }
  return p;
}

AppliedPositions::~AppliedPositions() {
  stop_ = true;
  for (auto& t : threads_) t.join();
}

void AppliedPositions::listen(uint32_t shard, std::unique_ptr<cluster::JetStream::Listener> listener) {
  using namespace std::chrono_literals;
  while (!stop_) {
    const auto notice = listener->next(200ms);
    if (!notice) continue;
    const auto j = nlohmann::json::parse(*notice, nullptr, false);
    if (!j.is_object()) continue;
    const auto sequence = j.find("sequence");
    if (sequence == j.end() || !sequence->is_number_unsigned()) continue;
    Applied a;
    a.known = true;
    a.outcome = j.value("refused", false) ? AppliedOutcome::kRefused : AppliedOutcome::kApplied;
    a.refusal = j.value("refusal", "");
    a.users = j.value("users", uint64_t{0});
    a.added = j.value("added", uint64_t{0});
    a.removed = j.value("removed", uint64_t{0});
    a.erased = j.value("erased", uint64_t{0});
    note(shard, j.value("replica", ""), sequence->get<uint64_t>(), std::move(a));
  }
}

void AppliedPositions::note(uint32_t shard, const std::string& replica, uint64_t sequence, Applied applied) {
  {
    std::lock_guard lock(mu_);
    Shard& s = shards_[shard];
    uint64_t& at = s.by_replica[replica];
    at = std::max(at, sequence);
    // Every replica announces every sequence; the first word is kept (they agree).
    s.recent.try_emplace(sequence, std::move(applied));
    while (s.recent.size() > kOutcomesKept) s.recent.erase(s.recent.begin());
    s.applied = std::max(s.applied, sequence);
  }
  advanced_.notify_all();
}

Applied AppliedPositions::wait(uint32_t shard, uint64_t sequence, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  const Shard& s = shards_[shard];
  if (!advanced_.wait_until(lock, deadline, [&] { return s.applied >= sequence; })) return Applied{};
  const auto found = s.recent.find(sequence);
  if (found != s.recent.end()) return found->second;
  Applied unknown;
  unknown.outcome = AppliedOutcome::kApplied;
  return unknown;
}

bool AppliedPositions::wait_all(uint32_t shard, uint64_t sequence, const std::vector<std::string>& replicas,
                                std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  const Shard& s = shards_[shard];
  return advanced_.wait_until(lock, deadline, [&] {
    return std::all_of(replicas.begin(), replicas.end(), [&](const std::string& url) {
      const auto at = s.by_replica.find(url);
      return at != s.by_replica.end() && at->second >= sequence;
    });
  });
}

uint64_t AppliedPositions::applied(uint32_t shard) const {
  std::lock_guard lock(mu_);
  return shards_[shard].applied;
}

}  // namespace crowd::router
