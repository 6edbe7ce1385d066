#include "index/wal_reader.h"

#include <fcntl.h>

#include <algorithm>
#include <string_view>

#include "index/crc32c.h"
#include "index/posix_file.h"
#include "index/tuning.h"
#include "index/wal_format.h"

namespace crowd {
namespace {

// A forward-only window on a file: view(pos, n) returns bytes [pos, pos+n),
// reading a large chunk whenever they are not already buffered, so a segment
// of small records costs a few big reads rather than two syscalls a record.
class ChunkReader {
 public:
  ChunkReader(const File& file, uint64_t size) : file_(file), size_(size) {}

  [[nodiscard]] bool view(uint64_t pos, std::size_t n, std::string_view& out, std::string& error) {
    if (pos < start_ || pos + n > start_ + buf_.size()) {
      const std::size_t want =
          static_cast<std::size_t>(std::min<uint64_t>(std::max(n, tuning::kLogReadChunkBytes), size_ - pos));
      buf_.resize(want);
      if (!file_.pread_exact(buf_.data(), want, pos, error)) return false;
      start_ = pos;
    }
    out = std::string_view(buf_).substr(static_cast<std::size_t>(pos - start_), n);
    return true;
  }

  // The offset of the first complete, verifying record that starts after
  // `pos`, or 0 when there is none. One header check per byte offset: a
  // few ns each, and only ever run on a damaged tail.
  [[nodiscard]] bool find_record_after(uint64_t pos, uint64_t& found, std::string& error) {
    found = 0;
    for (uint64_t p = pos + 1; p + wal::kRecordHeaderBytes <= size_; ++p) {
      std::string_view h;
      if (!view(p, wal::kRecordHeaderBytes, h, error)) return false;
      wal::RecordHeader rh;
      if (!wal::decode_record_header(h.data(), rh)) continue;
      if (rh.length > size_ - p - wal::kRecordHeaderBytes) continue;
      std::string_view payload;
      if (!view(p + wal::kRecordHeaderBytes, rh.length, payload, error)) return false;
      if (crc32c(payload.data(), payload.size()) == rh.payload_crc) {
        found = p;
        return true;
      }
    }
    return true;
  }

 private:
  const File& file_;
  uint64_t size_;
  std::string buf_;
  uint64_t start_ = 0;
};

std::string at(const std::string& path, uint64_t offset) { return path + " at offset " + std::to_string(offset); }

}  // namespace

bool scan_segment(const std::string& path, uint64_t seq, bool tail_may_be_torn, const RecordSink& sink,
                  SegmentScan& out, std::string& error) {
  out = SegmentScan();
  File file;
  if (!File::open(path, O_RDONLY, 0, file, error)) return false;
  uint64_t size = 0;
  if (!file.size(size, error)) return false;
  out.file_bytes = size;
  ChunkReader reader(file, size);

  // The header: a damaged one fails the scan; whether a short one could be
  // a crash's leftover is for recovery to decide (it knows the neighbours).
  std::string why;
  std::string_view header;
  if (!reader.view(0, static_cast<std::size_t>(std::min<uint64_t>(size, wal::kSegmentHeaderBytes)), header, error)) {
    return false;
  }
  if (!wal::parse_segment_header(header, seq, out.header, why)) {
    error = path + ": " + why;
    return false;
  }
  if (out.header.version > 1 && !out.header.started && size > out.header.bytes) {
    // Records go to a segment only after its start block is durable.
    error =
        path + ": " +
        (out.header.torn_start ? std::string("segment start block damaged") : std::string("segment never started")) +
        ", yet " + std::to_string(size - out.header.bytes) + " bytes follow its header: the log is corrupt";
    return false;
  }

  // A bad record at `pos`: a torn tail when this is the last segment and no
  // good record follows it (a crash leaves garbage, never a good record
  // after a bad one), otherwise corruption.
  auto bad_record = [&](uint64_t pos, const std::string& what) {
    uint64_t next_good = 0;
    if (tail_may_be_torn) {
      if (!reader.find_record_after(pos, next_good, error)) return false;
      if (next_good == 0) {
        out.torn = true;
        out.torn_reason = what + " (" + at(path, pos) + ", " + std::to_string(size - pos) + " bytes dropped)";
        out.valid_bytes = pos;
        return true;
      }
    }
    error = at(path, pos) + ": " + what;
    if (next_good != 0) error += ", yet a good record follows at offset " + std::to_string(next_good);
    if (!tail_may_be_torn) error += " (not the last segment, so not a torn write)";
    error += ": the log is corrupt";
    return false;
  };

  uint64_t pos = out.header.bytes;
  out.valid_bytes = pos;
  while (pos < size) {
    const uint64_t remaining = size - pos;
    if (remaining < wal::kRecordHeaderBytes) return bad_record(pos, "incomplete record header");
    std::string_view bytes;
    if (!reader.view(pos, wal::kRecordHeaderBytes, bytes, error)) return false;
    wal::RecordHeader h;
    if (!wal::decode_record_header(bytes.data(), h)) return bad_record(pos, "record header checksum mismatch");
    if (h.length > tuning::kMaxLogRecordBytes) {
      // The header verified, so this is no bit flip: a writer bug or a forged file.
      error = at(path, pos) + ": record of " + std::to_string(h.length) + " bytes exceeds the limit of " +
              std::to_string(tuning::kMaxLogRecordBytes) + ": the log is corrupt";
      return false;
    }
    const uint64_t end = pos + wal::kRecordHeaderBytes + h.length;
    if (end > size) {
      return bad_record(pos, "incomplete record (" + std::to_string(h.length) + " payload bytes declared, " +
                                 std::to_string(remaining - wal::kRecordHeaderBytes) + " present)");
    }
    std::string_view payload;
    if (!reader.view(pos + wal::kRecordHeaderBytes, h.length, payload, error)) return false;
    if (crc32c(payload.data(), payload.size()) != h.payload_crc) {
      return bad_record(pos, "record payload checksum mismatch");
    }
    std::string sink_error;
    if (!sink(payload, pos, sink_error)) {
      error = at(path, pos) + ": " + sink_error;
      return false;
    }
    ++out.records;
    pos = end;
    out.valid_bytes = pos;
  }
  return true;
}

}  // namespace crowd
