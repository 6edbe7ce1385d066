// WriteBatch: one atomic write (an ingest body, an assign request, a delete).
//
// Tag names are interned once per batch, so a million-line ingest that repeats
// `gender:female` stores the string once; operations refer to batch-local tag
// numbers. The batch is also the write-ahead log's record payload.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "index/bitmap.h"
#include "index/ids.h"
#include "index/string_hash.h"

namespace crowd {

// Besides users' tags a batch carries the index's own state (system tags,
// index/system_tags.h): numeric values, whole-bitmap replacements (saved
// crowds) and clears (retention, deleted crowds), and named metadata entries.
// Tag operations apply in order; value operations apply after them, in order
// among themselves (no writer mixes a user's erasure with its values).
class WriteBatch {
 public:
  enum class Kind : uint8_t {
    kAdd = 1,
    kRemove = 2,
    kErase = 3,
    kClearTag = 4,    // tags_of(op)[0] := empty; `user` unused
    kReplaceTag = 5,  // tags_of(op)[0] := bitmaps()[value] AND the universe; `user` unused
    kSetValue = 6,    // user's value of attribute tags_of(op)[0] := value
    kClearValue = 7,  // user has no value of attribute tags_of(op)[0]
    kSetEntry = 8,    // entries()[value]: key := text
    kEraseEntry = 9,  // entries()[value].key removed
    kDefineSpace = 10,  // ID space spaces()[user] exists, keys of `value` bytes (0: variable)
    kMerge = 11,        // person `person`'s user merged into person `value`'s (merge())
  };
  static constexpr uint32_t kNoPerson = UINT32_MAX;
  // The longest key of an ID (IdSpace::kMaxVariableKey).
  static constexpr std::size_t kMaxKeyBytes = 255;
  struct Op {
    Kind kind;
    // kAdd, kRemove, kErase, kSetValue, kClearValue: the batch-local person
    // the op is about instead of `user` (kNoPerson: `user` is a uid).
    uint32_t person = kNoPerson;
    UserId user;
    uint32_t first_tag;  // into tag_refs()
    uint32_t tag_count;
    int64_t value = 0;  // kSetValue: the value; kReplaceTag: into bitmaps(); k*Entry: into entries()
  };
  struct Entry {
    std::string key;
    std::string text;  // kSetEntry only
  };
  // A person (issue 15): a user named by its IDs rather than by its uid.
  // Applying the batch resolves each person, in order, to the one user its
  // IDs (and uid, if given) belong to, linking the IDs that are new; a
  // person none of whose IDs is known becomes a new user when an add or a
  // value names it. IDs of one person owned by two users are a conflict and
  // the batch is refused whole (index/person_resolver.h).
  struct Person {
    bool has_uid = false;
    UserId uid = 0;
    uint32_t first_key = 0;  // into person_keys()
    uint32_t key_count = 0;
    // Never a new user: a person none of whose IDs (or uid) is known when
    // the batch applies is nobody, and its ops do nothing. Results flowing
    // back about someone (issue 16) must not bring an erased user back.
    bool existing_only = false;
  };
  struct PersonKey {
    uint32_t space;   // into spaces()
    uint32_t offset;  // into key_bytes()
    uint32_t length;
  };
  // Names a person in add / remove / erase / set_value / clear_value.
  struct PersonRef {
    uint32_t index;
  };

  // The batch-local number of a tag name, interning it on first use.
  uint32_t intern(std::string_view name);

  // Sets each tag on the user (creating user and tags as needed).
  void add(UserId user, std::span<const uint32_t> local_tags);
  // Clears each tag from the user; unknown users and tags are no-ops.
  void remove(UserId user, std::span<const uint32_t> local_tags);
  // Removes the user from every tag and from the universe.
  void erase(UserId user);
  // Empties a tag (creating nothing if it is unknown).
  void clear_tag(uint32_t local_tag);
  // Makes a tag (created if needed) exactly `ordinals` minus users no longer
  // in the universe when the batch applies. Ordinals are those of the index
  // the batch is applied to: a writer evaluates them from a view and the log
  // replays batches in order, so they mean the same users on replay.
  void replace_tag(uint32_t local_tag, std::shared_ptr<const Bitmap> ordinals);
  // Numeric attributes: `local_attribute` is the interned attribute name
  // (not a tag). Setting a value puts the user in the universe.
  void set_value(UserId user, uint32_t local_attribute, int64_t value);
  void clear_value(UserId user, uint32_t local_attribute);
  // Persons: add_person() starts one, add_person_key() gives the last one
  // started an ID; the overloads below name it. A key is the stored bytes
  // of an ID of the space (identity/ encodes them), 1..255 bytes.
  uint32_t intern_space(std::string_view name);
  PersonRef add_person(std::optional<UserId> uid, bool existing_only = false);
  void add_person_key(uint32_t local_space, std::string_view key);
  void add(PersonRef person, std::span<const uint32_t> local_tags);
  void remove(PersonRef person, std::span<const uint32_t> local_tags);
  // The person's user leaves every tag and the universe; every ID linked to
  // it, in every space, is unlinked and its uid forgotten.
  void erase(PersonRef person);
  void set_value(PersonRef person, uint32_t local_attribute, int64_t value);
  void clear_value(PersonRef person, uint32_t local_attribute);
  // Two users become one (an admin's decision, never inferred): `from`'s
  // tags, saved crowds and dated days are added to `into`'s, its values
  // fill in those `into` lacks, its IDs are linked to `into` and, if `into`
  // has no uid, its uid moves over; then `from` leaves the universe. Users
  // that both have a uid are refused (a user has one uid). Nothing when
  // either person is unknown or both are the same user.
  void merge(PersonRef from, PersonRef into);
  // An ID space: defining an existing space again with the same width is a
  // no-op, with another width a conflict (the batch is refused).
  void define_space(uint32_t local_space, std::size_t key_bytes);

  // Metadata entries (saved crowds' definitions), kept with the index.
  void set_entry(std::string key, std::string text);
  void erase_entry(std::string key);

  // Typed writes of the index's own tags (system_view.h reads them back);
  // callers never build their names.
  //
  // The batch-local number of `tag`'s day tag for `day` (days since
  // 1970-01-01, within years 0000..9999): adding it to a user records that
  // the user had `tag` on that day (the query language's within()).
  uint32_t intern_day(std::string_view tag, int64_t day);
  // A saved crowd's members become exactly `members` (as replace_tag) and its
  // definition `definition` (opaque to the index), in this one write.
  void save_crowd(std::string_view name, std::shared_ptr<const Bitmap> members, std::string definition);
  // Empties a saved crowd's tag and removes its definition.
  void delete_crowd(std::string_view name);
  // An ID type: its space (keys of `key_bytes`, 0 variable) and its
  // definition `definition` (opaque to the index), in this one write.
  void define_id_type(std::string_view name, std::size_t key_bytes, std::string definition);
  // Activation (issue 16): a record (opaque text) under `key`, and a kept
  // bitmap under `key` made exactly `members` (as replace_tag) or emptied.
  // Keys are activation's own (SystemView reads them back by prefix).
  // The tag library (issue 17): a field's description, owned by catalog/
  // (set or erased); and whether the field is exclusive -- from the batch
  // after the one that says so, adding a user to <field>:v removes it from
  // every other <field>:* tag (ApplyBatch), in the log and on replay alike.
  void set_field_meta(std::string_view field, std::string text);
  void erase_field_meta(std::string_view field);
  void set_exclusive_field(std::string_view field, bool exclusive);
  void set_activation_record(std::string_view key, std::string text);
  // A cluster replica's position in its write stream `stream` (issue 18):
  // the sequence of the stream message this batch applies.
  void set_stream_position(std::string_view stream, uint64_t sequence);
  void erase_activation_record(std::string_view key);
  void keep_bitmap(std::string_view key, std::shared_ptr<const Bitmap> members);
  void drop_bitmap(std::string_view key);

  [[nodiscard]] const std::vector<std::string>& names() const { return names_; }
  [[nodiscard]] const std::vector<Op>& ops() const { return ops_; }
  [[nodiscard]] std::span<const uint32_t> tags_of(const Op& op) const {
    return std::span<const uint32_t>(tag_refs_).subspan(op.first_tag, op.tag_count);
  }
  [[nodiscard]] const std::vector<std::shared_ptr<const Bitmap>>& bitmaps() const { return bitmaps_; }
  [[nodiscard]] const std::vector<Entry>& entries() const { return entries_; }
  [[nodiscard]] const std::vector<std::string>& spaces() const { return spaces_; }
  [[nodiscard]] const std::vector<Person>& persons() const { return persons_; }
  [[nodiscard]] std::span<const PersonKey> keys_of(const Person& p) const {
    return std::span<const PersonKey>(person_keys_).subspan(p.first_key, p.key_count);
  }
  [[nodiscard]] std::string_view key(const PersonKey& k) const {
    return std::string_view(key_bytes_).substr(k.offset, k.length);
  }
  [[nodiscard]] bool empty() const { return ops_.empty(); }
  // Number of (user, tag) pairs named by the batch.
  [[nodiscard]] std::size_t pair_count() const { return tag_refs_.size(); }

  // Binary encoding for the write-ahead log. decode() returns false on
  // malformed input (it never trusts lengths).
  void encode(std::string& out) const;
  [[nodiscard]] bool decode(std::string_view in);

 private:
  void push(Kind kind, UserId user, std::span<const uint32_t> local_tags, int64_t value = 0,
            uint32_t person = kNoPerson);
  [[nodiscard]] bool decode_persons(std::string_view in);
  [[nodiscard]] bool spaces_and_persons_valid() const;

  std::vector<std::string> names_;
  boost::unordered_flat_map<std::string, uint32_t, StringHash, StringEq> local_ids_;
  std::vector<Op> ops_;
  std::vector<uint32_t> tag_refs_;
  std::vector<std::shared_ptr<const Bitmap>> bitmaps_;
  std::vector<Entry> entries_;
  std::vector<std::string> spaces_;
  std::vector<Person> persons_;
  std::vector<PersonKey> person_keys_;
  std::string key_bytes_;
};

// What a batch changed.
struct WriteResult {
  uint64_t users = 0;    // add/remove/erase operations applied
  uint64_t added = 0;    // (user, tag) pairs newly set, users' tags only
  uint64_t removed = 0;  // (user, tag) pairs actually cleared, users' tags only
  uint64_t erased = 0;   // users that existed and were deleted
  uint64_t linked = 0;   // IDs newly linked to a user
  // Why a batch was refused (WriteStatus::kConflict), naming the person by
  // its position in the batch; empty otherwise.
  std::string refusal;
  uint32_t refused_person = 0;
};

}  // namespace crowd
