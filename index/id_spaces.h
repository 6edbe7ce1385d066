// IdSpaces: the ID spaces one IndexView knows, by name (issue 15).
//
// The set is immutable once published: defining a space makes a new IdSpaces
// that shares every old space. The spaces themselves are shared by every
// view, like the UserTable: the writer (under the store's writer lock) links
// and unlinks keys in place, readers find keys without locks (id_space.h).
// So a reader may find a key linked after its view was made; it bounds what
// it finds by its view (IndexView::owner: ordinals below the view's count and
// in its universe).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "index/id_space.h"

namespace crowd {

class IdSpaces {
 public:
  struct Named {
    std::string name;
    std::shared_ptr<IdSpace> space;
  };

  // The space called `name`, null if there is none. O(log spaces).
  [[nodiscard]] const IdSpace* find(std::string_view name) const { return find_mutable(name); }
  // Writer side (the store's writer lock): the same space, to link keys in.
  [[nodiscard]] IdSpace* find_mutable(std::string_view name) const;
  // A copy with a new empty space `name` of `key_bytes` (0: variable);
  // `name` must not exist yet.
  [[nodiscard]] std::shared_ptr<const IdSpaces> with(std::string_view name, std::size_t key_bytes) const;
  // A copy with these spaces added (snapshot restore); names must be new and distinct.
  [[nodiscard]] std::shared_ptr<const IdSpaces> with(std::vector<Named> added) const;

  // In byte order of names.
  [[nodiscard]] const std::vector<Named>& all() const { return spaces_; }
  [[nodiscard]] bool empty() const { return spaces_.empty(); }
  // Bytes held by every space (IdSpace::memory_bytes). Any thread.
  [[nodiscard]] std::size_t memory_bytes() const;

 private:
  std::vector<Named> spaces_;
};

}  // namespace crowd
