#include "activation/activation_support.h"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>
#include <vector>

#include "activation/record_keys.h"
#include "identity/digest.h"
#include "index/system_view.h"

namespace crowd::activation {

Refusal refusal(Refusal::Kind kind, std::string code, std::string message) {
  Refusal r;
  r.kind = kind;
  r.code = std::move(code);
  r.message = std::move(message);
  return r;
}

std::optional<CrowdRecord> read_crowd_record(const IndexView& view, std::string_view crowd) {
  const auto text = view.system().activation_record(keys::crowd(crowd));
  if (!text) return std::nullopt;
  return decode_crowd_record(*text);
}

CrowdRecord imported_record(const TagBits& members, int64_t now) {
  CrowdRecord c;
  c.version = 1;
  c.last_refresh = now;
  c.versions.push_back(VersionEntry{1, now, members.cardinality, members.cardinality, 0, "import"});
  return c;
}

std::optional<PushRecord> read_push_record(const IndexView& view, std::string_view crowd, uint64_t seq) {
  const auto text = view.system().activation_record(keys::push(crowd, seq));
  if (!text) return std::nullopt;
  return decode_push_record(*text);
}

const TagBits* crowd_members(const IndexView& view, std::string_view crowd) {
  const auto saved = view.system().saved_crowd(crowd);
  return saved ? &view.tag(saved->id) : nullptr;
}

const TagBits* kept_bitmap(const IndexView& view, std::string_view key) {
  const auto id = view.system().kept_bitmap(key);
  return id ? &view.tag(*id) : nullptr;
}

Bitmap kept_union(const IndexView& view, std::string_view prefix) {
  Bitmap out;
  for (const auto& [key, id] : view.system().kept_bitmaps(prefix)) {
    const TagBits& bits = view.tag(id);
    if (bits.cardinality > 0) roaring_bitmap_or_inplace(out.get(), bits.bits.get());
  }
  return out;
}

uint64_t exported_users(const IndexView& view, const Bitmap& users, const identity::DefinedIdType* type) {
  if (type == nullptr) return roaring_bitmap_andnot_cardinality(users.get(), view.uidless().bits.get());
  if (type->space == nullptr) return 0;
  uint64_t n = 0;
  roaring_uint32_iterator_t it;
  roaring_init_iterator(users.get(), &it);
  std::array<uint32_t, 4096> batch{};
  while (const uint32_t k = roaring_read_uint32_iterator(&it, batch.data(), batch.size())) {
    for (uint32_t i = 0; i < k; ++i) n += type->space->has_key(batch[i]);
  }
  return n;
}

Bitmap reachable(const IndexView& view, const Bitmap& users, const identity::DefinedIdType* type) {
  if (type == nullptr) return Bitmap(roaring_bitmap_andnot(users.get(), view.uidless().bits.get()));
  Bitmap out;
  if (type->space == nullptr) return out;
  roaring_uint32_iterator_t it;
  roaring_init_iterator(users.get(), &it);
  std::array<uint32_t, 4096> batch{};
  std::vector<uint32_t> kept;
  while (const uint32_t k = roaring_read_uint32_iterator(&it, batch.data(), batch.size())) {
    kept.clear();
    for (uint32_t i = 0; i < k; ++i) {
      if (type->space->has_key(batch[i])) kept.push_back(batch[i]);
    }
    out.add_many(kept);
  }
  return out;
}

Bitmap minus(const Bitmap& a, const roaring_bitmap_t* b) { return Bitmap(roaring_bitmap_andnot(a.get(), b)); }
Bitmap minus(const Bitmap& a, const Bitmap& b) { return minus(a, b.get()); }

std::set<uint64_t> needed_versions(const IndexView& view, std::string_view crowd, const CrowdRecord& c) {
  std::set<uint64_t> needed;
  for (const auto& [dest, s] : c.destinations) {
    if (s.acknowledged != 0) needed.insert(s.acknowledged);
    if (s.outstanding == 0) continue;
    if (const auto p = read_push_record(view, crowd, s.outstanding)) {
      needed.insert(p->version);
      if (!p->full) needed.insert(p->base_version);
    }
  }
  return needed;
}

void drop_unneeded_versions(const IndexView& view, std::string_view crowd, const std::set<uint64_t>& needed,
                            WriteBatch& batch) {
  for (const auto& [key, id] : view.system().kept_bitmaps(keys::version_prefix(crowd))) {
    const auto v = keys::trailing_number(key);
    if (v && !needed.contains(*v) && view.tag(id).cardinality > 0) batch.drop_bitmap(key);
  }
}

std::string random_push_id() {
  std::array<uint8_t, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  std::string out;
  identity::append_hex(bytes, out);
  return out;
}

}  // namespace crowd::activation
