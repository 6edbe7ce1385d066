// PersonWriter: a request's records that name users by IDs (issue 15)
// become persons of one WriteBatch -- each ID checked and encoded by its
// type (id_codec.h), nothing added to the batch for a record with a bad ID.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "identity/id_codec.h"
#include "identity/id_types.h"
#include "index/write_batch.h"

namespace crowd::identity {

// One ID as a request names it: its type's name and its text.
struct NamedId {
  std::string_view type;
  std::string_view text;
};

class PersonWriter {
 public:
  // `types` and `batch` must outlive the writer.
  PersonWriter(const IdTypes& types, WriteBatch& batch) : types_(types), batch_(batch) {}

  // A person for one record: `uid` (from "id") if given, and each of `ids`
  // as a key of its type; an ID of type `uid` is the uid (and must agree
  // with "id"). `hash`: the IDs of hashed types are plain values, normalised
  // and digested here. Returns the problem -- naming the type and the
  // reason, never the ID -- or nullopt with `out` naming the new person.
  [[nodiscard]] std::optional<std::string> add(std::optional<UserId> uid, std::span<const NamedId> ids, bool hash,
                                               WriteBatch::PersonRef& out);

 private:
  struct Space {
    std::string_view name;
    const DefinedIdType* type;
    uint32_t local;  // in the batch
  };
  [[nodiscard]] const Space* space(std::string_view name);

  const IdTypes& types_;
  WriteBatch& batch_;
  std::vector<Space> spaces_;  // looked up so far
  EncodedId scratch_;
  std::string keys_;                       // this record's keys, back to back
  std::vector<std::pair<uint32_t, std::size_t>> key_ends_;  // (local space, end in keys_)
};

}  // namespace crowd::identity
