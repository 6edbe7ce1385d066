// AutoSnapshot: a snapshot whenever the write-ahead log has grown past a
// size (--snapshot-log-mb). A cluster replica is written to only by its
// stream, never asked for snapshots, and its restart replays everything
// since the last one: measured at 3.35M demo users, a replica restarted
// on its log alone took 704 s (each record copies the bitmaps it touches),
// one restarted on a fresh snapshot 0.88 s
// (docs/benchmarks.md#cluster-replica-recovery). A thread looks once a
// second; the snapshot is written from a view while writes go on
// (Store::snapshot), and drops the log it covers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "index/store.h"

namespace crowd::server {

class AutoSnapshot {
 public:
  // `log_bytes` > 0; `store` must be persistent and outlive this.
  AutoSnapshot(Store& store, uint64_t log_bytes);
  ~AutoSnapshot();  // waits for a snapshot being written
  AutoSnapshot(const AutoSnapshot&) = delete;
  AutoSnapshot& operator=(const AutoSnapshot&) = delete;

  [[nodiscard]] uint64_t taken() const { return taken_.load(); }

 private:
  void run();

  Store& store_;
  uint64_t log_bytes_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::atomic<uint64_t> taken_{0};
  std::thread thread_;
};

}  // namespace crowd::server
