#include "index/id_spaces.h"

#include <algorithm>

namespace crowd {
namespace {

bool by_name(const IdSpaces::Named& a, std::string_view b) { return a.name < b; }

}  // namespace

IdSpace* IdSpaces::find_mutable(std::string_view name) const {
  const auto it = std::lower_bound(spaces_.begin(), spaces_.end(), name, by_name);
  return it != spaces_.end() && it->name == name ? it->space.get() : nullptr;
}

std::shared_ptr<const IdSpaces> IdSpaces::with(std::string_view name, std::size_t key_bytes) const {
  std::vector<Named> added;
  added.push_back(Named{std::string(name), std::make_shared<IdSpace>(key_bytes)});
  return with(std::move(added));
}

std::shared_ptr<const IdSpaces> IdSpaces::with(std::vector<Named> added) const {
  auto next = std::make_shared<IdSpaces>(*this);
  for (auto& n : added) next->spaces_.push_back(std::move(n));
  std::sort(next->spaces_.begin(), next->spaces_.end(), [](const Named& a, const Named& b) { return a.name < b.name; });
  return next;
}

std::size_t IdSpaces::memory_bytes() const {
  std::size_t bytes = 0;
  for (const auto& n : spaces_) bytes += n.space->memory_bytes();
  return bytes;
}

}  // namespace crowd
