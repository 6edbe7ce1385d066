#include "identity/person_writer.h"

#include <charconv>

namespace crowd::identity {
namespace {

std::string problem_with(std::string_view type, std::string_view why) {
  std::string out("ids.");
  out.append(type).append(": ").append(why);
  return out;
}

}  // namespace

const PersonWriter::Space* PersonWriter::space(std::string_view name) {
  for (const auto& s : spaces_) {
    if (s.name == name) return &s;
  }
  const DefinedIdType* type = types_.find(name);
  if (type == nullptr || type->space == nullptr) return nullptr;
  spaces_.push_back(Space{type->type.name, type, batch_.intern_space(type->type.name)});
  return &spaces_.back();
}

std::optional<std::string> PersonWriter::add(std::optional<UserId> uid, std::span<const NamedId> ids, bool hash,
                                             WriteBatch::PersonRef& out) {
  keys_.clear();
  key_ends_.clear();
  for (const auto& id : ids) {
    if (id.type == kBuiltInUid) {
      UserId parsed = 0;
      const auto [end, ec] = std::from_chars(id.text.data(), id.text.data() + id.text.size(), parsed);
      if (ec != std::errc() || end != id.text.data() + id.text.size() || id.text.empty()) {
        return problem_with(id.type, "must be an unsigned 64-bit decimal integer");
      }
      if (uid && *uid != parsed) return problem_with(id.type, "differs from \"id\" (a user has one uid)");
      uid = parsed;
      continue;
    }
    const Space* s = space(id.type);
    if (s == nullptr) {
      std::string message("ids: unknown ID type '");
      return message.append(id.type).append("' (GET /v1/id-types lists them)");
    }
    const IdType& type = s->type->type;
    encode_id_into(type, id.text, hash && is_hashed(type.kind), scratch_);
    if (!scratch_.ok()) return problem_with(id.type, scratch_.error);
    keys_ += scratch_.key;
    key_ends_.emplace_back(s->local, keys_.size());
  }
  out = batch_.add_person(uid);
  std::size_t begin = 0;
  for (const auto& [local, end] : key_ends_) {
    batch_.add_person_key(local, std::string_view(keys_).substr(begin, end - begin));
    begin = end;
  }
  return std::nullopt;
}

}  // namespace crowd::identity
