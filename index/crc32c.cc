#include "index/crc32c.h"

#include <boost/crc.hpp>

#include <cstring>

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

namespace crowd {
namespace {

using BoostCrc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

uint32_t reverse_bits(uint32_t v) {
  uint32_t r = 0;
  for (int i = 0; i < 32; ++i, v >>= 1) r = (r << 1) | (v & 1);
  return r;
}

}  // namespace

uint32_t crc32c_portable(const void* data, std::size_t n, uint32_t crc) {
  // Boost takes the running remainder in unreflected bit order, so resuming
  // from a finished CRC means undoing the final xor and the reflection.
  BoostCrc32c c(reverse_bits(crc ^ 0xFFFFFFFFu));
  c.process_bytes(data, n);
  return c.checksum();
}

#if defined(__SSE4_2__)

// One dependency chain of 8-byte steps. Three interleaved chains merged with
// carry-less multiplication would run ~3x faster (the instruction's latency
// is 3, its throughput 1), but at ~8 GB/s the checksum is already far from
// the cost of reading a snapshot or writing a log record; not worth the code.
uint32_t crc32c(const void* data, std::size_t n, uint32_t crc) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t state = crc ^ 0xFFFFFFFFu;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof word);  // unaligned-safe; compiles to one load
    state = _mm_crc32_u64(state, word);
  }
  auto state32 = static_cast<uint32_t>(state);
  for (; n > 0; --n, ++p) state32 = _mm_crc32_u8(state32, *p);
  return state32 ^ 0xFFFFFFFFu;
}

bool crc32c_is_hardware() { return true; }

#else

uint32_t crc32c(const void* data, std::size_t n, uint32_t crc) { return crc32c_portable(data, n, crc); }

bool crc32c_is_hardware() { return false; }

#endif

}  // namespace crowd
