// NaiveModel: the index as plain per-user sets of tag strings, evaluating a
// query user by user. The reference the real evaluator is checked against:
// it shares nothing with Roaring, the dictionary, resolution or rewrites —
// only the Ast type, which it walks itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "index/ids.h"
#include "query/ast.h"

namespace crowd::test {

class NaiveModel {
 public:
  // Mirrors WriteBatch semantics: add() puts the user in the universe (an
  // erased user comes back with only the new tags) and makes the tag known;
  // remove() of an absent user or tag does nothing; erase() drops the user
  // from every tag and from the universe.
  void add(UserId user, std::string_view tag);
  void touch(UserId user);  // add with no tags
  void remove(UserId user, std::string_view tag);
  void erase(UserId user);

  // A tag is known once added, even if no user holds it any more (the
  // dictionary never forgets a name).
  [[nodiscard]] bool knows_tag(std::string_view tag) const { return numbers_.contains(std::string(tag)); }
  [[nodiscard]] bool prefix_matches(std::string_view prefix) const;
  [[nodiscard]] const std::vector<std::string>& tags() const { return tags_; }
  [[nodiscard]] std::size_t universe_size() const;
  [[nodiscard]] std::size_t holders(std::string_view tag) const;

  // External IDs (sorted) of the users for whom the query holds. Unknown
  // tags and prefixes matching nothing are empty sets (lenient semantics).
  // Supports tags, prefixes, ALL, NOT, AND, OR.
  [[nodiscard]] std::vector<UserId> evaluate(const query::Ast& ast) const;

  // Position of the leftmost unknown tag or prefix matching nothing.
  [[nodiscard]] std::optional<std::size_t> first_unknown(const query::Ast& ast) const;

 private:
  struct User {
    UserId id;
    bool alive;
    std::vector<bool> has;  // by model tag number; shorter means false
  };
  // The query with names replaced by model tag numbers.
  struct Predicate {
    query::AstKind kind;
    std::vector<uint32_t> tags;  // kTag: 0 or 1 entries; kPrefix: every match
    std::vector<Predicate> children;
  };
  [[nodiscard]] Predicate compile(const query::AstNode& node) const;
  [[nodiscard]] static bool holds(const Predicate& p, const User& u);
  uint32_t number(std::string_view tag);
  User& user(UserId id);

  std::vector<std::string> tags_;
  std::map<std::string, uint32_t> numbers_;
  std::vector<User> users_;
  std::unordered_map<UserId, std::size_t> slots_;
};

}  // namespace crowd::test
