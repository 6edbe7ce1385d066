// Which user each person of a WriteBatch is (issue 15), decided before
// anything is applied.
//
// Store::write runs this under the writer lock as a dry run, before the log
// append, so a batch that would link one person's IDs to two users is
// refused whole and never reaches the log; ApplyBatch runs the same function
// on the same state, so the two always agree, and replay decides as the
// first run did.
//
// Persons resolve in batch order. A person's candidates are the users its
// uid and its keys belong to -- in the index, or to a person earlier in the
// batch (its links are made first). None: a new user if an add or a value
// names the person (with the person's uid, or none), else nobody. One: that
// user; the person's new keys will be linked to it, and its uid given to it
// if it has none. A person marked existing_only is never a new user. Two or more, or a uid for a user that has another: the
// batch is refused.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "index/bitmap.h"
#include "index/id_spaces.h"
#include "index/index_view.h"
#include "index/user_table.h"
#include "index/write_batch.h"

namespace crowd {

struct PersonPlan {
  // A person's target: an existing ordinal (< 2^32), kFresh + k for the
  // batch's k-th new user, or kNobody.
  static constexpr uint64_t kFresh = uint64_t{1} << 32;
  static constexpr uint64_t kNobody = UINT64_MAX;
  std::vector<uint64_t> targets;  // by person
  // By person: the person's uid is new and goes to its target.
  std::vector<bool> gives_uid;
  uint32_t fresh = 0;  // new users the batch makes
  // By batch space: the index's space (null when the batch defines it).
  std::vector<IdSpace*> spaces;
  // By batch space: the key width the batch defines it with, or -1.
  std::vector<int> defines;
};

struct PersonRefusal {
  uint32_t person = 0;  // position in the batch (0-based); for spaces, 0
  std::string why;      // never contains a key
};

// Plans the batch's persons and space definitions against the index as it
// is (`view`, the current one, and `users`, its table). False with
// `refusal` when the batch must be refused: conflicting owners, a uid for a
// user that has another, a key of an unknown space or of the wrong length,
// a space defined with another width than it has, an ID type's definition
// (WriteBatch::define_id_type) other than the one it has. O(persons' keys),
// one hash probe a key. Writer lock held.
[[nodiscard]] bool plan_persons(const WriteBatch& batch, const IndexView& view, const UserTable& users,
                                PersonPlan& plan, PersonRefusal& refusal);

}  // namespace crowd
