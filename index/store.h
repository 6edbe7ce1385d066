// Store: the index plus its durability — the one entry point for writes.
//
// A write encodes its batch as a log record (no lock), takes the writer
// lock, appends the record to the write-ahead log (write(2), no fsync),
// applies the batch to the Index (publishing a new view), releases the lock,
// and only then waits until the log is durable per the fsync policy (group
// commit: one fsync covers every write that arrived meanwhile). A write whose
// log append fails changes nothing. No lock is held across an fsync on the
// write path.
//
// Snapshots are written from an immutable view outside the writer lock: the
// lock is held only to rotate the log and take the view, so writes go on
// while it is written. Once the snapshot is durable the log segments it
// covers are deleted.
//
// On disk (<data-dir>, created 0700; every file 0600): snapshot.crowd
// (snapshot_file.h), wal-<seq>.log segments (wal_format.h),
// snapshot.crowd.tmp while a snapshot is written, and LOCK, held with
// flock(2) so two processes never share the directory.
// Whatever the moment of a crash, open() restores exactly the writes that
// were acknowledged (and perhaps some that were not yet).
//
// Without a data directory the store is memory-only and writes are
// acknowledged at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "index/durability.h"
#include "index/index.h"
#include "index/posix_file.h"
#include "index/snapshot_file.h"
#include "index/write_batch.h"

namespace crowd {

struct StoreOptions {
  std::string data_dir;  // empty: memory only
  FsyncPolicy fsync = FsyncPolicy::kBatch;
  // Start even when the log has a gap (records that may have been
  // acknowledged are missing): restore up to the gap, keep the damaged
  // segments aside, report the loss in the notes, and write a snapshot.
  // Without it such a start fails (wal_recovery.h).
  bool accept_log_loss = false;
};

enum class WriteStatus {
  kOk,
  kFull,        // the user table has no ordinal left; nothing changed
  kIoError,     // the log could not be written; nothing changed (last_io_error() says why)
  kNotDurable,  // applied, but the fsync failed: the write may not survive a crash
  kConflict,    // the batch's IDs or spaces were refused (WriteResult::refusal); nothing changed
};

class Wal;

class Store {
 public:
  // Restores the index from data_dir (snapshot, then log replay) when there is
  // one, creating the directory if needed. On failure returns nullptr and a
  // message saying what is wrong and where (a corrupt snapshot, a corrupt
  // record in the middle of the log, or a gap in the log refuses to start
  // unless accept_log_loss; a torn tail of the last log is dropped and
  // reported in `notes`, one line each, along with what was restored).
  // O(snapshot size + log size).
  static std::unique_ptr<Store> open(const StoreOptions& options, std::string& error, std::string* notes = nullptr);
  // Stops the log's flusher and syncs what is pending.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Writer side only (bulk loaders under bulk_load()).
  [[nodiscard]] Index& index() { return index_; }
  // Any thread; wait-free for practical purposes.
  [[nodiscard]] std::shared_ptr<const IndexView> view() const { return index_.view(); }

  // Reader side, any thread: the ordinals of users by uid (nullopt for an
  // unknown uid), looked up under the writer lock -- the uid hash is the
  // writer's (user_table.h) -- so this waits for a write being applied.
  // Check an answer against the view in use (ordinal_count, universe).
  // O(n), one hash probe a uid.
  void find_uids(std::span<const UserId> uids, std::span<std::optional<Ordinal>> out);

  // Applies a batch atomically and returns once it is durable per the policy.
  // Any thread. Cost: encoding the batch, one write(2) and Index::apply under
  // the writer lock, then the wait for the sync (~1 ms under kBatch).
  [[nodiscard]] WriteStatus write(const WriteBatch& batch, WriteResult& result);

  // Writes batches that all Index::joins_others() as one group: a log record
  // each (the log reads as write() of each in turn), one new view with a
  // result per batch (Index::apply_each: a tag they share is copied once),
  // one sync. For a replica catching up on its stream. kOk: all written;
  // otherwise the first `written` are written and the status says why the
  // next one was not (kFull; kIoError; kConflict for a batch that does not
  // join others, which is the caller's mistake). kNotDurable: all applied,
  // the sync failed. Unlike write(), a batch that only erases unknown users
  // is logged too (a replica's batches always record a stream position).
  [[nodiscard]] WriteStatus write_each(std::span<const WriteBatch> batches, std::span<WriteResult> results,
                                       std::size_t& written);

  // Runs `load` under the writer lock with direct access to the index (bulk
  // loads into an empty index at start). With a data directory a snapshot is
  // then written — still under the writer lock, so no write acknowledged
  // after the load can ever be replayed without it — making the load durable
  // without logging it. If that snapshot fails the load stays in memory, the
  // log refuses writes until a snapshot succeeds, and this returns false.
  bool bulk_load(const std::function<void(Index&)>& load, std::string& error);

  // Writes a snapshot of the current view and drops the log it covers. One
  // snapshot at a time (a second caller waits). O(index size), outside the
  // writer lock but for a log rotation (an fdatasync of what the last
  // moments wrote). Memory-only stores fail with a message.
  bool snapshot(SnapshotInfo& info, std::string& error);

  // Syncs the log (shutdown). A failure is kept in last_io_error().
  void flush();

  [[nodiscard]] bool persistent() const { return !options_.data_dir.empty(); }
  // Bytes in live log segments (for /metrics). O(1).
  [[nodiscard]] uint64_t wal_bytes() const;
  [[nodiscard]] const StoreOptions& options() const { return options_; }
  // The most recent log failure behind a kIoError or kNotDurable, for the
  // server's log. Empty when there was none.
  [[nodiscard]] std::string last_io_error() const;

 private:
  explicit Store(StoreOptions options);

  // `needs_snapshot`: a log loss was accepted; open() writes a snapshot.
  [[nodiscard]] bool recover(std::string& notes, bool& needs_snapshot, std::string& error);
  [[nodiscard]] bool lock_directory(std::string& error);
  // Writer lock held: whether the batch's new users fit in the user table.
  [[nodiscard]] bool has_room(const WriteBatch& batch);
  // `batch` as a sealed log record; false (noted as an I/O error) when it
  // is over the record limit. Needs no lock.
  [[nodiscard]] bool encode_record(const WriteBatch& batch, std::string& record);
  // Snapshot lock held: writes `view` as the snapshot covering the log below
  // `first_live`, then deletes those segments.
  // `ids`: the view's ID links as encode_snapshot_ids took them under the
  // writer lock (null: read them from the view, the writer lock held).
  [[nodiscard]] bool write_and_drop(const IndexView& view, uint64_t first_live, uint64_t covered_lsn,
                                    SnapshotInfo& info, std::string& error, const SnapshotIds* ids = nullptr);
  void note_io_error(const std::string& error);

  StoreOptions options_;
  File lock_file_;  // declared first so the directory stays locked until the log is closed
  Index index_;
  std::mutex writer_;
  std::mutex snapshot_;  // one snapshot (or bulk load) at a time; taken before writer_
  std::unique_ptr<Wal> wal_;
  mutable std::mutex io_error_mu_;
  std::string io_error_;
};

}  // namespace crowd
