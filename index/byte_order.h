// Little-endian fixed-width integers in byte buffers: the integer encoding of
// the snapshot and log formats.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

namespace crowd::le {

// The formats are defined little-endian and written with plain memcpy; a
// big-endian port would byte-swap here and nowhere else.
static_assert(std::endian::native == std::endian::little, "byte_order.h assumes a little-endian host");

inline void store_u32(char* p, uint32_t v) { std::memcpy(p, &v, sizeof v); }
inline void store_u64(char* p, uint64_t v) { std::memcpy(p, &v, sizeof v); }

[[nodiscard]] inline uint32_t load_u32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
[[nodiscard]] inline uint64_t load_u64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void append_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
inline void append_u64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }

}  // namespace crowd::le
