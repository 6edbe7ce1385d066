// IdTypes: the ID types one IndexView defines, decoded from its metadata
// entries (WriteBatch::define_id_type), with each type's space.
//
// Taken per request: a handful of types, each decoded in well under a
// microsecond, and nothing to keep in step with the index. The built-in
// `uid` is not among them (it lives in the UserTable).
#pragma once

#include <string_view>
#include <vector>

#include "identity/id_type.h"
#include "index/index_view.h"

namespace crowd::identity {

struct DefinedIdType {
  IdType type;
  const IdSpace* space = nullptr;  // null only if the index lost it (never by its writers)
};

class IdTypes {
 public:
  // Every type `view` defines; a definition that does not decode (written by
  // a later version) is skipped. O(types).
  explicit IdTypes(const IndexView& view);

  // The type called `name`, null if none. O(types).
  [[nodiscard]] const DefinedIdType* find(std::string_view name) const;
  // In byte order of names.
  [[nodiscard]] const std::vector<DefinedIdType>& all() const { return types_; }

 private:
  std::vector<DefinedIdType> types_;
};

}  // namespace crowd::identity
