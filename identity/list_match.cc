#include "identity/list_match.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>
#include <span>
#include <stdexcept>
#include <utility>

namespace crowd::identity {
namespace {

constexpr unsigned kOwnerChunkBits = 16;  // ordinals a chunk: one Roaring container's
constexpr std::size_t kOwnerChunkWords = (std::size_t{1} << kOwnerChunkBits) / 64;

}  // namespace

// ---- SeenKeys

uint64_t ListMatcher::SeenKeys::hash(std::string_view key) { return std::hash<std::string_view>{}(key); }

void ListMatcher::SeenKeys::prefetch(uint64_t h) const {
  if (!lines_.empty()) __builtin_prefetch(&slot(home(static_cast<uint32_t>(h >> 32) | 1)));
}

bool ListMatcher::SeenKeys::insert(std::string_view key, uint64_t h) {
  // Grown before the probe, so the slot found is the one to fill: 35-70%
  // full, so a probe rarely leaves its home line.
  if (lines_.empty() || (size_ + 1) * 10 > slot_count() * 7) grow();
  const uint32_t tag = static_cast<uint32_t>(h >> 32) | 1;
  const std::size_t mask = slot_count() - 1;
  for (std::size_t i = home(tag);; i = (i + 1) & mask) {
    const uint64_t s = slot(i);
    if (s == 0) {
      slot(i) = uint64_t{tag} << 32 | append(key);
      ++size_;
      return true;
    }
    if (s >> 32 == tag && at(static_cast<uint32_t>(s)) == key) return false;
  }
}

void ListMatcher::SeenKeys::grow() {
  const unsigned bits = lines_.empty() ? kMinSlotBits : slot_bits_ + 1;
  if (bits > kMaxSlotBits) throw std::length_error("ListMatcher: too many distinct IDs");
  const std::vector<Line> old = std::exchange(lines_, std::vector<Line>((std::size_t{1} << bits) / 8, Line{}));
  slot_bits_ = bits;
  const std::size_t mask = slot_count() - 1;
  for (const Line& line : old) {
    for (const uint64_t s : line.slots) {
      if (s == 0) continue;
      std::size_t i = home(static_cast<uint32_t>(s >> 32));
      while (slot(i) != 0) i = (i + 1) & mask;
      slot(i) = s;
    }
  }
}

uint32_t ListMatcher::SeenKeys::append(std::string_view key) {
  const std::size_t bytes = key_bytes_ != 0 ? key_bytes_ : 1 + key.size();
  uint64_t at = end_;
  // A key never straddles two chunks: a variable one that would is put at
  // the start of the next (wasting < 257 bytes of a 256 KiB chunk).
  if ((at & (kChunkBytes - 1)) + bytes > kChunkBytes) at = (at | (kChunkBytes - 1)) + 1;
  if (at + bytes > (uint64_t{1} << 32)) throw std::length_error("ListMatcher: more than 4 GiB of distinct IDs");
  const std::size_t chunk = static_cast<std::size_t>(at >> kChunkBits);
  if (chunk == chunks_.size()) chunks_.push_back(std::make_unique_for_overwrite<char[]>(kChunkBytes));
  char* out = chunks_[chunk].get() + (at & (kChunkBytes - 1));
  if (key_bytes_ == 0) *out++ = static_cast<char>(key.size() - 1);  // 1..256 bytes
  std::memcpy(out, key.data(), key.size());
  end_ = at + bytes;
  return static_cast<uint32_t>(at);
}

std::string_view ListMatcher::SeenKeys::at(uint32_t ref) const {
  const char* p = chunks_[ref >> kChunkBits].get() + (ref & (kChunkBytes - 1));
  if (key_bytes_ != 0) return {p, key_bytes_};
  return {p + 1, std::size_t{static_cast<unsigned char>(p[0])} + 1};
}

void ListMatcher::SeenKeys::clear() {
  chunks_.clear();
  chunks_.shrink_to_fit();
  lines_.clear();
  lines_.shrink_to_fit();
  slot_bits_ = 0;
  end_ = 0;
  size_ = 0;
}

// ---- ListMatcher

ListMatcher::ListMatcher(IdType type, const IdSpace* space, Ordinal ordinal_limit, const Bitmap* universe, bool plain)
    : type_(std::move(type)),
      space_(space),
      ordinal_limit_(ordinal_limit),
      universe_(universe),
      plain_(plain),
      seen_(fixed_key_bytes(type_.kind)),
      owner_chunks_((std::size_t{ordinal_limit} + (std::size_t{1} << kOwnerChunkBits) - 1) >> kOwnerChunkBits) {
  if (universe_ == nullptr) throw std::invalid_argument("ListMatcher: null universe");
  if (space_ != nullptr && space_->key_bytes() != fixed_key_bytes(type_.kind)) {
    throw std::invalid_argument("ListMatcher: the IdSpace's key width is not the id type's");
  }
}

void ListMatcher::add(uint64_t line, std::string_view text) {
  if (finished_) throw std::logic_error("ListMatcher: add() after finish()");
  ++result_.submitted;
  encode_id_into(type_, text, plain_, encoded_);
  if (!encoded_.ok()) {
    ++result_.invalid;
    if (result_.first_invalid.size() < kMaxInvalidReported) result_.first_invalid.push_back({line, encoded_.error});
    return;
  }
  ++result_.valid;
  batch_bytes_ += encoded_.key;
  batch_ends_[pending_++] = static_cast<uint32_t>(batch_bytes_.size());
  if (pending_ == kBatch) flush();
}

void ListMatcher::flush() {
  const std::size_t n = pending_;
  pending_ = 0;
  if (n == 0) return;
  // 1. Hashes; the seen set's slots prefetched.
  std::array<std::string_view, kBatch> keys;
  for (std::size_t i = 0, begin = 0; i < n; begin = batch_ends_[i++]) {
    keys[i] = std::string_view(batch_bytes_).substr(begin, batch_ends_[i] - begin);
    hashes_[i] = SeenKeys::hash(keys[i]);
    seen_.prefetch(hashes_[i]);
  }
  // 2. Duplicates out, in list order (a key twice in one batch included).
  std::size_t fresh = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (seen_.insert(keys[i], hashes_[i])) {
      fresh_[fresh++] = keys[i];
    } else {
      ++result_.duplicates;
    }
  }
  // 3. The lookups, their misses overlapped; users of the view counted.
  if (space_ != nullptr && fresh != 0) {
    space_->find_many(std::span(fresh_.data(), fresh), std::span(owners_.data(), fresh));
    for (std::size_t i = 0; i < fresh; ++i) {
      if (owners_[i] && *owners_[i] < ordinal_limit_) prefetch_owner(*owners_[i]);
    }
    for (std::size_t i = 0; i < fresh; ++i) {
      if (owners_[i] && *owners_[i] < ordinal_limit_) add_owner(*owners_[i]);
    }
  }
  batch_bytes_.clear();
}

void ListMatcher::prefetch_owner(Ordinal o) {
  auto& chunk = owner_chunks_[o >> kOwnerChunkBits];
  if (!chunk) chunk = std::make_unique<uint64_t[]>(kOwnerChunkWords);  // zeroed
  __builtin_prefetch(&chunk[(o & ((std::size_t{1} << kOwnerChunkBits) - 1)) / 64], 1);
}

void ListMatcher::add_owner(Ordinal o) {
  const auto& chunk = owner_chunks_[o >> kOwnerChunkBits];  // allocated by prefetch_owner
  const std::size_t bit = o & ((std::size_t{1} << kOwnerChunkBits) - 1);
  uint64_t& word = chunk[bit / 64];
  const uint64_t mask = uint64_t{1} << (bit % 64);
  if ((word & mask) != 0) repeat_owners_.push_back(o);
  word |= mask;
}

ListMatchResult ListMatcher::finish() {
  if (finished_) throw std::logic_error("ListMatcher: finish() twice");
  flush();
  finished_ = true;
  // The owners chunk by chunk, in order: Roaring appends sorted values
  // without moving any. Then the users among them.
  std::vector<uint32_t> values;
  for (std::size_t c = 0; c < owner_chunks_.size(); ++c) {
    if (!owner_chunks_[c]) continue;
    values.clear();
    for (std::size_t w = 0; w < kOwnerChunkWords; ++w) {
      for (uint64_t bits = owner_chunks_[c][w]; bits != 0; bits &= bits - 1) {
        values.push_back(static_cast<uint32_t>(c << kOwnerChunkBits | (w * 64 + std::countr_zero(bits))));
      }
    }
    result_.users.add_many(values);
    owner_chunks_[c].reset();
  }
  roaring_bitmap_and_inplace(result_.users.get(), universe_->get());
  result_.matched = result_.users.cardinality();
  for (const Ordinal o : repeat_owners_) result_.matched += result_.users.contains(o) ? 1 : 0;
  result_.users.optimize();
  // The seen keys are the list's personal data: gone now, not at destruction.
  seen_.clear();
  batch_bytes_ = {};
  repeat_owners_ = {};
  return std::move(result_);
}

std::size_t ListMatcher::memory_bytes() const {
  std::size_t chunks = 0;
  for (const auto& c : owner_chunks_) chunks += c ? kOwnerChunkWords * sizeof(uint64_t) : 0;
  return sizeof(*this) + seen_.memory_bytes() + batch_bytes_.capacity() + chunks +
         owner_chunks_.capacity() * sizeof(owner_chunks_[0]) + repeat_owners_.capacity() * sizeof(Ordinal) +
         result_.users.bytes();
}

}  // namespace crowd::identity
