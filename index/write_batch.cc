#include "index/write_batch.h"

#include <cstring>

namespace crowd {
namespace {

void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
void put_u64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }

// Reads little-endian integers from a byte range, failing instead of reading
// past its end.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u32(uint32_t& v) { return take(&v, sizeof v); }
  bool u64(uint64_t& v) { return take(&v, sizeof v); }
  bool u8(uint8_t& v) { return take(&v, sizeof v); }
  bool bytes(std::size_t n, std::string_view& v) {
    if (in_.size() - pos_ < n) return false;
    v = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  [[nodiscard]] bool done() const { return pos_ == in_.size(); }
  [[nodiscard]] std::size_t remaining() const { return in_.size() - pos_; }

 private:
  bool take(void* dst, std::size_t n) {
    if (in_.size() - pos_ < n) return false;
    std::memcpy(dst, in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

uint32_t WriteBatch::intern(std::string_view name) {
  if (const auto it = local_ids_.find(name); it != local_ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(name);
  local_ids_.emplace(names_.back(), id);
  return id;
}

void WriteBatch::push(Kind kind, UserId user, std::span<const uint32_t> local_tags) {
  ops_.push_back(Op{kind, user, static_cast<uint32_t>(tag_refs_.size()), static_cast<uint32_t>(local_tags.size())});
  tag_refs_.insert(tag_refs_.end(), local_tags.begin(), local_tags.end());
}

void WriteBatch::add(UserId user, std::span<const uint32_t> local_tags) { push(Kind::kAdd, user, local_tags); }
void WriteBatch::remove(UserId user, std::span<const uint32_t> local_tags) { push(Kind::kRemove, user, local_tags); }
void WriteBatch::erase(UserId user) { push(Kind::kErase, user, {}); }

// Layout (little-endian): u32 name count, then per name u32 length + bytes;
// u32 op count, then per op u8 kind, u64 user, u32 tag count, u32 tags.
void WriteBatch::encode(std::string& out) const {
  put_u32(out, static_cast<uint32_t>(names_.size()));
  for (const auto& n : names_) {
    put_u32(out, static_cast<uint32_t>(n.size()));
    out.append(n);
  }
  put_u32(out, static_cast<uint32_t>(ops_.size()));
  for (const auto& op : ops_) {
    out.push_back(static_cast<char>(op.kind));
    put_u64(out, op.user);
    put_u32(out, op.tag_count);
    out.append(reinterpret_cast<const char*>(tag_refs_.data() + op.first_tag), sizeof(uint32_t) * op.tag_count);
  }
}

bool WriteBatch::decode(std::string_view in) {
  *this = WriteBatch();
  Reader r(in);
  uint32_t name_count = 0;
  if (!r.u32(name_count)) return false;
  for (uint32_t i = 0; i < name_count; ++i) {
    uint32_t len = 0;
    std::string_view name;
    if (!r.u32(len) || !r.bytes(len, name)) return false;
    if (intern(name) != i) return false;  // duplicate name: not something encode() writes
  }
  uint32_t op_count = 0;
  if (!r.u32(op_count)) return false;
  std::vector<uint32_t> tags;
  for (uint32_t i = 0; i < op_count; ++i) {
    uint8_t kind = 0;
    uint64_t user = 0;
    uint32_t tag_count = 0;
    if (!r.u8(kind) || !r.u64(user) || !r.u32(tag_count)) return false;
    if (kind < 1 || kind > 3) return false;
    if (r.remaining() / sizeof(uint32_t) < tag_count) return false;
    tags.resize(tag_count);
    for (auto& t : tags) {
      if (!r.u32(t) || t >= name_count) return false;
    }
    push(static_cast<Kind>(kind), user, tags);
  }
  return r.done();
}

}  // namespace crowd
