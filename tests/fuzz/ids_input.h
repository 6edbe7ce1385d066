// The input of the ids fuzz target (fuzz_ids.cc), written by make_seeds.cc
// and read by the target: a shape for a valid snapshot skeleton, and the
// payloads of the sections under test, which the target wraps as a whole
// snapshot with every checksum right, so each run reaches the ids and
// uidless decoders (index/snapshot_file.h, sections 8 and 9).
//
//   byte 0   the shape: bits 0-2 the user count, kUserCounts[bits]; bits 3-4
//            the universe (Universe); bit 5 (kUidZero): ordinal 0's uid is 0;
//            bit 6 (kOddUidsZero): every odd ordinal's uid is 0 as well (so
//            the file loads only if all but one of them are erased or
//            without a uid); bit 7 unused. Other ordinals o have uid o + 1.
//   then     records up to the end of the input, each a u8 kind, a u16
//            length (little-endian) and that many payload bytes (the last
//            record keeps what is left). kind % 4 (Kind):
//              0 an ids section with the payload
//              1 a uidless section with the payload as it is
//              2 a uidless section holding the payload read as u16
//                ordinals (little-endian; an odd last byte ignored): always
//                a well-formed bitmap, so the checks past decoding run
//              3 the universe section, here (the payload is ignored); when
//                no record places it, it goes right after the users
//
// The skeleton: meta (the users, no tags), log, one users run, the
// universe, the records, the dictionary (no names); every section required.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "index/byte_order.h"

namespace crowd::fuzz_ids {

inline constexpr uint32_t kUserCounts[8] = {0, 1, 2, 3, 5, 17, 300, 4100};

enum class Universe : uint8_t {
  kAll = 0,        // every ordinal
  kNotThirds = 1,  // all but ordinals 0, 3, 6, ... (erased users)
  kEven = 2,       // ordinals 0, 2, 4, ...
  kNone = 3,       // nobody
};

enum class Kind : uint8_t { kIds = 0, kUidlessRaw = 1, kUidlessList = 2, kUniverse = 3 };

inline constexpr uint8_t kUidZero = 1 << 5;
inline constexpr uint8_t kOddUidsZero = 1 << 6;

[[nodiscard]] inline uint8_t shape(std::size_t user_count_index, Universe u, uint8_t flags = 0) {
  return static_cast<uint8_t>((user_count_index & 7) | (static_cast<unsigned>(u) << 3) | flags);
}

[[nodiscard]] inline bool in_universe(Universe u, uint32_t o) {
  switch (u) {
    case Universe::kAll:
      return true;
    case Universe::kNotThirds:
      return o % 3 != 0;
    case Universe::kEven:
      return o % 2 == 0;
    case Universe::kNone:
      return false;
  }
  return false;
}

struct Input {
  uint32_t users = 0;
  Universe universe = Universe::kAll;
  uint8_t flags = 0;
  std::vector<std::pair<Kind, std::string_view>> records;
};

// Any bytes are an input; the views point into `data`.
[[nodiscard]] inline Input parse(const uint8_t* data, std::size_t size) {
  Input in;
  if (size == 0) return in;
  in.users = kUserCounts[data[0] & 7];
  in.universe = static_cast<Universe>((data[0] >> 3) & 3);
  in.flags = static_cast<uint8_t>(data[0] & (kUidZero | kOddUidsZero));
  const auto* p = reinterpret_cast<const char*>(data);
  std::size_t at = 1;
  while (at < size) {
    const auto kind = static_cast<Kind>(data[at] % 4);
    std::size_t length = 0;
    if (at + 1 < size) length = data[at + 1];
    if (at + 2 < size) length |= std::size_t{data[at + 2]} << 8;
    at = std::min(size, at + 3);
    length = std::min(length, size - at);
    in.records.emplace_back(kind, std::string_view(p + at, length));
    at += length;
  }
  return in;
}

// Writing inputs (make_seeds.cc).
class InputWriter {
 public:
  explicit InputWriter(uint8_t shape) : bytes_(1, static_cast<char>(shape)) {}
  InputWriter& add(Kind kind, std::string_view payload) {
    bytes_.push_back(static_cast<char>(kind));
    bytes_.push_back(static_cast<char>(payload.size() & 0xff));
    bytes_.push_back(static_cast<char>((payload.size() >> 8) & 0xff));
    bytes_ += payload.substr(0, 0xffff);
    return *this;
  }
  [[nodiscard]] const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// An ids payload (snapshot_file.h, section 9), for hand-made seeds.
[[nodiscard]] inline std::string ids_payload(std::string_view name, uint32_t width,
                                             const std::vector<std::pair<uint32_t, std::string>>& pairs) {
  std::string p;
  le::append_u32(p, static_cast<uint32_t>(name.size()));
  p += name;
  le::append_u32(p, width);
  le::append_u64(p, pairs.size());
  for (const auto& [o, key] : pairs) {
    le::append_u32(p, o);
    if (width == 0) p.push_back(static_cast<char>(key.size()));
    p += key;
  }
  return p;
}

// A uidless payload of kind kUidlessList.
[[nodiscard]] inline std::string ordinal_list(const std::vector<uint16_t>& ordinals) {
  std::string p;
  for (const uint16_t o : ordinals) {
    p.push_back(static_cast<char>(o & 0xff));
    p.push_back(static_cast<char>(o >> 8));
  }
  return p;
}

}  // namespace crowd::fuzz_ids
