// The byte layout of write-ahead log segments, shared by the writer (Wal) and
// the reader (scan_segment). All integers little-endian.
//
// A segment is the file `wal-<seq>.log`, seq in 20 zero-padded decimal digits
// so names sort in log order. Every record in the log has a log sequence
// number (LSN): 1, 2, 3, ... across segments (a snapshot records the last
// LSN it holds; after a start that accepted a log loss the numbering goes on
// from the last record kept). A segment starts with a 48-byte header (version 2):
//
//   0  8  magic "crowdwal"
//   8  4  u32 format version (2)
//  12  4  u32 flags (0; reserved)
//  16  8  u64 seq (the same number as the file name)
//  24  4  u32 CRC-32C of bytes 0..23
//  28  4  u32 zero
//  32  8  u64 first LSN: the LSN of this segment's first record (its
//         predecessor's last LSN is this minus one, whether or not the
//         segment holds a record); see "start block" below
//  40  4  u32 CRC-32C of bytes 32..39
//  44  4  u32 zero
//
// then records back to back, each a 12-byte header and its payload:
//
//   0  4  u32 payload length
//   4  4  u32 CRC-32C of the payload
//   8  4  u32 CRC-32C of bytes 0..7 (the header check)
//  12  .  payload: WriteBatch::encode()
//
// The start block (bytes 32..47) is all zeros while a segment is only
// prepared for a rotation: it is created ahead of time, outside the writer
// lock, when the LSN it will start at is not yet known. Rotation writes the
// start block and syncs it before any record goes to the segment, so a
// segment whose start block is zero (or torn by a crash during that write)
// holds no record, and a segment with a start block promises that every
// record before its first LSN is complete in the segments before it.
//
// Version 1 (written by crowd before issue 14) had only the first 32 bytes,
// with version 1: no LSNs. Such segments are still read; their records are
// numbered by counting.
//
// The header check lets recovery tell a corrupted length from a torn append:
// a record whose header verifies but whose payload runs past the end of the
// file was cut short by a crash; a header that does not verify is damage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crowd::wal {

inline constexpr std::size_t kSegmentHeaderBytes = 48;    // version 2
inline constexpr std::size_t kSegmentHeaderV1Bytes = 32;  // version 1; also the fixed part of version 2
inline constexpr std::size_t kStartBlockOffset = 32;
inline constexpr std::size_t kStartBlockBytes = 16;
inline constexpr std::size_t kRecordHeaderBytes = 12;
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr std::string_view kMagic = "crowdwal";

// "wal-00000000000000000042.log".
[[nodiscard]] std::string segment_file_name(uint64_t seq);
// The seq of a segment file name, nullopt for any other name.
[[nodiscard]] std::optional<uint64_t> parse_segment_file_name(std::string_view name);

// The 48-byte header of segment `seq`; first_lsn 0 leaves the start block
// zero (a prepared segment, started later by encode_start_block).
[[nodiscard]] std::string encode_segment_header(uint64_t seq, uint64_t first_lsn);
// The 16 bytes written at kStartBlockOffset to start a prepared segment.
[[nodiscard]] std::string encode_start_block(uint64_t first_lsn);

// What a segment header says.
struct SegmentHeader {
  uint32_t version = 0;
  std::size_t bytes = 0;    // where records begin: 32 (version 1) or 48
  uint64_t first_lsn = 0;   // 0: unknown (version 1) or not started
  bool started = false;     // version 2 with a verified start block
  bool torn_start = false;  // version 2, start block neither zero nor verified (a crash while starting it)
};
// Checks the header at the start of `bytes` (the file's first
// kSegmentHeaderBytes bytes, or all of it if shorter). On failure `why` says
// what is wrong: incomplete, bad magic, checksum, version, seq.
[[nodiscard]] bool parse_segment_header(std::string_view bytes, uint64_t expected_seq, SegmentHeader& out,
                                        std::string& why);

// Building a record in place, so the payload is encoded straight into the
// buffer that is written: begin_record() appends a blank header to `out` and
// returns its position; append the payload; seal_record() fills the header in.
[[nodiscard]] std::size_t begin_record(std::string& out);
void seal_record(std::string& out, std::size_t start);

struct RecordHeader {
  uint32_t length = 0;
  uint32_t payload_crc = 0;
};
// Decodes a record header (kRecordHeaderBytes at p); false when its check
// does not verify.
[[nodiscard]] bool decode_record_header(const char* p, RecordHeader& out);

}  // namespace crowd::wal
