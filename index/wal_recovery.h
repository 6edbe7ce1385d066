// Recovering the log at startup: which segments to replay and in what order,
// what to do with a torn tail, and where the new log starts.
//
// The segments replayed are those numbered from the snapshot's first live
// segment (1 without a snapshot) upwards; they must be consecutive, since a
// missing one would silently lose writes. Empty segments at the end (created
// for a rotation that a crash interrupted) are removed first, so "the last
// segment" — the only one whose tail may be torn — is the last that holds
// records. A torn tail is cut off the file and reported; segments below the
// first live one are left over from a snapshot and are deleted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "index/wal.h"
#include "index/wal_reader.h"

namespace crowd {

struct LogRecovery {
  uint64_t next_seq = 1;               // the segment the new log starts with
  std::vector<Wal::LiveSegment> live;  // replayed segments kept on disk, oldest first
  uint64_t records = 0;                // records handed to the sink
  std::vector<std::string> notes;      // torn tail dropped, leftovers removed
};

// Replays every live segment of the log in `dir` through `sink`, in order.
// `first_seq` is the snapshot's first live segment (1 without a snapshot).
// Replayed segments are synced, so the new log never depends on data that
// was only in the page cache. O(log size). Fails with a message naming the
// file and offset of corruption, a missing segment, or an I/O error.
[[nodiscard]] bool recover_log(const std::string& dir, uint64_t first_seq, bool have_snapshot, const RecordSink& sink,
                               LogRecovery& out, std::string& error);

}  // namespace crowd
