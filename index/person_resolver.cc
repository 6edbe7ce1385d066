#include "index/person_resolver.h"

#include <algorithm>
#include <functional>
#include <utility>

#include <boost/unordered/unordered_flat_map.hpp>

#include "index/system_tags.h"

namespace crowd {
namespace {

using Kind = WriteBatch::Kind;

struct SpaceKey {
  uint32_t space;
  std::string_view key;
  friend bool operator==(const SpaceKey&, const SpaceKey&) = default;
};
struct SpaceKeyHash {
  std::size_t operator()(const SpaceKey& k) const {
    return std::hash<std::string_view>{}(k.key) ^ (std::size_t{k.space} * 0x9E3779B97F4A7C15ULL);
  }
};

// "its IDs belong to 2 different users (its uid, oaid, phone_sha256)": the
// types it named, never the IDs (personal data, and the answer may be logged).
std::string conflict_message(const WriteBatch& batch, const WriteBatch::Person& person, std::size_t users) {
  std::string out = "its IDs belong to " + std::to_string(users) + " different users (";
  std::vector<uint32_t> spaces;
  for (const auto& k : batch.keys_of(person)) spaces.push_back(k.space);
  std::sort(spaces.begin(), spaces.end());
  spaces.erase(std::unique(spaces.begin(), spaces.end()), spaces.end());
  bool first = true;
  if (person.has_uid) {
    out += "uid";
    first = false;
  }
  for (const uint32_t s : spaces) {
    if (!first) out += ", ";
    out += batch.spaces()[s];
    first = false;
  }
  return out + ")";
}

// An ID type, once defined, keeps its definition: its keys mean what it says.
bool plan_id_types(const WriteBatch& batch, const IndexView& view, PersonRefusal& refusal) {
  const std::string prefix = system_tags::id_type_prefix();
  for (const auto& op : batch.ops()) {
    if (op.kind != Kind::kSetEntry) continue;
    const auto& entry = batch.entries()[static_cast<std::size_t>(op.value)];
    if (!entry.key.starts_with(prefix)) continue;
    const auto it = view.entries().find(entry.key);
    if (it != view.entries().end() && it->second != entry.text) {
      refusal.why = "ID type '" + entry.key.substr(prefix.size()) + "' is already defined differently";
      return false;
    }
  }
  return true;
}

bool plan_spaces(const WriteBatch& batch, const IdSpaces& spaces, PersonPlan& plan, PersonRefusal& refusal) {
  const auto& names = batch.spaces();
  plan.spaces.assign(names.size(), nullptr);
  plan.defines.assign(names.size(), -1);
  for (std::size_t s = 0; s < names.size(); ++s) plan.spaces[s] = spaces.find_mutable(names[s]);
  for (const auto& op : batch.ops()) {
    if (op.kind != Kind::kDefineSpace) continue;
    const auto s = static_cast<std::size_t>(op.user);
    const auto width = static_cast<int>(op.value);
    const int has = plan.spaces[s] != nullptr ? static_cast<int>(plan.spaces[s]->key_bytes()) : plan.defines[s];
    if (has >= 0 && has != width) {
      refusal.why = "ID space '" + names[s] + "' exists with keys of " + std::to_string(has) +
                    " bytes (0: variable), not " + std::to_string(width);
      return false;
    }
    if (plan.spaces[s] == nullptr) plan.defines[s] = width;
  }
  return true;
}

}  // namespace

bool plan_persons(const WriteBatch& batch, const IndexView& view, const UserTable& users, PersonPlan& plan,
                  PersonRefusal& refusal) {
  plan = PersonPlan();
  refusal = PersonRefusal();
  if (!plan_spaces(batch, view.id_spaces(), plan, refusal) || !plan_id_types(batch, view, refusal)) return false;
  const Bitmap& uidless = view.uidless().bits;
  const auto& persons = batch.persons();
  if (persons.empty()) return true;

  std::vector<bool> creates(persons.size(), false);
  for (const auto& op : batch.ops()) {
    if (op.person != WriteBatch::kNoPerson && (op.kind == Kind::kAdd || op.kind == Kind::kSetValue) &&
        !persons[op.person].existing_only) {
      creates[op.person] = true;
    }
  }
  // Links and uids the batch's earlier persons make, and the uid each
  // target has after them (0 with has_uid false: none).
  boost::unordered_flat_map<SpaceKey, uint64_t, SpaceKeyHash> linked;
  boost::unordered_flat_map<UserId, uint64_t> uid_linked;
  boost::unordered_flat_map<uint64_t, bool> target_has_uid;
  auto has_uid = [&](uint64_t target) {
    if (const auto it = target_has_uid.find(target); it != target_has_uid.end()) return it->second;
    return target < PersonPlan::kFresh && !uidless.contains(static_cast<uint32_t>(target));
  };

  plan.targets.assign(persons.size(), PersonPlan::kNobody);
  plan.gives_uid.assign(persons.size(), false);
  std::vector<uint64_t> candidates;
  for (uint32_t p = 0; p < persons.size(); ++p) {
    const auto& person = persons[p];
    candidates.clear();
    bool uid_known = false;
    if (person.has_uid) {
      if (const auto it = uid_linked.find(person.uid); it != uid_linked.end()) {
        candidates.push_back(it->second);
        uid_known = true;
      } else if (const auto o = users.find(person.uid)) {
        candidates.push_back(*o);
        uid_known = true;
      }
    }
    for (const auto& k : batch.keys_of(person)) {
      const IdSpace* space = plan.spaces[k.space];
      const std::string_view key = batch.key(k);
      const int width = space != nullptr ? static_cast<int>(space->key_bytes()) : plan.defines[k.space];
      if (width < 0) {
        refusal = {p, "unknown ID space '" + batch.spaces()[k.space] + "'"};
        return false;
      }
      if (width > 0 ? key.size() != static_cast<std::size_t>(width)
                    : key.empty() || key.size() > WriteBatch::kMaxKeyBytes) {
        refusal = {p, "a key of " + std::to_string(key.size()) + " bytes in ID space '" +
                          batch.spaces()[k.space] + "'"};
        return false;
      }
      if (const auto it = linked.find(SpaceKey{k.space, key}); it != linked.end()) {
        candidates.push_back(it->second);
      } else if (space != nullptr) {
        if (const auto o = space->find(key)) candidates.push_back(*o);
      }
    }
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    if (candidates.size() > 1) {
      refusal = {p, conflict_message(batch, person, candidates.size())};
      return false;
    }
    uint64_t target = PersonPlan::kNobody;
    if (candidates.size() == 1) {
      target = candidates[0];
      if (person.has_uid && !uid_known) {
        if (has_uid(target)) {
          refusal = {p, "its IDs belong to a user with another uid"};
          return false;
        }
        plan.gives_uid[p] = true;
      }
    } else if (creates[p]) {
      target = PersonPlan::kFresh + plan.fresh++;
    } else {
      continue;  // nobody: a remove, erase or clear of someone unknown
    }
    plan.targets[p] = target;
    if (person.has_uid) {
      uid_linked[person.uid] = target;
      target_has_uid[target] = true;
    } else if (target >= PersonPlan::kFresh && !target_has_uid.contains(target)) {
      target_has_uid[target] = false;
    }
    for (const auto& k : batch.keys_of(person)) linked.emplace(SpaceKey{k.space, batch.key(k)}, target);
  }
  for (const auto& op : batch.ops()) {
    if (op.kind != Kind::kMerge) continue;
    const uint64_t from = plan.targets[op.person];
    const uint64_t into = plan.targets[static_cast<std::size_t>(op.value)];
    if (from == PersonPlan::kNobody || into == PersonPlan::kNobody || from == into) continue;
    if (has_uid(from) && has_uid(into)) {
      refusal = {op.person, "both users have a uid, and a user has one: erase one of them instead"};
      return false;
    }
  }
  return true;
}

}  // namespace crowd
