// Recovering the log at startup: which segments to replay and in what order,
// what to do with a torn tail, where the new log starts — and refusing to
// start when acknowledged writes are missing.
//
// What the files promise (wal_format.h): the snapshot holds every record up
// to its LSN and says the log goes on in its first live segment, which
// therefore must exist; segments are numbered consecutively from there; a
// started segment's first LSN is one past the last record before it. So a
// missing segment, a segment cut short before another that was started, a
// damaged header, or a first LSN that does not follow on is a gap: records
// that may have been acknowledged are gone. Recovery then refuses, naming the
// files and the record numbers. Only the last segment that holds records, with
// nothing started after it, may end in a torn tail (a write in flight at a
// crash, never acknowledged); that tail is cut off and reported.
//
// Segments of format version 1 (before LSNs) are read as before: their
// records are counted, and a torn tail is accepted in the last one holding
// records. A short header is accepted only as the last file after a version-1
// segment (version 1 created segments in place, so a crash could leave one
// half-written); version 2 creates them whole under a temporary name.
//
// With `accept_loss` (crowdd --accept-log-loss) a gap does not refuse:
// replay stops at it, so the index is the snapshot plus the log's records up
// to the gap, in order (later records may refer to what the gap held: a saved
// crowd's bitmap names ordinals). Every segment from the gap on is hard-linked
// into <dir>/lost-<unix time>/ for inspection, each loss is described in
// `lost`, and `needs_snapshot` asks the caller to write a snapshot at once,
// after which the damaged files are deleted from the log.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "index/wal.h"
#include "index/wal_reader.h"

namespace crowd {

// Where the log must start, from the snapshot.
struct LogStart {
  bool have_snapshot = false;
  uint64_t first_seq = 1;     // the snapshot's first live segment (1 without a snapshot)
  bool lsn_known = true;      // false for a version-1 snapshot, which does not record its LSN
  uint64_t covered_lsn = 0;   // the last record the snapshot holds (0 without a snapshot)
  std::string snapshot_path;  // for messages
};

struct LogRecovery {
  uint64_t next_seq = 1;               // the segment the new log starts with
  uint64_t next_lsn = 1;               // the LSN of the new log's first record
  std::vector<Wal::LiveSegment> live;  // segments below next_seq kept on disk, oldest first
  uint64_t records = 0;                // records handed to the sink
  std::vector<std::string> notes;      // torn tail dropped, leftovers removed
  std::vector<std::string> lost;       // accept_loss only: what was not replayed, and where it was kept
  bool needs_snapshot = false;         // accept_loss found a gap: write a snapshot before any write
};

// Replays every live segment of the log in `dir` through `sink`, in order.
// Replayed segments are synced, so the new log never depends on data that
// was only in the page cache. O(log size). Fails with a message naming the
// files, offsets and record numbers of a gap or of corruption, or an I/O
// error.
[[nodiscard]] bool recover_log(const std::string& dir, const LogStart& start, bool accept_loss, const RecordSink& sink,
                               LogRecovery& out, std::string& error);

}  // namespace crowd
