#include "index/wal_recovery.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "index/posix_file.h"
#include "index/wal_format.h"

namespace crowd {
namespace {

struct Found {
  uint64_t seq = 0;
  uint64_t bytes = 0;
};

std::string path_of(const std::string& dir, uint64_t seq) { return dir + "/" + wal::segment_file_name(seq); }

bool list_segments(const std::string& dir, std::vector<Found>& out, std::string& error) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto seq = wal::parse_segment_file_name(it->path().filename().string());
    if (!seq) continue;
    const auto bytes = std::filesystem::file_size(it->path(), ec);
    if (ec) break;
    out.push_back(Found{*seq, bytes});
  }
  if (ec) {
    error = dir + ": listing log segments: " + ec.message();
    return false;
  }
  std::sort(out.begin(), out.end(), [](const Found& a, const Found& b) { return a.seq < b.seq; });
  return true;
}

// Cuts a torn tail off and syncs, or just syncs: the next segment must never
// hold records while this one could still lose some in a power failure.
bool settle(const std::string& path, const SegmentScan& scan, std::string& error) {
  File f;
  if (!File::open(path, O_WRONLY, 0, f, error)) return false;
  if (scan.torn && !f.truncate(scan.valid_bytes, error)) return false;
  return f.datasync(error);
}

}  // namespace

bool recover_log(const std::string& dir, uint64_t first_seq, bool have_snapshot, const RecordSink& sink,
                 LogRecovery& out, std::string& error) {
  out = LogRecovery();
  std::vector<Found> all;
  if (!list_segments(dir, all, error)) return false;

  std::vector<Found> stale;
  std::vector<Found> live;
  for (const auto& f : all) (f.seq < first_seq ? stale : live).push_back(f);

  for (std::size_t i = 0; i < live.size(); ++i) {
    const uint64_t expected = first_seq + i;
    if (live[i].seq == expected) continue;
    error = path_of(dir, expected) + " is missing: the log goes on with " + wal::segment_file_name(live[i].seq);
    if (i == 0) {
      error += have_snapshot ? " but the snapshot covers only the segments before " + wal::segment_file_name(expected)
                             : " and there is no snapshot to cover the segments before it";
    }
    error += "; refusing to start without the writes it held";
    return false;
  }

  // A segment no longer than its header holds no record.
  std::size_t holding = live.size();
  while (holding > 0 && live[holding - 1].bytes <= wal::kSegmentHeaderBytes) --holding;

  for (std::size_t i = 0; i < holding; ++i) {
    const std::string path = path_of(dir, live[i].seq);
    const bool last = i + 1 == holding;
    SegmentScan scan;
    if (!scan_segment(path, live[i].seq, last, sink, scan, error)) return false;
    out.records += scan.records;
    if (scan.torn) out.notes.push_back("dropped a torn tail: " + scan.torn_reason);
    if (!settle(path, scan, error)) return false;
    out.live.push_back(Wal::LiveSegment{live[i].seq, scan.torn ? scan.valid_bytes : scan.file_bytes});
  }

  bool removed = false;
  for (std::size_t i = holding; i < live.size(); ++i) {
    removed |= ::unlink(path_of(dir, live[i].seq).c_str()) == 0;
  }
  for (const auto& f : stale) removed |= ::unlink(path_of(dir, f.seq).c_str()) == 0;
  if (!stale.empty()) {
    out.notes.push_back("removed " + std::to_string(stale.size()) + " log segment(s) already covered by the snapshot");
  }
  if (removed && !sync_directory(dir, error)) return false;

  out.next_seq = holding > 0 ? live[holding - 1].seq + 1 : first_seq;
  return true;
}

}  // namespace crowd
