#include "tests/support/naive_model.h"

#include <algorithm>
#include <stdexcept>

namespace crowd::test {

uint32_t NaiveModel::number(std::string_view tag) {
  const auto [it, inserted] = numbers_.emplace(std::string(tag), static_cast<uint32_t>(tags_.size()));
  if (inserted) tags_.emplace_back(tag);
  return it->second;
}

NaiveModel::User& NaiveModel::user(UserId id) {
  const auto [it, inserted] = slots_.emplace(id, users_.size());
  if (inserted) users_.push_back(User{id, true, {}});
  User& u = users_[it->second];
  if (!u.alive) {
    u.alive = true;
    u.has.clear();
  }
  return u;
}

void NaiveModel::touch(UserId id) { (void)user(id); }

void NaiveModel::add(UserId id, std::string_view tag) {
  const uint32_t t = number(tag);
  User& u = user(id);
  if (u.has.size() <= t) u.has.resize(t + 1, false);
  u.has[t] = true;
}

void NaiveModel::remove(UserId id, std::string_view tag) {
  const auto slot = slots_.find(id);
  const auto t = numbers_.find(std::string(tag));
  if (slot == slots_.end() || t == numbers_.end()) return;
  User& u = users_[slot->second];
  if (u.alive && t->second < u.has.size()) u.has[t->second] = false;
}

void NaiveModel::erase(UserId id) {
  const auto slot = slots_.find(id);
  if (slot == slots_.end()) return;
  users_[slot->second].alive = false;
  users_[slot->second].has.clear();
}

bool NaiveModel::prefix_matches(std::string_view prefix) const {
  return std::any_of(tags_.begin(), tags_.end(), [&](const std::string& t) { return t.starts_with(prefix); });
}

std::size_t NaiveModel::universe_size() const {
  return static_cast<std::size_t>(std::count_if(users_.begin(), users_.end(), [](const User& u) { return u.alive; }));
}

std::size_t NaiveModel::holders(std::string_view tag) const {
  const auto t = numbers_.find(std::string(tag));
  if (t == numbers_.end()) return 0;
  return static_cast<std::size_t>(std::count_if(users_.begin(), users_.end(), [&](const User& u) {
    return u.alive && t->second < u.has.size() && u.has[t->second];
  }));
}

NaiveModel::Predicate NaiveModel::compile(const query::AstNode& node) const {
  Predicate p{node.kind, {}, {}};
  switch (node.kind) {
    case query::AstKind::kTag:
      if (const auto it = numbers_.find(node.text); it != numbers_.end()) p.tags.push_back(it->second);
      break;
    case query::AstKind::kPrefix:
      for (uint32_t t = 0; t < tags_.size(); ++t) {
        if (tags_[t].starts_with(node.text)) p.tags.push_back(t);
      }
      break;
    case query::AstKind::kAll:
      break;
    case query::AstKind::kNot:
    case query::AstKind::kAnd:
    case query::AstKind::kOr:
      for (const auto& c : node.children) p.children.push_back(compile(c));
      break;
    default:
      throw std::invalid_argument("NaiveModel: unsupported query form");
  }
  return p;
}

bool NaiveModel::holds(const Predicate& p, const User& u) {
  switch (p.kind) {
    case query::AstKind::kTag:
    case query::AstKind::kPrefix:
      return std::any_of(p.tags.begin(), p.tags.end(), [&](uint32_t t) { return t < u.has.size() && u.has[t]; });
    case query::AstKind::kAll:
      return true;
    case query::AstKind::kNot:
      return !holds(p.children.front(), u);
    case query::AstKind::kAnd:
      return std::all_of(p.children.begin(), p.children.end(), [&](const Predicate& c) { return holds(c, u); });
    case query::AstKind::kOr:
      return std::any_of(p.children.begin(), p.children.end(), [&](const Predicate& c) { return holds(c, u); });
    default:
      return false;
  }
}

std::vector<UserId> NaiveModel::evaluate(const query::Ast& ast) const {
  const Predicate p = compile(ast);
  std::vector<UserId> out;
  for (const User& u : users_) {
    if (u.alive && holds(p, u)) out.push_back(u.id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::size_t> NaiveModel::first_unknown(const query::Ast& ast) const {
  std::optional<std::size_t> best;
  const auto visit = [&](const auto& self, const query::AstNode& n) -> void {
    const bool unknown = (n.kind == query::AstKind::kTag && !knows_tag(n.text)) ||
                         (n.kind == query::AstKind::kPrefix && !prefix_matches(n.text));
    if (unknown && (!best || n.position < *best)) best = n.position;
    for (const auto& c : n.children) self(self, c);
  };
  visit(visit, ast);
  return best;
}

}  // namespace crowd::test
