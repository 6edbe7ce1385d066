#include "query/union_of.h"

#include <roaring/roaring.h>

#include "query/deadline.h"

namespace crowd::query {

Bitmap union_of(std::span<const roaring_bitmap_t* const> sets) {
  if (sets.empty()) return Bitmap();
  if (sets.size() == 1) return Bitmap(roaring_bitmap_copy(sets[0]));
  // Lazy ORs with bitset conversion, as or_many does internally.
  constexpr bool kBitsetConversion = true;
  Deadline::check();
  Bitmap acc(roaring_bitmap_lazy_or(sets[0], sets[1], kBitsetConversion));
  for (std::size_t i = 2; i < sets.size(); ++i) {
    if (i % 64 == 0) Deadline::check();
    roaring_bitmap_lazy_or_inplace(acc.get(), sets[i], kBitsetConversion);
  }
  roaring_bitmap_repair_after_lazy(acc.get());
  return acc;
}

}  // namespace crowd::query
