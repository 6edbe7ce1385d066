// The byte layout of write-ahead log segments, shared by the writer (Wal) and
// the reader (scan_segment). All integers little-endian.
//
// A segment is the file `wal-<seq>.log`, seq in 20 zero-padded decimal digits
// so names sort in log order. It starts with a 32-byte header:
//
//   0  8  magic "crowdwal"
//   8  4  u32 format version (1)
//  12  4  u32 flags (0; reserved)
//  16  8  u64 seq (the same number as the file name)
//  24  4  u32 CRC-32C of bytes 0..23
//  28  4  u32 zero
//
// then records back to back, each a 12-byte header and its payload:
//
//   0  4  u32 payload length
//   4  4  u32 CRC-32C of the payload
//   8  4  u32 CRC-32C of bytes 0..7 (the header check)
//  12  .  payload: WriteBatch::encode()
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

inline constexpr std::size_t kSegmentHeaderBytes = 32;
inline constexpr std::size_t kRecordHeaderBytes = 12;
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr std::string_view kMagic = "crowdwal";

// "wal-00000000000000000042.log".
[[nodiscard]] std::string segment_file_name(uint64_t seq);
// The seq of a segment file name, nullopt for any other name.
[[nodiscard]] std::optional<uint64_t> parse_segment_file_name(std::string_view name);

// The 32-byte header of segment `seq`.
[[nodiscard]] std::string encode_segment_header(uint64_t seq);
// Checks a segment header (at least kSegmentHeaderBytes bytes). On failure
// `why` says what is wrong.
[[nodiscard]] bool check_segment_header(std::string_view bytes, uint64_t expected_seq, std::string& why);

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
