// Store: the index plus its durability — the one entry point for writes.
//
// A write takes the writer lock, appends its batch to the write-ahead log
// (write(2), no fsync), applies it to the Index (publishing a new view),
// releases the lock, and only then waits until the log is durable per the
// fsync policy (group commit: one fsync covers every write that arrived
// meanwhile). A write whose log append fails changes nothing.
//
// Snapshots are written from an immutable view outside the writer lock: the
// lock is held only to rotate the log, so writes go on while it is written.
//
// Without a data directory the store is memory-only and writes are
// acknowledged at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "index/index.h"
#include "index/write_batch.h"

namespace crowd {

enum class FsyncPolicy { kAlways, kBatch, kOff };

struct StoreOptions {
  std::string data_dir;  // empty: memory only
  FsyncPolicy fsync = FsyncPolicy::kBatch;
};

enum class WriteStatus {
  kOk,
  kFull,     // the user table has no ordinal left; nothing changed
  kIoError,  // the log could not be written; nothing changed
  kNotDurable,  // applied, but the fsync failed: the write may not survive a crash
};

struct SnapshotInfo {
  uint64_t bytes = 0;
  uint64_t micros = 0;
  std::string path;
};

class Wal;

class Store {
 public:
  // Restores the index from data_dir (snapshot, then log replay) when there is
  // one. On failure returns nullptr and a message saying what is wrong and
  // where (a corrupt snapshot or a corrupt record in the middle of the log
  // refuses to start; a torn tail of the last log is dropped and reported in
  // `notes`).
  static std::unique_ptr<Store> open(const StoreOptions& options, std::string& error, std::string* notes = nullptr);
  ~Store();

  [[nodiscard]] Index& index() { return index_; }
  [[nodiscard]] std::shared_ptr<const IndexView> view() const { return index_.view(); }

  // Applies a batch atomically and returns once it is durable per the policy.
  [[nodiscard]] WriteStatus write(const WriteBatch& batch, WriteResult& result);

  // Runs `load` under the writer lock with direct access to the index (bulk
  // loads into an empty index at start). With a data directory a snapshot is
  // written afterwards, so the load is durable without logging it.
  bool bulk_load(const std::function<void(Index&)>& load, std::string& error);

  // Writes a snapshot of the current view and drops the log it covers.
  // Memory-only stores fail with a message.
  bool snapshot(SnapshotInfo& info, std::string& error);

  // Flushes and syncs the log (shutdown).
  void flush();

  [[nodiscard]] bool persistent() const { return !options_.data_dir.empty(); }
  [[nodiscard]] uint64_t wal_bytes() const;
  [[nodiscard]] const StoreOptions& options() const { return options_; }

 private:
  explicit Store(StoreOptions options);

  StoreOptions options_;
  Index index_;
  std::mutex writer_;
  std::unique_ptr<Wal> wal_;
};

}  // namespace crowd
