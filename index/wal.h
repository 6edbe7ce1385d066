// Wal: the write-ahead log's writing side — appending records to the current
// segment, making them durable per the fsync policy, and rotating segments
// for snapshots. (Layout: wal_format.h. Reading back: wal_reader.h.)
//
// Appends are write(2)s at the end of the current segment, made by the
// Store's writer under its writer lock. Durability is a separate step with
// no lock held: each append gets a ticket (a count of records), and
// wait_durable(ticket) blocks until a flusher thread's fdatasync covers it.
// The flusher syncs as soon as something is pending (kAlways) or a short
// window after (kBatch, group commit); either way one sync acknowledges every
// record appended before it started. kOff has no flusher.
//
// Rotation (snapshot): the next segment is created and made durable ahead of
// time, outside the writer lock; under the lock the old segment is synced
// (usually a no-op after a pre-sync), the new one's start block (its first
// LSN, wal_format.h) is written and synced, and appends move on. So every
// segment but the last is complete on disk, a torn record can only be at the
// end of the last one, and a started segment tells recovery how many records
// the segments before it must hold.
//
// Segments are created whole: written as wal-<seq>.log.tmp, synced, renamed
// and the directory synced, so a crash never leaves a half-written header
// under a segment's name. Mode 0600: the log holds every user's tags.
//
// Failures are sticky: after an fdatasync fails the kernel may have dropped
// the dirty pages, so later syncs could succeed without the data ever
// reaching the disk. The log then refuses appends (kIoError) until a
// snapshot covering the failed segment is durable. An append that fails is
// cut back off the file, so it changes nothing; if even that fails, the log
// fails the same way.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "index/durability.h"

namespace crowd {

class Wal {
 public:
  struct LiveSegment {
    uint64_t seq = 0;
    uint64_t bytes = 0;
  };

  // Starts a log at segment `seq` in `dir`, whose first record will have LSN
  // `first_lsn`: creates the file (replacing one of that name, which
  // recovery has found to hold no record), writes its header, and syncs file
  // and directory. `older` are the
  // segments below `seq` still on disk (replayed, not yet covered by a
  // snapshot): counted by bytes(), deleted by drop_covered(). Starts the
  // flusher thread unless the policy is kOff. Returns nullptr and a message
  // on failure.
  [[nodiscard]] static std::unique_ptr<Wal> start(std::string dir, uint64_t seq, uint64_t first_lsn, FsyncPolicy policy,
                                                  std::vector<LiveSegment> older, std::string& error);
  // Stops the flusher and syncs what is pending.
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Writer side, callers serialised (the Store's writer lock). Appends one
  // framed record (wal_format.h) with a single write(2), no sync, and hands
  // out its ticket for wait_durable. On failure nothing is left in the file
  // and `error` names the file and the errno (ENOSPC, EIO) or the earlier
  // failure that makes the log refuse writes.
  [[nodiscard]] bool append(std::string_view record, uint64_t& ticket, std::string& error);

  // Any thread, no lock held: blocks until the record with this ticket is
  // durable per the policy (kOff: returns at once). False when the sync
  // failed: the record was written but may not survive a crash.
  [[nodiscard]] bool wait_durable(uint64_t ticket);

  // Snapshot side, one snapshot at a time (the Store's snapshot lock).
  //
  // Creates the next segment file and syncs it and the directory, so that
  // rotate() under the writer lock does no file creation. Idempotent.
  [[nodiscard]] bool prepare_rotation(std::string& error);
  // Syncs the current segment without any lock, so the sync inside rotate()
  // finds little left to write.
  void presync();
  // Writer lock held. Syncs the current segment and makes the prepared one
  // current (creating it here, slowly, if prepare_rotation() was skipped).
  // `new_seq` is the new segment's seq: a snapshot of the index as it is now
  // covers every segment below it, and every record up to `covered_lsn`. A
  // failed sync makes the log fail (see above) but still rotates; only a
  // failure to create the segment returns false, and then nothing changed.
  [[nodiscard]] bool rotate(uint64_t& new_seq, uint64_t& covered_lsn, std::string& error);
  // After a snapshot covering every segment below `first_live` is durable:
  // deletes those segments, and clears a failure that happened in one of
  // them (everything it left in doubt is in the snapshot).
  void drop_covered(uint64_t first_live);
  // Makes the log refuse appends until a snapshot covers the current segment
  // (a bulk load that could not be made durable).
  void fail(std::string why);

  // Syncs the current segment now, whatever the policy (shutdown). False
  // with a message when the log has failed or the sync fails.
  [[nodiscard]] bool flush(std::string& error);

  // Bytes in live segment files. Any thread; O(1).
  [[nodiscard]] uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint64_t current_seq() const;

 private:
  struct Segment;

  Wal(std::string dir, FsyncPolicy policy);
  // first_lsn 0: a prepared segment, started by rotate().
  [[nodiscard]] bool create_segment(uint64_t seq, uint64_t first_lsn, std::shared_ptr<Segment>& out,
                                    std::string& error);
  void flusher_loop();
  // Requires mu_. Records a failure and releases every waiter.
  void fail_locked(std::string why, uint64_t seq);

  const std::string dir_;
  const FsyncPolicy policy_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // flusher: something to sync, or stop
  std::condition_variable done_cv_;  // waiters: synced_ or failed_upto_ moved
  std::shared_ptr<Segment> current_;
  std::shared_ptr<Segment> prepared_;
  std::vector<LiveSegment> older_;  // live segments below current_, oldest first
  uint64_t lsn_base_ = 0;           // the LSN of ticket t is lsn_base_ + t
  uint64_t appended_ = 0;           // tickets handed out
  uint64_t synced_ = 0;             // every ticket <= this is durable
  uint64_t failed_upto_ = 0;        // every ticket <= this (and > synced_) failed
  std::string failure_;             // non-empty: appends refused
  uint64_t failure_seq_ = 0;        // the segment the failure happened in
  bool stop_ = false;

  std::atomic<uint64_t> bytes_{0};
  std::thread flusher_;
};

}  // namespace crowd
