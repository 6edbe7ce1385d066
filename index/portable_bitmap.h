// Reading CRoaring's portable serialisation from untrusted bytes (a log
// record, a snapshot section): CRoaring 0.2.66's "safe" deserialisation
// guards only the buffer bounds, so these add the checks it leaves out.
#pragma once

#include <roaring/roaring.h>

#include <string_view>

namespace crowd {

// roaring_bitmap_portable_deserialize_safe() of `bytes`, or nullptr, after
// refusing a negative container count first: CRoaring 0.2.66 checks only
// that the count is at most 2^16, then multiplies a negative one in int
// arithmetic (signed overflow, undefined behaviour; found by
// tests/fuzz/fuzz_snapshot.cc under UBSan). O(1) beyond CRoaring's own cost.
// Callers still check well_formed_bitmap() and the size used.
[[nodiscard]] roaring_bitmap_t* deserialize_portable_bitmap(std::string_view bytes);

// Whether a bitmap that roaring_bitmap_portable_deserialize_safe() accepted
// is well formed: keys strictly ascending, every container non-empty, an
// array's values strictly ascending, a bitset's stored cardinality its true
// popcount, runs ascending, disjoint and inside their 2^16 chunk.
// CRoaring 0.2.66's "safe" deserialisation checks only that it stays inside
// the buffer: an unsorted array container passes, and a later operation on
// it (roaring_bitmap_flip in snapshot loading) wrote past its allocation
// (found by tests/fuzz/fuzz_snapshot.cc). Both readers of serialised bitmaps
// (WriteBatch::decode, snapshot_file.cc) call this before using one.
// O(containers + array values + bitset words): reads what was just decoded.
[[nodiscard]] bool well_formed_bitmap(const roaring_bitmap_t* r);

}  // namespace crowd
