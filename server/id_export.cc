#include "server/id_export.h"

#include <charconv>
#include <cstring>
#include <map>
#include <vector>

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
    out.resize(static_cast<std::size_t>(n) * 21);  // 20 digits + newline at most
    char* p = out.data();
    for (uint32_t i = 0; i < n; ++i) {
      p = std::to_chars(p, p + 20, view_->external(ordinals_[i])).ptr;
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
  // Externals are collected per high half; the common case (every ID below
  // 2^32) has one bucket and ends up in the 32-bit format.
  std::map<uint32_t, Bitmap> buckets;
  std::map<uint32_t, std::vector<uint32_t>> pending;
  constexpr std::size_t kFlush = 4096;
  roaring_uint32_iterator_t it;
  roaring_init_iterator(crowd.get(), &it);
  std::vector<uint32_t> ordinals(kCsvChunkIds);
  while (const uint32_t n = roaring_read_uint32_iterator(&it, ordinals.data(), kCsvChunkIds)) {
    for (uint32_t i = 0; i < n; ++i) {
      const UserId id = view.external(ordinals[i]);
      auto& buf = pending[static_cast<uint32_t>(id >> 32)];
      buf.push_back(static_cast<uint32_t>(id));
      if (buf.size() >= kFlush) {
        buckets[static_cast<uint32_t>(id >> 32)].add_many(buf);
        buf.clear();
      }
    }
  }
  for (auto& [high, buf] : pending) buckets[high].add_many(buf);

  std::string out;
  const bool narrow = buckets.empty() || (buckets.size() == 1 && buckets.begin()->first == 0);
  if (narrow) {
    if (buckets.empty()) {
      append_portable(out, Bitmap());
    } else {
      buckets.begin()->second.optimize();
      append_portable(out, buckets.begin()->second);
    }
    return out;
  }
  const uint64_t count = buckets.size();
  out.append(reinterpret_cast<const char*>(&count), sizeof count);
  for (auto& [high, b] : buckets) {
    b.optimize();
    out.append(reinterpret_cast<const char*>(&high), sizeof high);
    append_portable(out, b);
  }
  return out;
}

}  // namespace crowd::server
