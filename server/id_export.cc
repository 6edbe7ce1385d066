#include "server/id_export.h"

#include <boost/sort/spreadsort/integer_sort.hpp>

#include <cstring>
#include <vector>

#include "server/decimal.h"

namespace crowd::server {
namespace {

class CsvIdSource final : public ChunkSource {
 public:
  CsvIdSource(std::shared_ptr<const IndexView> view, Bitmap crowd)
      : view_(std::move(view)), crowd_(std::move(crowd)), ordinals_(kCsvChunkIds) {
    roaring_init_iterator(crowd_.get(), &it_);
  }

  bool next(std::string& out) override {
    const uint32_t n = roaring_read_uint32_iterator(&it_, ordinals_.data(), kCsvChunkIds);
    if (n == 0) return false;
    // 20 digits + a newline at most, and write_decimal's 24-byte slack.
    // resize_and_overwrite (C++23) is not in GCC 12's library, so the buffer
    // keeps its size between chunks and only the first chunk zero-fills it.
    const std::size_t room = static_cast<std::size_t>(n) * 21 + 24;
    if (out.size() < room) out.resize(room);
    char* p = out.data();
    for (uint32_t i = 0; i < n; ++i) {
      p = write_decimal(p, view_->external(ordinals_[i]));
      *p++ = '\n';
    }
    out.resize(static_cast<std::size_t>(p - out.data()));
    return true;
  }

 private:
  std::shared_ptr<const IndexView> view_;
  Bitmap crowd_;  // the iterator points into it; it never moves (heap-held)
  roaring_uint32_iterator_t it_;
  std::vector<uint32_t> ordinals_;
};

void append_portable(std::string& out, const Bitmap& b) {
  const std::size_t at = out.size();
  out.resize(at + roaring_bitmap_portable_size_in_bytes(b.get()));
  roaring_bitmap_portable_serialize(b.get(), out.data() + at);
}

}  // namespace

std::unique_ptr<ChunkSource> csv_id_source(std::shared_ptr<const IndexView> view, Bitmap crowd) {
  return std::make_unique<CsvIdSource>(std::move(view), std::move(crowd));
}

std::string roaring_id_bytes(const IndexView& view, const Bitmap& crowd) {
  // External IDs are a permutation of ordinals, so they arrive in no order.
  // Handing them to add_many unsorted inserts each new container into the
  // middle of the key array (quadratic in containers: measured 0.5M IDs/s).
  // So they are radix-sorted once, and each high half's run of low halves is
  // added in ascending order, which only ever appends containers.
  std::vector<UserId> ids;
  ids.reserve(crowd.cardinality());
  roaring_uint32_iterator_t it;
  roaring_init_iterator(crowd.get(), &it);
  std::vector<uint32_t> ordinals(kCsvChunkIds);
  while (const uint32_t n = roaring_read_uint32_iterator(&it, ordinals.data(), kCsvChunkIds)) {
    for (uint32_t i = 0; i < n; ++i) ids.push_back(view.external(ordinals[i]));
  }
  boost::sort::spreadsort::integer_sort(ids.begin(), ids.end());

  std::string out;
  const bool narrow = ids.empty() || (ids.back() >> 32) == 0;
  if (!narrow) {
    uint64_t buckets = 0;
    for (std::size_t i = 0; i < ids.size(); ++i) buckets += (i == 0 || (ids[i] >> 32) != (ids[i - 1] >> 32));
    out.append(reinterpret_cast<const char*>(&buckets), sizeof buckets);
  }
  std::vector<uint32_t> lows;
  for (std::size_t first = 0; first < ids.size() || (narrow && first == 0);) {
    // One bucket: the run of IDs sharing a high half (the whole list when
    // narrow, possibly empty).
    const uint32_t high = ids.empty() ? 0 : static_cast<uint32_t>(ids[first] >> 32);
    std::size_t last = first;
    lows.clear();
    while (last < ids.size() && (ids[last] >> 32) == high) lows.push_back(static_cast<uint32_t>(ids[last++]));
    Bitmap b;
    b.add_many(lows);
    b.optimize();
    if (!narrow) out.append(reinterpret_cast<const char*>(&high), sizeof high);
    append_portable(out, b);
    if (last == first) break;  // the empty crowd
    first = last;
  }
  return out;
}

}  // namespace crowd::server
