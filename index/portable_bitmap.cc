#include "index/portable_bitmap.h"

#include <roaring/containers/containers.h>

#include <cstdint>
#include <cstring>

namespace crowd {

roaring_bitmap_t* deserialize_portable_bitmap(std::string_view bytes) {
  // Portable format: u32 cookie; with SERIAL_COOKIE_NO_RUNCONTAINER (12346)
  // the container count follows as a 32-bit integer, which CRoaring reads
  // as signed.
  constexpr uint32_t kCookieNoRuns = 12346;
  if (bytes.size() >= 8) {
    uint32_t cookie = 0;
    int32_t count = 0;
    std::memcpy(&cookie, bytes.data(), sizeof cookie);
    std::memcpy(&count, bytes.data() + 4, sizeof count);
    if (cookie == kCookieNoRuns && count < 0) return nullptr;
  }
  return roaring_bitmap_portable_deserialize_safe(bytes.data(), bytes.size());
}

bool well_formed_bitmap(const roaring_bitmap_t* r) {
  const roaring_array_t& ra = r->high_low_container;
  for (int32_t i = 0; i < ra.size; ++i) {
    if (i > 0 && ra.keys[i] <= ra.keys[i - 1]) return false;
    const void* c = ra.containers[i];
    switch (ra.typecodes[i]) {
      case ARRAY_CONTAINER_TYPE_CODE: {
        const auto* a = static_cast<const array_container_t*>(c);
        if (a->cardinality < 1 || a->cardinality > DEFAULT_MAX_SIZE) return false;
        for (int32_t j = 1; j < a->cardinality; ++j)
          if (a->array[j] <= a->array[j - 1]) return false;
        break;
      }
      case BITSET_CONTAINER_TYPE_CODE: {
        const auto* b = static_cast<const bitset_container_t*>(c);
        int32_t bits = 0;
        for (int32_t w = 0; w < BITSET_CONTAINER_SIZE_IN_WORDS; ++w) bits += __builtin_popcountll(b->array[w]);
        if (bits == 0 || bits != b->cardinality) return false;
        break;
      }
      case RUN_CONTAINER_TYPE_CODE: {
        const auto* run = static_cast<const run_container_t*>(c);
        if (run->n_runs < 1) return false;
        uint32_t next = 0;  // the smallest value the next run may start at
        for (int32_t j = 0; j < run->n_runs; ++j) {
          const uint32_t start = run->runs[j].value;
          const uint32_t end = start + run->runs[j].length;  // inclusive
          if (start < next || end > 0xFFFF) return false;
          next = end + 1;
        }
        break;
      }
      default:  // shared containers come from copy-on-write, never from bytes
        return false;
    }
  }
  return true;
}

}  // namespace crowd
