// Decimal formatting of unsigned 64-bit integers for ID lists, where text is
// the bottleneck (PERFORMANCE-NOTES: CRoaring extracts ~440M IDs/s, decimal
// text ~100-120M/s at best).
//
// std::to_chars writes two digits per step from the right, each step waiting
// on the previous division: a chain as long as the number. Here a number is
// cut into 8-digit blocks first (one or two divisions by 10^8), and each
// block into four 2-digit pairs computed independently, so the CPU works on
// them in parallel; each block is one 8-byte store, the leading one shifted
// to its exact length.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

namespace crowd::server {

namespace decimal_detail {

inline constexpr std::array<char, 200> kPairs = [] {
  std::array<char, 200> t{};
  for (int i = 0; i < 100; ++i) {
    t[static_cast<std::size_t>(2 * i)] = static_cast<char>('0' + i / 10);
    t[static_cast<std::size_t>(2 * i + 1)] = static_cast<char>('0' + i % 10);
  }
  return t;
}();

// Two digits of v < 100 as the 16 bits of their characters (little endian).
inline uint64_t pair(uint32_t v) {
  uint16_t two;
  std::memcpy(&two, kPairs.data() + 2 * v, 2);
  return two;
}

// v < 10^8 as exactly 8 digit characters in one register, leading zeros
// kept, the first digit in the low byte. Built in a register rather than
// with 2-byte stores to a buffer: reading such a buffer back as 8 bytes
// defeats store forwarding (a ~15-cycle stall a number, measured 41% of the
// CSV export's time).
inline uint64_t digits8(uint32_t v) {
  const uint32_t hi = v / 10000;
  const uint32_t lo = v % 10000;
  return pair(hi / 100) | pair(hi % 100) << 16 | pair(lo / 100) << 32 | pair(lo % 100) << 48;
}

inline void put8(char* p, uint32_t v) {
  const uint64_t d = digits8(v);
  std::memcpy(p, &d, 8);
}

// v < 10^8 with no leading zeros (at least one digit).
inline char* put_short(char* p, uint32_t v) {
  const int digits = v >= 10000000 ? 8
                     : v >= 1000000 ? 7
                     : v >= 100000  ? 6
                     : v >= 10000   ? 5
                     : v >= 1000    ? 4
                     : v >= 100     ? 3
                     : v >= 10      ? 2
                                    : 1;
  const uint64_t d = digits8(v) >> (8 * (8 - digits));  // drop the leading zeros
  std::memcpy(p, &d, 8);  // writes 8 bytes; the caller has room
  return p + digits;
}

}  // namespace decimal_detail

// Writes v in decimal at p and returns the end. Needs 24 writable bytes at p
// (it may write past the last digit, up to p + 24; never more than 20 digits).
inline char* write_decimal(char* p, uint64_t v) {
  using namespace decimal_detail;
  constexpr uint64_t k8 = 100'000'000;
  if (v < k8) return put_short(p, static_cast<uint32_t>(v));
  if (v < k8 * k8) {
    p = put_short(p, static_cast<uint32_t>(v / k8));
    put8(p, static_cast<uint32_t>(v % k8));
    return p + 8;
  }
  const uint64_t top = v / (k8 * k8);  // < 1,845 (2^64 / 10^16)
  const uint64_t rest = v % (k8 * k8);
  p = put_short(p, static_cast<uint32_t>(top));
  put8(p, static_cast<uint32_t>(rest / k8));
  put8(p + 8, static_cast<uint32_t>(rest % k8));
  return p + 16;
}

}  // namespace crowd::server
