// The one file that reads CRoaring's container structs and typecodes (see
// chunk_cursor.h). portable_bitmap.cc and dense_chunks.cc read bitmaps through
// ChunkCursor like everyone else.
#include "index/chunk_cursor.h"

#include <roaring/array_util.h>
#include <roaring/bitset_util.h>
#include <roaring/containers/containers.h>

#include <cstddef>
#include <cstring>

#include "index/dense_chunks.h"

namespace crowd {

static_assert(sizeof(ChunkRun) == sizeof(rle16_t) && offsetof(ChunkRun, value) == offsetof(rle16_t, value) &&
                  offsetof(ChunkRun, length) == offsetof(rle16_t, length),
              "ChunkRun must read CRoaring's runs in place");
static_assert(kMaxArrayMembers == DEFAULT_MAX_SIZE);
static_assert(kChunkWords == BITSET_CONTAINER_SIZE_IN_WORDS);

Chunk ChunkCursor::load(int32_t pos) const {
  const uint16_t key = ra_->keys[pos];
  uint8_t type = ra_->typecodes[pos];
  // Shared containers appear only in copy-on-write copies; read through them.
  const void* c = container_unwrap_shared(ra_->containers[pos], &type);
  switch (type) {
    case ARRAY_CONTAINER_TYPE_CODE: {
      const auto* a = static_cast<const array_container_t*>(c);
      if (dense_ != nullptr) {
        if (const uint64_t* words = dense_->at(pos)) return Chunk{key, ChunkKind::kBitset, a->cardinality, words};
      }
      return Chunk{key, ChunkKind::kArray, a->cardinality, a->array};
    }
    case BITSET_CONTAINER_TYPE_CODE: {
      const auto* b = static_cast<const bitset_container_t*>(c);
      return Chunk{key, ChunkKind::kBitset, b->cardinality, b->array};
    }
    case RUN_CONTAINER_TYPE_CODE: {
      const auto* r = static_cast<const run_container_t*>(c);
      return Chunk{key, ChunkKind::kRun, r->n_runs, r->runs};
    }
    default:
      return Chunk{key, ChunkKind::kNone, 0, nullptr};
  }
}

uint64_t chunk_popcount(const uint64_t* words) {
  const bitset_container_t c{0, const_cast<uint64_t*>(words)};
  return static_cast<uint64_t>(bitset_container_compute_cardinality(&c));
}

uint64_t chunk_and_popcount(const uint64_t* a, const uint64_t* b) {
  const bitset_container_t ca{0, const_cast<uint64_t*>(a)};
  const bitset_container_t cb{0, const_cast<uint64_t*>(b)};
  return static_cast<uint64_t>(bitset_container_and_justcard(&ca, &cb));
}

int32_t intersect_members(const uint16_t* a, std::size_t na, const uint16_t* b, std::size_t nb, uint16_t* out) {
  // CRoaring's own choice for two arrays (array_container_intersection).
  if (na * 64 < nb) return intersect_skewed_uint16(a, na, b, nb, out);
  if (nb * 64 < na) return intersect_skewed_uint16(b, nb, a, na, out);
#if CROWD_ROARING_NATIVE && defined(USEAVX)
  return intersect_vector16(a, na, b, nb, out);
#else
  return intersect_uint16(a, na, b, nb, out);
#endif
}

int32_t subtract_members(const uint16_t* a, std::size_t na, const uint16_t* b, std::size_t nb, uint16_t* out) {
#if CROWD_ROARING_NATIVE && defined(USEAVX)
  return difference_vector16(a, na, b, nb, out);
#else
  return difference_uint16(a, static_cast<int>(na), b, static_cast<int>(nb), out);
#endif
}

uint64_t count_common_skewed(const uint16_t* small, std::size_t ns, const uint16_t* large, std::size_t nl) {
  return static_cast<uint64_t>(intersect_skewed_uint16_cardinality(small, ns, large, nl));
}

void set_run(uint64_t* words, const ChunkRun& run) { bitset_set_lenrange(words, run.value, run.length); }

uint64_t count_in_run(const uint64_t* words, const ChunkRun& run) {
  return static_cast<uint64_t>(bitset_lenrange_cardinality(const_cast<uint64_t*>(words), run.value, run.length));
}

void append_chunk(roaring_bitmap_t* out, uint16_t key, const uint64_t* words, uint64_t cardinality) {
  if (cardinality == 0) return;
  const auto card = static_cast<int32_t>(cardinality);
  if (card > DEFAULT_MAX_SIZE) {
    bitset_container_t* b = bitset_container_create();
    std::memcpy(b->array, words, kChunkWords * sizeof(uint64_t));
    b->cardinality = card;
    ra_append(&out->high_low_container, key, b, BITSET_CONTAINER_TYPE_CODE);
  } else {
    array_container_t* a = array_container_create_given_capacity(card);
    a->cardinality = static_cast<int32_t>(bitset_extract_setbits_uint16(words, kChunkWords, a->array, 0));
    ra_append(&out->high_low_container, key, a, ARRAY_CONTAINER_TYPE_CODE);
  }
}

}  // namespace crowd
