#include "server/id_export.h"

#include <boost/sort/spreadsort/integer_sort.hpp>

#include <cstring>
#include <vector>

#include "identity/id_codec.h"
#include "index/byte_order.h"
#include "server/decimal.h"

namespace crowd::server {
namespace {

class CsvIdSource final : public ChunkSource {
  // A full chunk's room (next() below): what one stalled export holds.
  static constexpr std::size_t kMaxPieceBytes = std::size_t{kCsvChunkIds} * 21 + 24;

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

  std::size_t piece_bytes() const override { return kMaxPieceBytes; }

 private:
  std::shared_ptr<const IndexView> view_;
  Bitmap crowd_;  // the iterator points into it; it never moves (heap-held)
  roaring_uint32_iterator_t it_;
  std::vector<uint32_t> ordinals_;
};

// Appends the sorted values as one portable 32-bit Roaring bitmap.
void append_portable(std::string& out, const std::vector<uint32_t>& sorted) {
  Bitmap b;
  b.add_many(sorted);
  b.optimize();
  const std::size_t at = out.size();
  out.resize(at + roaring_bitmap_portable_size_in_bytes(b.get()));
  roaring_bitmap_portable_serialize(b.get(), out.data() + at);
}

// Sorts by two 16-bit counting passes (LSD radix): O(n + 2^16), a few ns a
// value, against ~40 ns for a comparison or spread sort of random IDs.
void radix_sort(std::vector<uint32_t>& v) {
  std::vector<std::size_t> low(65537, 0);
  std::vector<std::size_t> high(65537, 0);
  for (const uint32_t x : v) {
    ++low[(x & 0xFFFF) + 1];
    ++high[(x >> 16) + 1];
  }
  for (std::size_t i = 1; i < low.size(); ++i) {
    low[i] += low[i - 1];
    high[i] += high[i - 1];
  }
  std::vector<uint32_t> by_low(v.size());
  for (const uint32_t x : v) by_low[low[x & 0xFFFF]++] = x;
  for (const uint32_t x : by_low) v[high[x >> 16]++] = x;
}

// The IDs as roaring_id_bytes describes; `narrow` and `wide` are the IDs
// below and from 2^32, unsorted.
std::string roaring_of(std::vector<uint32_t>& narrow, std::vector<UserId>& wide) {
  radix_sort(narrow);
  boost::sort::spreadsort::integer_sort(wide.begin(), wide.end());

  std::string out;
  if (wide.empty()) {  // the 32-bit format
    append_portable(out, narrow);
    return out;
  }
  uint64_t buckets = narrow.empty() ? 0 : 1;
  for (std::size_t i = 0; i < wide.size(); ++i) buckets += (i == 0 || (wide[i] >> 32) != (wide[i - 1] >> 32));
  out.append(reinterpret_cast<const char*>(&buckets), sizeof buckets);
  if (!narrow.empty()) {
    const uint32_t high = 0;
    out.append(reinterpret_cast<const char*>(&high), sizeof high);
    append_portable(out, narrow);
  }
  std::vector<uint32_t> lows;
  for (std::size_t first = 0; first < wide.size();) {
    // One bucket: the run of IDs sharing a high half.
    const auto high = static_cast<uint32_t>(wide[first] >> 32);
    lows.clear();
    std::size_t last = first;
    while (last < wide.size() && (wide[last] >> 32) == high) lows.push_back(static_cast<uint32_t>(wide[last++]));
    out.append(reinterpret_cast<const char*>(&high), sizeof high);
    append_portable(out, lows);
    first = last;
  }
  return out;
}

}  // namespace

std::unique_ptr<ChunkSource> csv_id_source(std::shared_ptr<const IndexView> view, Bitmap crowd) {
  return std::make_unique<CsvIdSource>(std::move(view), std::move(crowd));
}

std::string roaring_id_bytes(const IndexView& view, const Bitmap& crowd) {
  // External IDs are a permutation of ordinals, so they arrive in no order.
  // Handing them to add_many unsorted inserts each new container into the
  // middle of the key array (quadratic in containers: measured 0.5M IDs/s),
  // so they are sorted first, and each high half's run of low halves is
  // added in ascending order, which only ever appends containers. IDs below
  // 2^32 (the common case) take a two-pass radix sort; the rest, spreadsort
  // (it was 45% of an export when it sorted everything).
  std::vector<uint32_t> narrow;
  std::vector<UserId> wide;
  narrow.reserve(crowd.cardinality());
  roaring_uint32_iterator_t it;
  roaring_init_iterator(crowd.get(), &it);
  std::vector<uint32_t> ordinals(kCsvChunkIds);
  while (const uint32_t n = roaring_read_uint32_iterator(&it, ordinals.data(), kCsvChunkIds)) {
    for (uint32_t i = 0; i < n; ++i) {
      const UserId id = view.external(ordinals[i]);
      if ((id >> 32) == 0) {
        narrow.push_back(static_cast<uint32_t>(id));
      } else {
        wide.push_back(id);
      }
    }
  }
  return roaring_of(narrow, wide);
}

namespace {

// Every ID of `type` of each user, one a line.
class CsvTypedIdSource final : public ChunkSource {
  // 256-byte strings (the longest kind) and a newline, times a chunk's IDs
  // plus one user's overflow: what one stalled export holds, bounded.
  static constexpr uint32_t kUsersPerChunk = 4096;

 public:
  CsvTypedIdSource(std::shared_ptr<const IndexView> view, const identity::DefinedIdType& type, Bitmap users)
      : view_(std::move(view)), type_(type.type), space_(*type.space), users_(std::move(users)),
        ordinals_(kUsersPerChunk) {
    roaring_init_iterator(users_.get(), &it_);
  }

  bool next(std::string& out) override {
    const uint32_t n = roaring_read_uint32_iterator(&it_, ordinals_.data(), kUsersPerChunk);
    if (n == 0) return false;
    out.clear();
    for (uint32_t i = 0; i < n; ++i) {
      space_.for_each_key(ordinals_[i], [&](std::string_view key) {
        const std::size_t at = out.size();
        identity::append_id_text(type_, key, out);
        // A string ID may hold a comma or a quote (never a line break: control
        // characters are refused): quoted as RFC 4180 says, for CSV readers.
        if (out.find_first_of(",\"", at) != std::string::npos) {
          std::string field = "\"";
          for (std::size_t k = at; k < out.size(); ++k) field += out[k] == '"' ? std::string("\"\"") : std::string(1, out[k]);
          out.resize(at);
          out += field;
          out += '"';
        }
        out += '\n';
      });
    }
    return true;
  }

  // A chunk's users with a few IDs each of at most 256 bytes; a rough
  // upper bound for the reply budget (reply_budget.h).
  std::size_t piece_bytes() const override { return std::size_t{kUsersPerChunk} * 2 * 257; }

 private:
  std::shared_ptr<const IndexView> view_;  // keeps the space alive
  identity::IdType type_;
  const IdSpace& space_;
  Bitmap users_;
  roaring_uint32_iterator_t it_;
  std::vector<uint32_t> ordinals_;
};

}  // namespace

Bitmap exportable(const IndexView& view, const Bitmap& crowd, const identity::DefinedIdType* type) {
  if (type == nullptr) {
    if (view.uidless().bits.empty()) return crowd.clone();
    return Bitmap(roaring_bitmap_andnot(crowd.get(), view.uidless().bits.get()));
  }
  Bitmap out;
  if (type->space == nullptr) return out;
  std::vector<uint32_t> kept;
  std::vector<uint32_t> ordinals(kCsvChunkIds);
  roaring_uint32_iterator_t it;
  roaring_init_iterator(crowd.get(), &it);
  while (const uint32_t n = roaring_read_uint32_iterator(&it, ordinals.data(), kCsvChunkIds)) {
    kept.clear();
    for (uint32_t i = 0; i < n; ++i) {
      if (type->space->has_key(ordinals[i])) kept.push_back(ordinals[i]);
    }
    out.add_many(kept);
  }
  out.optimize();
  return out;
}

std::unique_ptr<ChunkSource> csv_typed_id_source(std::shared_ptr<const IndexView> view,
                                                 const identity::DefinedIdType& type, Bitmap users) {
  return std::make_unique<CsvTypedIdSource>(std::move(view), type, std::move(users));
}

std::string roaring_typed_id_bytes(const identity::DefinedIdType& type, const Bitmap& users) {
  std::vector<uint32_t> narrow;
  std::vector<UserId> wide;
  roaring_uint32_iterator_t it;
  roaring_init_iterator(users.get(), &it);
  std::vector<uint32_t> ordinals(kCsvChunkIds);
  while (const uint32_t n = roaring_read_uint32_iterator(&it, ordinals.data(), kCsvChunkIds)) {
    for (uint32_t i = 0; i < n; ++i) {
      type.space->for_each_key(ordinals[i], [&](std::string_view key) {
        const UserId id = le::load_u64(key.data());  // a u64 type's key: 8 bytes, little-endian
        if ((id >> 32) == 0) {
          narrow.push_back(static_cast<uint32_t>(id));
        } else {
          wide.push_back(id);
        }
      });
    }
  }
  return roaring_of(narrow, wide);
}

}  // namespace crowd::server
