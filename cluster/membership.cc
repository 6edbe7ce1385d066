#include "cluster/membership.h"

#include <chrono>

#include "cluster/etcd_client.h"

namespace crowd::cluster {

Membership::Membership(std::vector<std::string> endpoints, std::string key, std::string value, int64_t ttl_seconds)
    : endpoints_(std::move(endpoints)),
      key_(std::move(key)),
      ttl_(std::max<int64_t>(ttl_seconds, 1)),
      value_(std::move(value)) {
  thread_ = std::thread([this] { run(); });
}

Membership::~Membership() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Membership::update(std::string value) {
  {
    std::lock_guard lock(mu_);
    value_ = std::move(value);
    value_dirty_ = true;
  }
  wake_.notify_all();  // written now, not at the next renewal
}

std::string Membership::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

void Membership::run() {
  // Calls are bounded well under the renewal interval, so a dead member
  // costs one renewal at most before the next endpoint is tried.
  const auto period = std::chrono::milliseconds(ttl_ * 1000 / 3);
  EtcdClient etcd(endpoints_, std::min(period, std::chrono::milliseconds(1000)));
  int64_t lease = 0;
  auto fail = [&](const std::string& error) {
    std::lock_guard lock(mu_);
    last_error_ = error;
  };
  std::unique_lock lock(mu_);
  while (!stop_) {
    std::string value = value_;
    bool dirty = value_dirty_;
    bool failed = false;
    lock.unlock();
    if (lease != 0) {
      const auto ttl = etcd.keepalive(lease);
      if (!ttl.ok()) {
        failed = true;
        fail(ttl.error);  // keep the lease: it may still be alive when etcd answers again
      } else if (*ttl == 0) {
        lease = 0;  // expired: the key is gone
        registered_ = false;
      }
    }
    if (lease == 0) {
      const auto granted = etcd.grant(ttl_);
      if (granted.ok()) {
        lease = granted->id;
        dirty = true;
      } else {
        failed = true;
        fail(granted.error);
      }
    }
    if (lease != 0 && dirty) {
      const auto put = etcd.put(key_, value, lease);
      if (put.ok()) {
        if (!registered_) ++registrations_;
        registered_ = true;
        lock.lock();
        if (value_ == value) value_dirty_ = false;
        lock.unlock();
      } else {
        failed = true;
        fail(put.error);
      }
    }
    lock.lock();
    // A new value is written at once, unless etcd just failed: then the
    // next try waits a period like a renewal (no spinning on a dead etcd).
    wake_.wait_for(lock, period, [&] { return stop_ || (value_dirty_ && !failed); });
  }
  lock.unlock();
  if (lease != 0) (void)etcd.revoke(lease);
  registered_ = false;
}

}  // namespace crowd::cluster
