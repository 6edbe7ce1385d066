// The union of many bitmaps, interruptible by the request's deadline.
#pragma once

#include <span>

#include "index/bitmap.h"

namespace crowd::query {

// What roaring_bitmap_or_many computes (lazy ORs, one repair at the end), but
// checking the calling thread's deadline (deadline.h) first and every 64
// bitmaps: a prefix like `cat:*` at 100M users ORs thousands of tags,
// seconds of work that a time budget must be able to stop. O(total size of
// the inputs).
[[nodiscard]] Bitmap union_of(std::span<const roaring_bitmap_t* const> sets);

}  // namespace crowd::query
