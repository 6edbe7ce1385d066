#include "server/auto_snapshot.h"

#include <chrono>
#include <iostream>
#include <string>

namespace crowd::server {

AutoSnapshot::AutoSnapshot(Store& store, uint64_t log_bytes)
    : store_(store), log_bytes_(log_bytes), thread_([this] { run(); }) {}

AutoSnapshot::~AutoSnapshot() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void AutoSnapshot::run() {
  using Clock = std::chrono::steady_clock;
  // After a failure (a full disk), the next try waits a minute, not a second.
  Clock::time_point next_try = Clock::now();
  std::unique_lock lock(mu_);
  while (!wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; })) {
    if (store_.wal_bytes() < log_bytes_ || Clock::now() < next_try) continue;
    lock.unlock();
    SnapshotInfo info;
    std::string error;
    if (store_.snapshot(info, error)) {
      taken_.fetch_add(1, std::memory_order_relaxed);
    } else {
      // The log keeps everything meanwhile.
      std::cerr << "crowdd: automatic snapshot failed (trying again in a minute): " << error << "\n";
      next_try = Clock::now() + std::chrono::minutes(1);
    }
    lock.lock();
  }
}

}  // namespace crowd::server
