// Fuzz target: the write-ahead log reader (index/wal_reader.h scan_segment,
// wal_format.h) and its records (WriteBatch::decode, index/write_batch.h),
// replayed as recovery does (index/store.cc: decode, Index::apply).
//
// Input: one mode byte, then by mode (byte % 3):
//   0  a segment file as it is (seq 1); the reader sees it through a memfd;
//   1  records framed by the harness: a valid segment header, then for each
//      [u16 length][payload] in the input a sealed record (so mutations get
//      past the CRCs to the decoder); whatever does not frame is appended raw
//      as the tail (a torn write, or garbage);
//   2  one WriteBatch encoding, decoded directly.
// Bit 2 of the mode byte: the segment is the last one (its tail may be torn).
//
// Checks: every record handed over decodes, re-encodes to the same bytes,
// applies, and leaves every tag within the universe; a scan's verdict is
// consistent (not torn: everything up to the end is records; torn: only when
// allowed, and cutting the file at valid_bytes — what recovery does — scans
// clean as a non-last segment with the same records); a fully framed input
// scans with exactly its records.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "index/index.h"
#include "index/wal_format.h"
#include "index/wal_reader.h"
#include "index/write_batch.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/memfd_input.h"

using namespace crowd;

namespace {

int segment_fd() {
  static const int fd = make_memfd("fuzz-wal");
  return fd;
}

// A record's payload as recovery treats it. False when it does not decode
// (recovery then refuses the log).
bool replay(std::string_view payload, Index& index) {
  WriteBatch batch;
  if (!batch.decode(payload)) return false;
  // decode() accepts a few non-canonical spellings that encode() never
  // writes and that mean the same batch: a portable bitmap's offset header
  // (CRoaring reads containers in sequence and ignores it) and the unused
  // user field of kReplaceTag/kSetEntry/kEraseEntry (decoded as 0). So the
  // check is that one round trip reaches the canonical form: re-encoding
  // that decodes and encodes to the same bytes, of the same length.
  std::string encoded;
  batch.encode(encoded);
  CROWD_FUZZ_CHECK(encoded.size() == payload.size(), "a decoded batch re-encodes to %zu bytes, was %zu",
                   encoded.size(), payload.size());
  WriteBatch again;
  CROWD_FUZZ_CHECK(again.decode(encoded), "a re-encoded batch does not decode");
  std::string twice;
  again.encode(twice);
  CROWD_FUZZ_CHECK(twice == encoded, "re-encoding is not stable");
  WriteResult result;
  // Fails only when 2^32 users are taken: impossible with inputs this small.
  CROWD_FUZZ_CHECK(index.apply(batch, result), "apply failed");
  CROWD_FUZZ_CHECK(result.users <= batch.ops().size() && result.erased <= result.users, "write result");
  const auto view = index.view();
  const roaring_bitmap_t* universe = view->universe().bits.get();
  for (TagId id = 0; id < view->tag_count(); ++id) {
    CROWD_FUZZ_CHECK(roaring_bitmap_is_subset(view->tag(id).bits.get(), universe), "tag %s outside the universe",
                     view->dictionary().name(id).c_str());
    CROWD_FUZZ_CHECK(view->tag(id).cardinality == view->tag(id).bits.cardinality(), "stale cardinality");
  }
  CROWD_FUZZ_CHECK(view->universe().cardinality == view->universe().bits.cardinality(), "stale cardinality");
  CROWD_FUZZ_CHECK(view->universe().bits.empty() ||
                       roaring_bitmap_maximum(universe) < view->ordinal_count(),
                   "universe beyond the ordinals");
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return -1;
  const uint8_t mode = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool last_segment = (mode & 4) != 0;

  if (mode % 3 == 2) {
    Index index;
    (void)replay(rest, index);
    return 0;
  }

  std::string file;
  std::size_t framed = 0;
  bool whole = true;  // every input byte went into a framed record
  if (mode % 3 == 0) {
    file.assign(rest);
  } else {
    file = wal::encode_segment_header(1, 1);
    std::size_t at = 0;
    while (rest.size() - at >= 2) {
      const std::size_t n = static_cast<uint8_t>(rest[at]) | static_cast<std::size_t>(static_cast<uint8_t>(rest[at + 1])) << 8;
      if (n > rest.size() - at - 2) break;
      const std::size_t start = wal::begin_record(file);
      file.append(rest.substr(at + 2, n));
      wal::seal_record(file, start);
      at += 2 + n;
      ++framed;
    }
    if (at < rest.size()) {
      whole = false;
      file.append(rest.substr(at));
    }
  }
  const int fd = segment_fd();
  put(fd, file);
  const std::string path = "/proc/self/fd/" + std::to_string(fd);

  Index index;
  uint64_t handed = 0;
  bool undecodable = false;
  SegmentScan scan;  // its header is parsed before the first record reaches the sink
  const RecordSink sink = [&](std::string_view payload, uint64_t offset, std::string& why) {
    CROWD_FUZZ_CHECK(scan.header.bytes >= wal::kSegmentHeaderV1Bytes && offset >= scan.header.bytes &&
                         offset + wal::kRecordHeaderBytes + payload.size() <= file.size(),
                     "record offset %llu", static_cast<unsigned long long>(offset));
    ++handed;
    if (!replay(payload, index)) {
      undecodable = true;
      why = "does not decode as a write batch";
      return false;
    }
    return true;
  };
  std::string error;
  const bool ok = scan_segment(path, 1, last_segment, sink, scan, error);
  if (!ok) {
    CROWD_FUZZ_CHECK(!error.empty(), "refused without a reason");
    if (mode % 3 == 1 && whole && !undecodable) {
      CROWD_FUZZ_CHECK(false, "a segment of %zu sealed records is refused: %s", framed, error.c_str());
    }
    return 0;
  }
  CROWD_FUZZ_CHECK(scan.records == handed, "records %llu, handed %llu",
                   static_cast<unsigned long long>(scan.records), static_cast<unsigned long long>(handed));
  CROWD_FUZZ_CHECK(scan.file_bytes == file.size(), "file_bytes");
  CROWD_FUZZ_CHECK(scan.valid_bytes <= scan.file_bytes, "valid_bytes past the end");
  if (!scan.torn) {
    CROWD_FUZZ_CHECK(scan.valid_bytes == scan.file_bytes, "not torn, yet %llu of %llu bytes are records",
                     static_cast<unsigned long long>(scan.valid_bytes), static_cast<unsigned long long>(scan.file_bytes));
  } else {
    CROWD_FUZZ_CHECK(last_segment, "a torn tail in a segment that is not the last");
    CROWD_FUZZ_CHECK(!scan.torn_reason.empty(), "torn without a reason");
  }
  if (mode % 3 == 1 && whole) {
    CROWD_FUZZ_CHECK(!scan.torn && scan.records == framed, "%zu sealed records scan as %llu%s", framed,
                     static_cast<unsigned long long>(scan.records), scan.torn ? " and a torn tail" : "");
  }
  if (scan.torn && scan.valid_bytes >= scan.header.bytes) {
    // Recovery cuts the tail off; the rest is then a clean segment.
    CROWD_FUZZ_CHECK(::ftruncate(fd, static_cast<off_t>(scan.valid_bytes)) == 0, "ftruncate");
    file.resize(static_cast<std::size_t>(scan.valid_bytes));
    Index again;
    uint64_t records = 0;
    const RecordSink count = [&](std::string_view payload, uint64_t, std::string&) {
      ++records;
      return replay(payload, again);
    };
    SegmentScan cut;
    CROWD_FUZZ_CHECK(scan_segment(path, 1, false, count, cut, error), "the log cut at its torn tail is refused: %s",
                     error.c_str());
    CROWD_FUZZ_CHECK(!cut.torn && cut.records == scan.records && records == scan.records,
                     "cut at the torn tail: %llu records, before %llu", static_cast<unsigned long long>(cut.records),
                     static_cast<unsigned long long>(scan.records));
  }
  return 0;
}
