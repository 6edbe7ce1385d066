// Reading one log segment back (recovery): the header, then every record in
// order, telling a torn tail from corruption.
//
// A torn tail is what a crash leaves at the end of the log: a record cut
// short, or bytes that do not verify as a record (a half-written header, a
// payload that fails its CRC, zeros where a file system extended the size
// before the data landed) with no good record after them. It holds only
// writes that were never acknowledged, so it is dropped. Anything else that
// does not verify — a bad record with a good one after it, a bad record in a
// segment that is not the last, a payload that passes its CRC but does not
// decode — is corruption, and the store refuses to start.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "index/wal_format.h"

namespace crowd {

struct SegmentScan {
  wal::SegmentHeader header;
  uint64_t records = 0;      // good records handed to the sink
  uint64_t valid_bytes = 0;  // offset just past the last good record
  uint64_t file_bytes = 0;   // size of the file as found
  bool torn = false;         // the segment ends in a torn tail (bytes valid_bytes.. to drop)
  std::string torn_reason;   // what the tail looked like, with its offset
};

// Receives each good record's payload and its offset in the file. Returns
// false with a message (e.g. the payload does not decode) to stop the scan;
// the scan then fails with that message prefixed by the file and offset.
using RecordSink = std::function<bool(std::string_view payload, uint64_t offset, std::string& error)>;

// Scans segment `seq` at `path`. With `tail_may_be_torn` (the last segment
// that holds records) a torn tail is reported in `out` instead of failing.
// O(file size); reads in large chunks. Fails with a message naming the file
// and the byte offset of the problem; `out` then still says how far the
// segment was good (records handed to the sink, valid_bytes), which is what
// a start with --accept-log-loss keeps. A header that is short or does not
// verify fails too, whatever `tail_may_be_torn` says (wal_recovery.h decides
// whether a short header is a crash's leftover).
[[nodiscard]] bool scan_segment(const std::string& path, uint64_t seq, bool tail_may_be_torn, const RecordSink& sink,
                                SegmentScan& out, std::string& error);

}  // namespace crowd
