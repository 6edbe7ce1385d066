#include "index/portable_bitmap.h"

#include <cstdint>
#include <cstring>

#include "index/chunk_cursor.h"

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
  // Read through ChunkCursor, the one reader of container structs. It reads
  // through shared containers, which the old switch refused: they come from
  // copy-on-write copies, never from deserialised bytes, so nothing changes.
  bool first = true;
  uint16_t last_key = 0;
  for (ChunkCursor cursor(r); !cursor.done(); cursor.advance()) {
    const Chunk c = cursor.current();
    if (!first && c.key <= last_key) return false;
    first = false;
    last_key = c.key;
    switch (c.kind) {
      case ChunkKind::kArray: {
        if (c.size < 1 || c.size > kMaxArrayMembers) return false;
        const uint16_t* v = c.values();
        for (int32_t j = 1; j < c.size; ++j)
          if (v[j] <= v[j - 1]) return false;
        break;
      }
      case ChunkKind::kBitset: {
        int32_t bits = 0;
        for (std::size_t w = 0; w < kChunkWords; ++w) bits += __builtin_popcountll(c.words()[w]);
        if (bits == 0 || bits != c.size) return false;
        break;
      }
      case ChunkKind::kRun: {
        if (c.size < 1) return false;
        uint32_t next = 0;  // the smallest value the next run may start at
        for (int32_t j = 0; j < c.size; ++j) {
          const uint32_t start = c.runs()[j].value;
          const uint32_t end = start + c.runs()[j].length;  // inclusive
          if (start < next || end > 0xFFFF) return false;
          next = end + 1;
        }
        break;
      }
      case ChunkKind::kNone:  // an unknown typecode
        return false;
    }
  }
  return true;
}

}  // namespace crowd
