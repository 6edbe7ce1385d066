#include "index/wal_recovery.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <map>
#include <system_error>

#include "index/posix_file.h"
#include "index/wal_format.h"

namespace crowd {
namespace {

struct Found {
  uint64_t seq = 0;
  uint64_t bytes = 0;
  bool header_ok = false;
  bool leftover = false;  // an interrupted version-1 creation, replaced by the new log
  std::string header_error;
  wal::SegmentHeader header;
};

std::string path_of(const std::string& dir, uint64_t seq) { return dir + "/" + wal::segment_file_name(seq); }

// "records 5..9 are" / "record 5 is".
std::string records_are(uint64_t from, uint64_t to) {
  return from == to ? "record " + std::to_string(from) + " is"
                    : "records " + std::to_string(from) + ".." + std::to_string(to) + " are";
}

// Lists the segments, reading each one's header, and removes leftovers of
// segment creation (wal-<seq>.log.tmp: never renamed, so never used).
bool list_segments(const std::string& dir, std::vector<Found>& out, std::vector<std::string>& notes,
                   std::string& error) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.ends_with(".tmp") && wal::parse_segment_file_name(name.substr(0, name.size() - 4))) {
      if (::unlink(it->path().c_str()) == 0)
        notes.push_back("removed an unfinished log segment (" + it->path().string() + ")");
      continue;
    }
    const auto seq = wal::parse_segment_file_name(name);
    if (!seq) continue;
    Found f;
    f.seq = *seq;
    File file;
    if (!File::open(it->path().string(), O_RDONLY, 0, file, error) || !file.size(f.bytes, error)) return false;
    std::string head(static_cast<std::size_t>(std::min<uint64_t>(f.bytes, wal::kSegmentHeaderBytes)), '\0');
    if (!file.pread_exact(head.data(), head.size(), 0, error)) return false;
    f.header_ok = wal::parse_segment_header(head, f.seq, f.header, f.header_error);
    out.push_back(std::move(f));
  }
  if (ec) {
    error = dir + ": listing log segments: " + ec.message();
    return false;
  }
  std::sort(out.begin(), out.end(), [](const Found& a, const Found& b) { return a.seq < b.seq; });
  return true;
}

bool holds_records(const Found& f) { return f.header_ok && f.bytes > f.header.bytes; }

// Cuts a torn tail off and syncs, or just syncs: the next segment must never
// hold records while this one could still lose some in a power failure.
bool settle(const std::string& path, const SegmentScan& scan, std::string& error) {
  File f;
  if (!File::open(path, O_WRONLY, 0, f, error)) return false;
  if (scan.torn && !f.truncate(scan.valid_bytes, error)) return false;
  return f.datasync(error);
}

// Hard-links the segments a start with --accept-log-loss did not replay into
// <dir>/lost-<unix time>/, so that deleting them from the log after the
// snapshot keeps them for inspection. Returns the folder.
bool keep_aside(const std::string& dir, const std::vector<uint64_t>& seqs, std::string& kept, std::string& error) {
  std::string folder = dir + "/lost-" + std::to_string(static_cast<long long>(std::time(nullptr)));
  for (int n = 1; ::mkdir(folder.c_str(), 0700) != 0; ++n) {
    if (errno != EEXIST || n > 100) {
      error = io_error_message(folder, "mkdir", errno);
      return false;
    }
    folder = dir + "/lost-" + std::to_string(static_cast<long long>(std::time(nullptr))) + "-" + std::to_string(n);
  }
  for (const uint64_t seq : seqs) {
    const std::string to = folder + "/" + wal::segment_file_name(seq);
    if (::link(path_of(dir, seq).c_str(), to.c_str()) != 0) {
      error = io_error_message(to, "link", errno);
      return false;
    }
  }
  if (!sync_directory(folder, error) || !sync_directory(dir, error)) return false;
  kept = folder;
  return true;
}

}  // namespace

bool recover_log(const std::string& dir, const LogStart& start, bool accept_loss, const RecordSink& sink,
                 LogRecovery& out, std::string& error) {
  out = LogRecovery();
  std::vector<Found> all;
  if (!list_segments(dir, all, out.notes, error)) return false;

  std::vector<uint64_t> stale;
  std::vector<Found> live;
  for (auto& f : all) {
    if (f.seq < start.first_seq) {
      stale.push_back(f.seq);
    } else {
      live.push_back(std::move(f));
    }
  }

  // A version-1 segment whose creation a crash interrupted: a short header,
  // the last file, after a version-1 segment. It held no record.
  if (live.size() >= 2 && !live.back().header_ok && live.back().bytes < wal::kSegmentHeaderBytes &&
      live[live.size() - 2].header_ok && live[live.size() - 2].header.version == 1 &&
      live[live.size() - 2].seq + 1 == live.back().seq) {
    out.notes.push_back("ignored " + path_of(dir, live.back().seq) + ": " + live.back().header_error +
                        ", a segment whose creation a crash interrupted (format version 1); it is replaced");
    live.back().leftover = true;
  }

  // Which segment's tail may be torn: the last holding records with nothing
  // started or holding records after it.
  std::size_t tear_ok_from = live.size();
  for (std::size_t i = live.size(); i > 0; --i) {
    const Found& f = live[i - 1];
    tear_ok_from = i - 1;
    if (!f.leftover && (holds_records(f) || (f.header_ok && f.header.started))) break;
  }

  uint64_t next_lsn = start.have_snapshot ? (start.lsn_known ? start.covered_lsn + 1 : 0) : 1;  // 0: unknown yet
  std::string before = start.have_snapshot ? start.snapshot_path + " holds the log up to " +
                                                 (start.lsn_known ? "record " + std::to_string(start.covered_lsn)
                                                                  : std::string("its first live segment"))
                                           : std::string("there is no snapshot, so the log starts at record 1");

  // A gap at live[i] (or before it): refuse, or with accept_loss stop here.
  std::size_t stop = live.size();
  auto gap = [&](std::size_t i, const std::string& what) {
    if (!accept_loss) {
      error = what +
              "; refusing to start without writes that may have been acknowledged"
              " (crowdd --accept-log-loss starts without them, see docs/operations.md)";
      return false;
    }
    out.lost.push_back(what);
    stop = i;
    return true;
  };

  if (live.empty() && start.have_snapshot) {
    if (!gap(0, path_of(dir, start.first_seq) + " is missing: " + before + " and says the log goes on in " +
                    wal::segment_file_name(start.first_seq) + ", but no segment of the log is left")) {
      return false;
    }
  }

  for (std::size_t i = 0; i < live.size() && stop == live.size(); ++i) {
    const Found& f = live[i];
    const std::string path = path_of(dir, f.seq);
    const uint64_t expected = start.first_seq + i;
    if (f.seq != expected) {
      std::string what = path_of(dir, expected) + " is missing: the log goes on with " + wal::segment_file_name(f.seq);
      if (i == 0) {
        what += start.have_snapshot
                    ? " but the snapshot covers only the segments before " + wal::segment_file_name(expected)
                    : " and there is no snapshot to cover the segments before it";
      } else {
        what += "; " + before;
      }
      if (f.header_ok && f.header.started && next_lsn != 0 && f.header.first_lsn > next_lsn) {
        what += " (" + records_are(next_lsn, f.header.first_lsn - 1) + " gone)";
      }
      if (!gap(i, what)) return false;
      break;
    }
    if (f.leftover) continue;
    if (!f.header_ok) {
      if (!gap(i, path + ": " + f.header_error + "; " + before + ", and the records after it are lost")) return false;
      break;
    }
    if (f.header.started) {
      if (next_lsn == 0) next_lsn = f.header.first_lsn;
      if (f.header.first_lsn > next_lsn) {
        if (!gap(i, "log " + records_are(next_lsn, f.header.first_lsn - 1) + " missing: " + before + ", but " + path +
                        " starts at record " + std::to_string(f.header.first_lsn))) {
          return false;
        }
        break;
      }
      if (f.header.first_lsn < next_lsn) {
        if (!gap(i, path + " starts at record " + std::to_string(f.header.first_lsn) + ", yet " + before +
                        ": the log is corrupt")) {
          return false;
        }
        break;
      }
    } else if (f.header.version == 1 && next_lsn == 0) {
      next_lsn = 1;  // a version-1 log: records are numbered by counting
    }

    SegmentScan scan;
    std::string scan_error;
    if (!scan_segment(path, f.seq, i >= tear_ok_from, sink, scan, scan_error)) {
      // Corruption, or a read that fails: the records from here on are lost.
      // The next started segment says how many.
      if (next_lsn != 0 && i + 1 < live.size() && live[i + 1].header_ok && live[i + 1].header.started &&
          live[i + 1].header.first_lsn > next_lsn + scan.records) {
        scan_error += " (log " + records_are(next_lsn + scan.records, live[i + 1].header.first_lsn - 1) +
                      " lost: the next segment starts at record " + std::to_string(live[i + 1].header.first_lsn) + ")";
      }
      if (!gap(i, scan_error)) return false;
      out.records += scan.records;
      if (scan.records > 0) {
        out.lost.push_back(
            "replayed the first " + std::to_string(scan.records) + " records of " + path + " (" +
            std::to_string(scan.valid_bytes) + " of its " + std::to_string(scan.file_bytes) + " bytes)" +
            (next_lsn != 0 ? ", up to record " + std::to_string(next_lsn + scan.records - 1) : std::string()));
      }
      if (next_lsn != 0) next_lsn += scan.records;
      break;
    }
    out.records += scan.records;
    if (next_lsn != 0) next_lsn += scan.records;
    if (scan.torn) {
      out.notes.push_back(
          "dropped a torn tail of " + path + ": " + scan.torn_reason + "; kept its " + std::to_string(scan.records) +
          " records" +
          (next_lsn != 0 ? " (the log now ends at record " + std::to_string(next_lsn - 1) + ")" : std::string()) +
          ". A torn tail holds at most the writes in flight at a crash, which were never acknowledged");
    }
    if (!settle(path, scan, error)) return false;
    if (next_lsn != 0) before = path + " ends with record " + std::to_string(next_lsn - 1);
    out.live.push_back(Wal::LiveSegment{f.seq, scan.torn ? scan.valid_bytes : scan.file_bytes});
  }
  if (next_lsn == 0) next_lsn = 1;
  out.next_lsn = next_lsn;

  if (stop < live.size() || (live.empty() && start.have_snapshot)) {
    // accept_loss and a gap: keep everything from the gap on aside; the new
    // log starts above every segment, and the caller's snapshot covers them.
    std::vector<uint64_t> aside;
    for (std::size_t i = stop; i < live.size(); ++i) {
      if (!live[i].leftover) aside.push_back(live[i].seq);
    }
    uint64_t top = live.empty() ? start.first_seq - 1 : live.back().seq;
    if (!aside.empty()) {
      std::string kept;
      if (!keep_aside(dir, aside, kept, error)) return false;
      out.lost.push_back("kept the " + std::to_string(aside.size()) + " segment(s) not fully replayed (" +
                         wal::segment_file_name(aside.front()) + " .. " + wal::segment_file_name(aside.back()) +
                         ") in " + kept + "/");
      for (std::size_t i = stop; i < live.size(); ++i) {
        if (!live[i].leftover) out.live.push_back(Wal::LiveSegment{live[i].seq, live[i].bytes});
      }
    }
    out.lost.push_back("the index holds the snapshot and the log up to record " + std::to_string(next_lsn - 1));
    out.next_seq = std::max(top + 1, start.first_seq);
    out.needs_snapshot = true;
  } else if (!live.empty()) {
    // The new log's first segment replaces the last one when that holds no
    // record (a rename over it: no moment without it), else follows it.
    const Found& last = live.back();
    if (holds_records(last) && !last.leftover) {
      out.next_seq = last.seq + 1;
    } else {
      out.next_seq = last.seq;
      if (!out.live.empty() && out.live.back().seq == last.seq) out.live.pop_back();
    }
  } else {
    out.next_seq = start.first_seq;
  }

  bool removed = false;
  for (const uint64_t seq : stale) removed |= ::unlink(path_of(dir, seq).c_str()) == 0;
  if (!stale.empty()) {
    out.notes.push_back("removed " + std::to_string(stale.size()) + " log segment(s) already covered by the snapshot");
  }
  if (removed && !sync_directory(dir, error)) return false;
  return true;
}

}  // namespace crowd
