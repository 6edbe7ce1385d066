#include "identity/id_types.h"

#include "index/system_view.h"

namespace crowd::identity {

IdTypes::IdTypes(const IndexView& view) {
  for (const auto& [name, text] : view.system().id_types()) {
    auto type = decode_id_type(name, text);
    if (!type) continue;
    types_.push_back(DefinedIdType{std::move(*type), view.id_spaces().find(name)});
  }
}

const DefinedIdType* IdTypes::find(std::string_view name) const {
  for (const auto& t : types_) {
    if (t.type.name == name) return &t;
  }
  return nullptr;
}

}  // namespace crowd::identity
