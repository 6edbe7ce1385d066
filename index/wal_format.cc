#include "index/wal_format.h"

#include <charconv>
#include <cstdio>

#include "index/byte_order.h"
#include "index/crc32c.h"

namespace crowd::wal {
namespace {

constexpr std::string_view kPrefix = "wal-";
constexpr std::string_view kSuffix = ".log";
constexpr std::size_t kSeqDigits = 20;  // UINT64_MAX has 20 decimal digits

}  // namespace

std::string segment_file_name(uint64_t seq) {
  char digits[kSeqDigits + 1];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(seq));
  std::string name(kPrefix);
  name.append(digits, kSeqDigits);
  name += kSuffix;
  return name;
}

std::optional<uint64_t> parse_segment_file_name(std::string_view name) {
  if (name.size() != kPrefix.size() + kSeqDigits + kSuffix.size()) return std::nullopt;
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) return std::nullopt;
  const auto digits = name.substr(kPrefix.size(), kSeqDigits);
  uint64_t seq = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return seq;
}

std::string encode_segment_header(uint64_t seq, uint64_t first_lsn) {
  std::string h(kSegmentHeaderBytes, '\0');
  h.replace(0, kMagic.size(), kMagic);
  le::store_u32(h.data() + 8, kFormatVersion);
  le::store_u32(h.data() + 12, 0);
  le::store_u64(h.data() + 16, seq);
  le::store_u32(h.data() + 24, crc32c(h.data(), 24));
  if (first_lsn != 0) h.replace(kStartBlockOffset, kStartBlockBytes, encode_start_block(first_lsn));
  return h;
}

std::string encode_start_block(uint64_t first_lsn) {
  std::string b(kStartBlockBytes, '\0');
  le::store_u64(b.data(), first_lsn);
  le::store_u32(b.data() + 8, crc32c(b.data(), 8));
  return b;
}

bool parse_segment_header(std::string_view bytes, uint64_t expected_seq, SegmentHeader& out, std::string& why) {
  out = SegmentHeader();
  auto incomplete = [&](std::size_t need) {
    why = "segment header incomplete (" + std::to_string(bytes.size()) + " of " + std::to_string(need) + " bytes)";
    return false;
  };
  if (bytes.size() < kSegmentHeaderV1Bytes) {
    // Too short to verify; the version field, if it is there, says how long
    // the header should have been.
    const bool v1 = bytes.size() >= 12 && le::load_u32(bytes.data() + 8) == 1;
    return incomplete(v1 ? kSegmentHeaderV1Bytes : kSegmentHeaderBytes);
  }
  if (bytes.substr(0, kMagic.size()) != kMagic) {
    why = "not a crowd log segment (bad magic)";
    return false;
  }
  if (le::load_u32(bytes.data() + 24) != crc32c(bytes.data(), 24)) {
    why = "segment header checksum mismatch";
    return false;
  }
  const uint32_t version = le::load_u32(bytes.data() + 8);
  if (version != 1 && version != kFormatVersion) {
    why = "log format version " + std::to_string(version) + " is not supported (this build reads versions 1 and " +
          std::to_string(kFormatVersion) + ")";
    return false;
  }
  const uint64_t seq = le::load_u64(bytes.data() + 16);
  if (seq != expected_seq) {
    why = "segment header says seq " + std::to_string(seq) + " but the file name says " + std::to_string(expected_seq);
    return false;
  }
  out.version = version;
  if (version == 1) {
    out.bytes = kSegmentHeaderV1Bytes;
    return true;
  }
  // Version 2 segments are created whole (written to a temporary name,
  // synced, renamed), so a short one is damage, not a crash.
  if (bytes.size() < kSegmentHeaderBytes) return incomplete(kSegmentHeaderBytes);
  out.bytes = kSegmentHeaderBytes;
  const char* b = bytes.data() + kStartBlockOffset;
  if (bytes.substr(kStartBlockOffset, kStartBlockBytes).find_first_not_of('\0') == std::string_view::npos) return true;
  const uint64_t first = le::load_u64(b);
  if (first != 0 && le::load_u32(b + 8) == crc32c(b, 8) && le::load_u32(b + 12) == 0) {
    out.first_lsn = first;
    out.started = true;
  } else {
    out.torn_start = true;
  }
  return true;
}

std::size_t begin_record(std::string& out) {
  const std::size_t start = out.size();
  out.append(kRecordHeaderBytes, '\0');
  return start;
}

void seal_record(std::string& out, std::size_t start) {
  char* h = out.data() + start;
  const std::size_t length = out.size() - start - kRecordHeaderBytes;
  le::store_u32(h, static_cast<uint32_t>(length));
  le::store_u32(h + 4, crc32c(h + kRecordHeaderBytes, length));
  le::store_u32(h + 8, crc32c(h, 8));
}

bool decode_record_header(const char* p, RecordHeader& out) {
  if (le::load_u32(p + 8) != crc32c(p, 8)) return false;
  out.length = le::load_u32(p);
  out.payload_crc = le::load_u32(p + 4);
  return true;
}

}  // namespace crowd::wal
