#include "index/write_batch.h"

#include <algorithm>
#include <cstring>

#include "index/portable_bitmap.h"
#include "index/system_tags.h"

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

void WriteBatch::push(Kind kind, UserId user, std::span<const uint32_t> local_tags, int64_t value, uint32_t person) {
  ops_.push_back(Op{kind, person, user, static_cast<uint32_t>(tag_refs_.size()),
                    static_cast<uint32_t>(local_tags.size()), value});
  tag_refs_.insert(tag_refs_.end(), local_tags.begin(), local_tags.end());
}

void WriteBatch::add(UserId user, std::span<const uint32_t> local_tags) { push(Kind::kAdd, user, local_tags); }
void WriteBatch::remove(UserId user, std::span<const uint32_t> local_tags) { push(Kind::kRemove, user, local_tags); }
void WriteBatch::erase(UserId user) { push(Kind::kErase, user, {}); }

void WriteBatch::clear_tag(uint32_t local_tag) { push(Kind::kClearTag, 0, std::span(&local_tag, 1)); }

void WriteBatch::replace_tag(uint32_t local_tag, std::shared_ptr<const Bitmap> ordinals) {
  bitmaps_.push_back(std::move(ordinals));
  push(Kind::kReplaceTag, 0, std::span(&local_tag, 1), static_cast<int64_t>(bitmaps_.size() - 1));
}

void WriteBatch::set_value(UserId user, uint32_t local_attribute, int64_t value) {
  push(Kind::kSetValue, user, std::span(&local_attribute, 1), value);
}

void WriteBatch::clear_value(UserId user, uint32_t local_attribute) {
  push(Kind::kClearValue, user, std::span(&local_attribute, 1));
}

void WriteBatch::set_entry(std::string key, std::string text) {
  entries_.push_back(Entry{std::move(key), std::move(text)});
  push(Kind::kSetEntry, 0, {}, static_cast<int64_t>(entries_.size() - 1));
}

void WriteBatch::erase_entry(std::string key) {
  entries_.push_back(Entry{std::move(key), {}});
  push(Kind::kEraseEntry, 0, {}, static_cast<int64_t>(entries_.size() - 1));
}

uint32_t WriteBatch::intern_space(std::string_view name) {
  for (std::size_t i = 0; i < spaces_.size(); ++i) {
    if (spaces_[i] == name) return static_cast<uint32_t>(i);  // a batch names a few spaces
  }
  spaces_.emplace_back(name);
  return static_cast<uint32_t>(spaces_.size() - 1);
}

WriteBatch::PersonRef WriteBatch::add_person(std::optional<UserId> uid, bool existing_only) {
  persons_.push_back(
      Person{uid.has_value(), uid.value_or(0), static_cast<uint32_t>(person_keys_.size()), 0, existing_only});
  return PersonRef{static_cast<uint32_t>(persons_.size() - 1)};
}

void WriteBatch::add_person_key(uint32_t local_space, std::string_view key) {
  person_keys_.push_back(
      PersonKey{local_space, static_cast<uint32_t>(key_bytes_.size()), static_cast<uint32_t>(key.size())});
  key_bytes_ += key;
  ++persons_.back().key_count;
}

void WriteBatch::add(PersonRef person, std::span<const uint32_t> local_tags) {
  push(Kind::kAdd, 0, local_tags, 0, person.index);
}
void WriteBatch::remove(PersonRef person, std::span<const uint32_t> local_tags) {
  push(Kind::kRemove, 0, local_tags, 0, person.index);
}
void WriteBatch::erase(PersonRef person) { push(Kind::kErase, 0, {}, 0, person.index); }
void WriteBatch::set_value(PersonRef person, uint32_t local_attribute, int64_t value) {
  push(Kind::kSetValue, 0, std::span(&local_attribute, 1), value, person.index);
}
void WriteBatch::clear_value(PersonRef person, uint32_t local_attribute) {
  push(Kind::kClearValue, 0, std::span(&local_attribute, 1), 0, person.index);
}

void WriteBatch::merge(PersonRef from, PersonRef into) {
  push(Kind::kMerge, 0, {}, static_cast<int64_t>(into.index), from.index);
}

void WriteBatch::define_space(uint32_t local_space, std::size_t key_bytes) {
  push(Kind::kDefineSpace, local_space, {}, static_cast<int64_t>(key_bytes));
}

void WriteBatch::define_id_type(std::string_view name, std::size_t key_bytes, std::string definition) {
  define_space(intern_space(name), key_bytes);
  set_entry(system_tags::id_type(name), std::move(definition));
}

void WriteBatch::set_field_meta(std::string_view field, std::string text) {
  set_entry(system_tags::field_meta(field), std::move(text));
}
void WriteBatch::erase_field_meta(std::string_view field) { erase_entry(system_tags::field_meta(field)); }
void WriteBatch::set_exclusive_field(std::string_view field, bool exclusive) {
  if (exclusive) {
    set_entry(system_tags::exclusive_field(field), "");
  } else {
    erase_entry(system_tags::exclusive_field(field));
  }
}

void WriteBatch::set_activation_record(std::string_view key, std::string text) {
  set_entry(system_tags::activation_record(key), std::move(text));
}

void WriteBatch::erase_activation_record(std::string_view key) { erase_entry(system_tags::activation_record(key)); }

void WriteBatch::set_stream_position(std::string_view stream, uint64_t sequence) {
  set_entry(system_tags::stream_position(stream), std::to_string(sequence));
}

void WriteBatch::keep_bitmap(std::string_view key, std::shared_ptr<const Bitmap> members) {
  replace_tag(intern(system_tags::kept_bitmap(key)), std::move(members));
}

void WriteBatch::drop_bitmap(std::string_view key) { clear_tag(intern(system_tags::kept_bitmap(key))); }

uint32_t WriteBatch::intern_day(std::string_view tag, int64_t day) { return intern(system_tags::day(tag, day)); }

void WriteBatch::save_crowd(std::string_view name, std::shared_ptr<const Bitmap> members, std::string definition) {
  std::string key = system_tags::crowd(name);
  replace_tag(intern(key), std::move(members));
  set_entry(std::move(key), std::move(definition));
}

void WriteBatch::delete_crowd(std::string_view name) {
  std::string key = system_tags::crowd(name);
  clear_tag(intern(key));
  erase_entry(std::move(key));
}

// Layout (little-endian): u32 name count, then per name u32 length + bytes;
// u32 op count, then per op u8 kind, u64 user, u32 tag count, u32 tags, and
// after that by kind: kSetValue i64 value; kReplaceTag u64 length + portable
// Roaring bitmap; kSetEntry u32 + key, u32 + text; kEraseEntry u32 + key.
// kDefineSpace i64 key width. An op about a person has bit 0x80 set in its
// kind and the person's index as its user. Batches with spaces or persons
// end with: u32 space count, per space u32 length + name; u32 person count,
// per person u8 has-uid, u64 uid, u32 key count, per key u32 space, u32
// length, bytes. Batches without encode exactly as before (kinds 1-3 as in
// the first version of the log).
constexpr uint8_t kPersonBit = 0x80;

void WriteBatch::encode(std::string& out) const {
  put_u32(out, static_cast<uint32_t>(names_.size()));
  for (const auto& n : names_) {
    put_u32(out, static_cast<uint32_t>(n.size()));
    out.append(n);
  }
  put_u32(out, static_cast<uint32_t>(ops_.size()));
  for (const auto& op : ops_) {
    const bool about_person = op.person != kNoPerson;
    out.push_back(static_cast<char>(static_cast<uint8_t>(op.kind) | (about_person ? kPersonBit : 0)));
    put_u64(out, about_person ? op.person : op.user);
    put_u32(out, op.tag_count);
    out.append(reinterpret_cast<const char*>(tag_refs_.data() + op.first_tag), sizeof(uint32_t) * op.tag_count);
    switch (op.kind) {
      case Kind::kSetValue:
      case Kind::kDefineSpace:
      case Kind::kMerge:
        put_u64(out, static_cast<uint64_t>(op.value));
        break;
      case Kind::kReplaceTag: {
        const roaring_bitmap_t* b = bitmaps_[static_cast<std::size_t>(op.value)]->get();
        const std::size_t n = roaring_bitmap_portable_size_in_bytes(b);
        put_u64(out, n);
        const std::size_t at = out.size();
        out.resize(at + n);
        roaring_bitmap_portable_serialize(b, out.data() + at);
        break;
      }
      case Kind::kSetEntry:
      case Kind::kEraseEntry: {
        const Entry& e = entries_[static_cast<std::size_t>(op.value)];
        put_u32(out, static_cast<uint32_t>(e.key.size()));
        out += e.key;
        if (op.kind == Kind::kSetEntry) {
          put_u32(out, static_cast<uint32_t>(e.text.size()));
          out += e.text;
        }
        break;
      }
      default:
        break;
    }
  }
  if (spaces_.empty() && persons_.empty()) return;
  put_u32(out, static_cast<uint32_t>(spaces_.size()));
  for (const auto& n : spaces_) {
    put_u32(out, static_cast<uint32_t>(n.size()));
    out += n;
  }
  put_u32(out, static_cast<uint32_t>(persons_.size()));
  for (const auto& p : persons_) {
    // Flags: bit 0 has_uid, bit 1 existing_only (a log written before
    // existing_only has 0 or 1 here, and reads the same).
    out.push_back(static_cast<char>((p.has_uid ? 1 : 0) | (p.existing_only ? 2 : 0)));
    put_u64(out, p.uid);
    put_u32(out, p.key_count);
    for (const auto& k : keys_of(p)) {
      put_u32(out, k.space);
      put_u32(out, k.length);
      out += key(k);
    }
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
    const bool about_person = (kind & kPersonBit) != 0;
    kind &= static_cast<uint8_t>(~kPersonBit);
    if (kind < 1 || kind > 11) return false;
    const auto k = static_cast<Kind>(kind);
    if (about_person && !(k == Kind::kAdd || k == Kind::kRemove || k == Kind::kErase || k == Kind::kSetValue ||
                          k == Kind::kClearValue || k == Kind::kMerge)) {
      return false;
    }
    if (k == Kind::kMerge && !about_person) return false;
    // Checked against the persons section once it is read.
    if (about_person && user >= kNoPerson) return false;
    const uint32_t person = about_person ? static_cast<uint32_t>(user) : kNoPerson;
    if (about_person) user = 0;
    if (r.remaining() / sizeof(uint32_t) < tag_count) return false;
    tags.resize(tag_count);
    for (auto& t : tags) {
      if (!r.u32(t) || t >= name_count) return false;
    }
    const bool one_name = k == Kind::kClearTag || k == Kind::kReplaceTag || k == Kind::kSetValue ||
                          k == Kind::kClearValue;
    const bool no_name = k == Kind::kErase || k == Kind::kSetEntry || k == Kind::kEraseEntry ||
                         k == Kind::kDefineSpace || k == Kind::kMerge;
    if ((one_name && tag_count != 1) || (no_name && tag_count != 0)) return false;
    switch (k) {
      case Kind::kSetValue: {
        uint64_t v = 0;
        if (!r.u64(v)) return false;
        push(k, user, tags, static_cast<int64_t>(v), person);
        break;
      }
      case Kind::kMerge: {
        uint64_t into = 0;
        if (!r.u64(into) || into >= kNoPerson) return false;  // checked against the persons once read
        push(k, 0, {}, static_cast<int64_t>(into), person);
        break;
      }
      case Kind::kDefineSpace: {
        uint64_t width = 0;
        if (!r.u64(width) || width > kMaxKeyBytes) return false;
        push(k, user, {}, static_cast<int64_t>(width));
        break;
      }
      case Kind::kReplaceTag: {
        uint64_t n = 0;
        std::string_view bytes;
        if (!r.u64(n) || n > r.remaining() || !r.bytes(static_cast<std::size_t>(n), bytes)) return false;
        roaring_bitmap_t* b = deserialize_portable_bitmap(bytes);
        if (b == nullptr) return false;
        Bitmap owned(b);
        if (roaring_bitmap_portable_size_in_bytes(b) != n || !well_formed_bitmap(b)) return false;
        replace_tag(tags[0], std::make_shared<const Bitmap>(std::move(owned)));
        break;
      }
      case Kind::kSetEntry:
      case Kind::kEraseEntry: {
        uint32_t len = 0;
        std::string_view key;
        if (!r.u32(len) || !r.bytes(len, key)) return false;
        if (k == Kind::kEraseEntry) {
          erase_entry(std::string(key));
          break;
        }
        std::string_view text;
        if (!r.u32(len) || !r.bytes(len, text)) return false;
        set_entry(std::string(key), std::string(text));
        break;
      }
      default:
        push(k, user, tags, 0, person);
        break;
    }
  }
  if (r.done()) return spaces_and_persons_valid();
  return decode_persons(in.substr(in.size() - r.remaining())) && spaces_and_persons_valid();
}

bool WriteBatch::decode_persons(std::string_view in) {
  Reader r(in);
  uint32_t space_count = 0;
  if (!r.u32(space_count)) return false;
  for (uint32_t i = 0; i < space_count; ++i) {
    uint32_t len = 0;
    std::string_view name;
    if (!r.u32(len) || !r.bytes(len, name)) return false;
    if (intern_space(name) != i) return false;  // a duplicate: not something encode() writes
  }
  uint32_t person_count = 0;
  if (!r.u32(person_count)) return false;
  // encode() writes this section only when it holds something.
  if (space_count == 0 && person_count == 0) return false;
  for (uint32_t i = 0; i < person_count; ++i) {
    uint8_t flags = 0;
    uint64_t uid = 0;
    uint32_t key_count = 0;
    if (!r.u8(flags) || flags > 3 || !r.u64(uid) || !r.u32(key_count)) return false;
    add_person((flags & 1) != 0 ? std::optional<UserId>(uid) : std::nullopt, (flags & 2) != 0);
    for (uint32_t j = 0; j < key_count; ++j) {
      uint32_t space = 0;
      uint32_t len = 0;
      std::string_view bytes;
      if (!r.u32(space) || !r.u32(len) || !r.bytes(len, bytes)) return false;
      add_person_key(space, bytes);
    }
  }
  return r.done();
}

bool WriteBatch::spaces_and_persons_valid() const {
  for (const auto& op : ops_) {
    if (op.person != kNoPerson && op.person >= persons_.size()) return false;
    if (op.kind == Kind::kMerge && static_cast<uint64_t>(op.value) >= persons_.size()) return false;
    if (op.kind == Kind::kDefineSpace && op.user >= spaces_.size()) return false;
  }
  return std::all_of(person_keys_.begin(), person_keys_.end(), [&](const PersonKey& k) {
    return k.space < spaces_.size() && k.length >= 1 && k.length <= kMaxKeyBytes;
  });
}

}  // namespace crowd
