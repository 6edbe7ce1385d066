#include "index/apply_batch.h"

#include <algorithm>
#include <optional>
#include <string>

#include "index/system_tags.h"

namespace crowd {
namespace {

using Kind = WriteBatch::Kind;

bool is_tag_op(const WriteBatch::Op& op) {
  return op.kind == Kind::kAdd || op.kind == Kind::kRemove || op.kind == Kind::kErase || op.kind == Kind::kClearTag ||
         op.kind == Kind::kReplaceTag || op.kind == Kind::kMerge;
}

bool is_value_op(const WriteBatch::Op& op) { return op.kind == Kind::kSetValue || op.kind == Kind::kClearValue; }

std::shared_ptr<const TagBits> make_bits(Bitmap b) { return std::make_shared<const TagBits>(std::move(b)); }

}  // namespace

ApplyBatch::ApplyBatch(const IndexView::Parts& old, std::shared_ptr<UserTable> users)
    : old_(old), users_(std::move(users)), dictionary_(old.dictionary), spaces_(old.spaces), entries_(old.entries) {}

bool ApplyBatch::apply(const WriteBatch& batch, const PersonPlan& plan, WriteResult& result) {
  batch_ = &batch;
  plan_ = &plan;
  result_ = WriteResult();
  exclusive_prefixes_.clear();  // this batch's, found by find_exclusive()
  if (!apply_identity()) return false;
  resolve_tags();
  find_exclusive();
  const auto& ops = batch.ops();
  const bool adds_only = std::all_of(ops.begin(), ops.end(), [](const WriteBatch::Op& op) {
    return op.kind == Kind::kAdd || !is_tag_op(op);
  });
  if (!(adds_only ? apply_adds() : apply_tag_ops())) return false;
  if (!apply_values()) return false;
  apply_entries();
  result = result_;
  return true;
}

// Spaces the batch defines, then each person's user: the plan's existing
// ordinal, or a new one (the k-th new user is made by the first person that
// names it, with that person's uid if it has one); uids given to users that
// had none; and every key linked. Ordinals are handed out here, before any
// op, in person order, so replay hands out the same ones.
bool ApplyBatch::apply_identity() {
  const auto& names = batch_->spaces();
  std::vector<IdSpace*> spaces = plan_->spaces;
  for (std::size_t s = 0; s < names.size(); ++s) {
    if (plan_->defines[s] < 0 || spaces[s] != nullptr) continue;
    spaces_ = spaces_->with(names[s], static_cast<std::size_t>(plan_->defines[s]));
    spaces[s] = spaces_->find_mutable(names[s]);
  }
  const auto& persons = batch_->persons();
  person_ordinals_.assign(persons.size(), std::nullopt);
  std::vector<std::optional<Ordinal>> fresh(plan_->fresh);
  for (std::size_t p = 0; p < persons.size(); ++p) {
    const uint64_t target = plan_->targets[p];
    if (target == PersonPlan::kNobody) continue;
    const auto& person = persons[p];
    std::optional<Ordinal> ordinal;
    if (target < PersonPlan::kFresh) {
      ordinal = static_cast<Ordinal>(target);
    } else if (auto& made = fresh[target - PersonPlan::kFresh]; made) {
      ordinal = made;
    } else {
      made = person.has_uid ? users_->find_or_add(person.uid) : users_->add_uidless();
      if (!made) return false;
      if (!person.has_uid) touch_uidless().add(*made);
      ordinal = made;
    }
    if (plan_->gives_uid[p]) {
      users_->assign(*ordinal, person.uid);
      if (uidless_now().contains(*ordinal)) touch_uidless().remove(*ordinal);
    }
    person_ordinals_[p] = ordinal;
    for (const auto& k : batch_->keys_of(person)) {
      IdSpace& space = *spaces[k.space];
      const std::size_t before = space.size();
      (void)space.link(batch_->key(k), *ordinal);  // the plan checked owner and length
      result_.linked += space.size() - before;
    }
  }
  return true;
}

bool ApplyBatch::skipped(const WriteBatch::Op& op) const {
  return op.person != WriteBatch::kNoPerson && !person_ordinals_[op.person] &&
         batch_->persons()[op.person].existing_only;
}

std::optional<Ordinal> ApplyBatch::writes_to(const WriteBatch::Op& op) {
  if (op.person != WriteBatch::kNoPerson) return person_ordinals_[op.person];
  return users_->find_or_add(op.user);
}

std::optional<Ordinal> ApplyBatch::reads(const WriteBatch::Op& op) const {
  if (op.person != WriteBatch::kNoPerson) return person_ordinals_[op.person];
  return users_->find(op.user);
}

// Which batch-local names are tags an op may create (adds, replacements;
// removing an unknown tag is a no-op, not a new empty tag) and which are
// attributes, with the bit slices their new values set.
void ApplyBatch::resolve_tags() {
  const auto& names = batch_->names();
  const auto& ops = batch_->ops();
  const TagDictionary& old_dictionary = *dictionary_;  // as the batches before this one left it
  std::vector<bool> creates(names.size(), false);
  std::vector<bool> is_attribute(names.size(), false);
  std::vector<uint64_t> attribute_bits(names.size(), 0);
  for (const auto& op : ops) {
    const auto refs = batch_->tags_of(op);
    switch (op.kind) {
      case Kind::kAdd:
      case Kind::kReplaceTag:
        for (const uint32_t t : refs) creates[t] = true;
        break;
      case Kind::kSetValue:
        is_attribute[refs[0]] = true;
        attribute_bits[refs[0]] |= system_tags::to_offset_binary(op.value);
        break;
      case Kind::kClearValue:
        is_attribute[refs[0]] = true;
        break;
      default:
        break;
    }
  }
  resolved_.assign(names.size(), kNoTag);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (const auto id = old_dictionary.find(names[i])) resolved_[i] = *id;
  }
  // New tags get ids in order of the ops that first create them, so that
  // replaying concatenated log records hands out the same ids (store.cc).
  std::vector<std::string> created;
  for (const auto& op : ops) {
    if (op.kind != Kind::kAdd && op.kind != Kind::kReplaceTag) continue;
    for (const uint32_t t : batch_->tags_of(op)) {
      if (resolved_[t] == kNoTag && creates[t]) {
        creates[t] = false;  // listed once
        created.push_back(names[t]);
      }
    }
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!is_attribute[i]) continue;
    // An attribute's "has a value" tag and the slices its values set a bit in.
    if (attribute_bits[i] != 0 || !old_dictionary.find(system_tags::attribute(names[i], -1))) {
      for (int b = -1; b < system_tags::kValueBits; ++b) {
        if (b >= 0 && (attribute_bits[i] >> b & 1) == 0) continue;
        auto name = system_tags::attribute(names[i], b);
        if (!old_dictionary.find(name)) created.push_back(std::move(name));
      }
    }
  }
  if (created.empty()) return;
  dictionary_ = dictionary_->with_added(created);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (resolved_[i] == kNoTag) {
      if (const auto id = dictionary_->find(names[i])) resolved_[i] = *id;
    }
  }
}

void ApplyBatch::find_exclusive() {
  exclusive_of_.assign(batch_->names().size(), kNotExclusive);
  const auto& entries = *entries_;
  // No exclusive field at all (the common case): one lookup for the batch.
  const std::string prefix_of_all = system_tags::exclusive_field_prefix();
  const auto first = entries.lower_bound(prefix_of_all);
  if (first == entries.end() || !first->first.starts_with(prefix_of_all)) return;
  const auto& names = batch_->names();
  for (std::size_t t = 0; t < names.size(); ++t) {
    const std::string_view name = names[t];
    const auto colon = name.find(':');
    if (colon == std::string_view::npos || system_tags::is_system(name)) continue;
    const std::string_view field = name.substr(0, colon);
    if (!entries.contains(system_tags::exclusive_field(field))) continue;
    std::string prefix(name.substr(0, colon + 1));
    const auto known = std::find(exclusive_prefixes_.begin(), exclusive_prefixes_.end(), prefix);
    exclusive_of_[t] = static_cast<uint32_t>(known - exclusive_prefixes_.begin());
    if (known == exclusive_prefixes_.end()) exclusive_prefixes_.push_back(std::move(prefix));
  }
}

void ApplyBatch::leave_other_values(uint32_t field, TagId keep, Ordinal o) {
  for (const TagId id : dictionary_->with_prefix(exclusive_prefixes_[field])) {
    if (id != keep && current(id).contains(o)) {
      touch(id).remove(o);
      ++result_.removed;
    }
  }
}

// Ingest: every tag op adds. Group the pairs by tag (a counting sort over
// the batch's own names, which are distinct, so a small batch costs nothing
// per tag in the index) and set each tag's ordinals with one add_many,
// counting what is new from the cardinality before and after: a few ns a
// pair instead of a contains() and an add() (two binary searches, ~0.1 us
// each). Order does not matter when nothing is removed.
bool ApplyBatch::apply_adds() {
  const auto& ops = batch_->ops();
  const std::size_t name_count = batch_->names().size();
  std::vector<uint32_t> ordinals;  // of the kAdd ops, in order
  ordinals.reserve(ops.size());
  std::vector<std::size_t> starts(name_count + 1, 0);
  for (const auto& op : ops) {
    if (op.kind != Kind::kAdd || skipped(op)) continue;
    const auto ordinal = writes_to(op);
    if (!ordinal) return false;
    ordinals.push_back(*ordinal);
    for (const uint32_t t : batch_->tags_of(op)) ++starts[t + 1];
  }
  for (std::size_t t = 0; t < name_count; ++t) starts[t + 1] += starts[t];
  // Exclusive fields: each user keeps the last value the batch gives it.
  boost::unordered_flat_map<uint64_t, uint32_t> last_value;  // (field, ordinal) -> batch-local name
  if (!exclusive_prefixes_.empty()) {
    std::size_t k = 0;
    for (const auto& op : ops) {
      if (op.kind != Kind::kAdd || skipped(op)) continue;
      for (const uint32_t t : batch_->tags_of(op)) {
        if (exclusive_of_[t] != kNotExclusive) last_value[uint64_t{exclusive_of_[t]} << 32 | ordinals[k]] = t;
      }
      ++k;
    }
  }
  const auto kept = [&](uint32_t t, uint32_t o) {
    return exclusive_of_.empty() || exclusive_of_[t] == kNotExclusive ||
           last_value.at(uint64_t{exclusive_of_[t]} << 32 | o) == t;
  };
  std::vector<uint32_t> by_tag(starts[name_count]);
  std::vector<std::size_t> next(starts.begin(), starts.end() - 1);
  std::size_t i = 0;
  for (const auto& op : ops) {
    if (op.kind != Kind::kAdd || skipped(op)) continue;  // the same ops as the first pass
    for (const uint32_t t : batch_->tags_of(op)) {
      if (kept(t, ordinals[i])) by_tag[next[t]++] = ordinals[i];
    }
    ++i;
  }
  // Then each value of an exclusive field loses the batch's users that get
  // another one: one AND of the tag with the field's users a tag.
  for (uint32_t f = 0; f < exclusive_prefixes_.size(); ++f) {
    Bitmap assigned;
    for (const auto& [key, t] : last_value) {
      if (key >> 32 == f) assigned.add(static_cast<uint32_t>(key));
    }
    for (const TagId id : dictionary_->with_prefix(exclusive_prefixes_[f])) {
      Bitmap holders(roaring_bitmap_and(current(id).get(), assigned.get()));
      std::vector<uint32_t> removes;
      roaring_uint32_iterator_t it;
      roaring_init_iterator(holders.get(), &it);
      for (; it.has_value; roaring_advance_uint32_iterator(&it)) {
        if (resolved_[last_value.at(uint64_t{f} << 32 | it.current_value)] != id) removes.push_back(it.current_value);
      }
      if (removes.empty()) continue;
      update_members(id, {}, removes);
      if (counted(id)) result_.removed += removes.size();
    }
  }
  for (std::size_t t = 0; t < name_count; ++t) {
    const std::size_t n = next[t] - starts[t];
    if (n == 0) continue;
    const TagId id = resolved_[t];
    const std::span<const uint32_t> members(by_tag.data() + starts[t], n);
    const uint64_t before = current(id).cardinality();
    // Re-ingesting known pairs must not copy the tag: look first when few.
    if (n <= 64 && std::all_of(members.begin(), members.end(), [&](uint32_t o) { return current(id).contains(o); })) {
      continue;
    }
    const bool copied_here = !working_.contains(id);
    Bitmap& bits = touch(id);
    bits.add_many(members);
    const uint64_t after = bits.cardinality();
    if (after == before && copied_here) {  // nothing new after all: publish the old bitmap
      working_.erase(id);
      touched_.pop_back();
    }
    if (counted(id)) result_.added += after - before;
  }
  // The universe is copied only when a user is new to it (a re-ingest of
  // known users must not copy 1.25 MB at 10M users).
  const Bitmap& members = universe_now();
  if (!std::all_of(ordinals.begin(), ordinals.end(), [&](uint32_t o) { return members.contains(o); })) {
    touch_universe().add_many(ordinals);
  }
  result_.users = ordinals.size();
  return true;
}

bool ApplyBatch::apply_tag_ops() {
  const std::size_t tag_count = dictionary_->size();
  for (const auto& op : batch_->ops()) {
    if (!is_tag_op(op)) continue;
    switch (op.kind) {
      case Kind::kAdd: {
        if (skipped(op)) break;
        ++result_.users;
        const auto ordinal = writes_to(op);
        if (!ordinal) return false;
        if (!universe_now().contains(*ordinal)) touch_universe().add(*ordinal);
        for (const uint32_t t : batch_->tags_of(op)) {
          const TagId id = resolved_[t];
          if (exclusive_of_[t] != kNotExclusive) leave_other_values(exclusive_of_[t], id, *ordinal);
          if (!current(id).contains(*ordinal)) {
            touch(id).add(*ordinal);
            if (counted(id)) ++result_.added;
          }
        }
        break;
      }
      case Kind::kRemove: {
        ++result_.users;
        const auto ordinal = reads(op);
        if (!ordinal) break;
        for (const uint32_t t : batch_->tags_of(op)) {
          const TagId id = resolved_[t];
          if (id != kNoTag && current(id).contains(*ordinal)) {
            touch(id).remove(*ordinal);
            if (counted(id)) ++result_.removed;
          }
        }
        break;
      }
      case Kind::kErase: {
        ++result_.users;
        const auto ordinal = reads(op);
        if (!ordinal || !universe_now().contains(*ordinal)) break;
        erase_user(*ordinal);
        ++result_.erased;
        // Every tag is checked (saved crowds, values and day tags included):
        // O(tags) contains() calls, ~0.5 ms at 10,000 tags. Erasure is rare;
        // a per-user tag list would cost 4+ bytes per assignment forever to
        // speed it up.
        for (TagId id = 0; id < tag_count; ++id) {
          if (current(id).contains(*ordinal)) touch(id).remove(*ordinal);
        }
        break;
      }
      case Kind::kMerge: {
        ++result_.users;
        const auto from = person_ordinals_[op.person];
        const auto into = person_ordinals_[static_cast<std::size_t>(op.value)];
        if (!from || !into || *from == *into) break;
        if (!universe_now().contains(*from) || !universe_now().contains(*into)) break;
        merge_users(*from, *into);
        break;
      }
      case Kind::kClearTag: {
        const TagId id = resolved_[batch_->tags_of(op)[0]];
        if (id != kNoTag && !current(id).empty()) replace(id, Bitmap());
        break;
      }
      case Kind::kReplaceTag: {
        const TagId id = resolved_[batch_->tags_of(op)[0]];
        const Bitmap& wanted = *batch_->bitmaps()[static_cast<std::size_t>(op.value)];
        // Users deleted since the crowd was evaluated stay deleted.
        Bitmap bits(roaring_bitmap_and(wanted.get(), universe_now().get()));
        bits.optimize();
        replace(id, std::move(bits));
        break;
      }
      default:
        break;
    }
  }
  return true;
}

// The value operations of a batch, attribute by attribute: the last write
// of each user wins; then the "has a value" tag and each bit slice get their
// adds and removes in one add_many / remove_many each (system_tags.h).
// O(writes x 64) for the slices. False when the user table is full.
bool ApplyBatch::apply_values() {
  const auto& ops = batch_->ops();
  std::vector<uint32_t> attributes;  // batch-local names, in order of first use
  std::vector<bool> seen(batch_->names().size(), false);
  for (const auto& op : ops) {
    if (!is_value_op(op)) continue;
    const uint32_t a = batch_->tags_of(op)[0];
    if (!seen[a]) {
      seen[a] = true;
      attributes.push_back(a);
    }
  }
  struct Write {
    Ordinal ordinal;
    bool set;
    uint64_t bits;  // offset binary of the value
  };
  std::vector<Write> writes;
  std::vector<uint32_t> newcomers, set_ordinals, clear_ordinals, ones, zeros;
  std::vector<uint64_t> set_bits;
  for (const uint32_t a : attributes) {
    writes.clear();
    newcomers.clear();
    for (const auto& op : ops) {
      if (!is_value_op(op) || batch_->tags_of(op)[0] != a) continue;
      if (op.kind == Kind::kSetValue) {
        if (skipped(op)) continue;
        const auto ordinal = writes_to(op);
        if (!ordinal) return false;
        if (!universe_now().contains(*ordinal)) newcomers.push_back(*ordinal);
        writes.push_back(Write{*ordinal, true, system_tags::to_offset_binary(op.value)});
      } else if (const auto ordinal = reads(op)) {
        writes.push_back(Write{*ordinal, false, 0});
      }
    }
    if (!newcomers.empty()) touch_universe().add_many(newcomers);
    std::stable_sort(writes.begin(), writes.end(), [](const Write& x, const Write& y) { return x.ordinal < y.ordinal; });
    set_ordinals.clear();
    clear_ordinals.clear();
    set_bits.clear();
    uint64_t any_one = 0;
    for (std::size_t i = 0; i < writes.size(); ++i) {
      if (i + 1 < writes.size() && writes[i + 1].ordinal == writes[i].ordinal) continue;  // a later write wins
      if (writes[i].set) {
        set_ordinals.push_back(writes[i].ordinal);
        set_bits.push_back(writes[i].bits);
        any_one |= writes[i].bits;
      } else {
        clear_ordinals.push_back(writes[i].ordinal);
      }
    }
    const std::string& name = batch_->names()[a];
    update_members(*dictionary_->find(system_tags::attribute(name, -1)), set_ordinals, clear_ordinals);
    for (int b = 0; b < system_tags::kValueBits; ++b) {
      const auto slice = dictionary_->find(system_tags::attribute(name, b));
      if (!slice) continue;  // no user has this bit set, nor does the batch set it
      if ((any_one >> b & 1) == 0 && current(*slice).empty()) continue;
      ones.clear();
      zeros.assign(clear_ordinals.begin(), clear_ordinals.end());
      for (std::size_t k = 0; k < set_ordinals.size(); ++k) {
        ((set_bits[k] >> b & 1) != 0 ? ones : zeros).push_back(set_ordinals[k]);
      }
      update_members(*slice, ones, zeros);
    }
  }
  return true;
}

// The next view's parts: the old tags shared, the touched ones replaced.
void ApplyBatch::publish(IndexView::Parts& next) {
  next.dictionary = dictionary_;
  IndexView::Tags::Editor tags(old_.tags);
  while (tags.size() < dictionary_->size()) tags.push_back(make_bits(Bitmap()));
  next.bitmap_bytes = old_.bitmap_bytes;
  for (const TagId id : touched_) {
    if (id < old_.tags.size()) next.bitmap_bytes -= old_.tags[id]->bytes;
    auto bits = make_bits(std::move(*working_.at(id)));
    next.bitmap_bytes += bits->bytes;
    tags.set(id, std::move(bits));
  }
  next.tags = std::move(tags).finish();
  next.universe = universe_ ? make_bits(std::move(*universe_)) : old_.universe;
  next.users = users_;
  next.ordinal_count = users_->size();
  next.spaces = spaces_;
  next.uidless = uidless_ ? make_bits(std::move(*uidless_)) : old_.uidless;
  next.version = old_.version + 1;
  next.entries = entries_;
}

// The entries after the batch's entry operations (shared when it has none).
void ApplyBatch::apply_entries() {
  std::optional<IndexView::Entries::Editor> entries;
  for (const auto& op : batch_->ops()) {
    if (op.kind != Kind::kSetEntry && op.kind != Kind::kEraseEntry) continue;
    if (!entries) entries.emplace(entries_ ? *entries_ : IndexView::Entries{});
    const auto& e = batch_->entries()[static_cast<std::size_t>(op.value)];
    if (op.kind == Kind::kSetEntry) {
      entries->set(e.key, e.text);
    } else {
      entries->erase(e.key);
    }
  }
  if (entries) entries_ = std::make_shared<const IndexView::Entries>(std::move(*entries).finish());
}

const Bitmap& ApplyBatch::current(TagId id) const {
  if (const auto it = working_.find(id); it != working_.end()) return *it->second;
  return id < old_.tags.size() ? old_.tags[id]->bits : empty_;
}

Bitmap& ApplyBatch::touch(TagId id) {
  auto& slot = working_[id];
  if (!slot) {
    slot = std::make_unique<Bitmap>(id < old_.tags.size() ? old_.tags[id]->bits.clone() : Bitmap());
    touched_.push_back(id);
  }
  return *slot;
}

void ApplyBatch::replace(TagId id, Bitmap bits) {
  auto& slot = working_[id];
  if (!slot) touched_.push_back(id);
  slot = std::make_unique<Bitmap>(std::move(bits));
}

Bitmap& ApplyBatch::touch_uidless() {
  if (!uidless_) uidless_ = old_.uidless->bits.clone();
  return *uidless_;
}

// A returning uid gets a new ordinal (user_table.h); the user's other IDs
// are unlinked, so they too make a new user if they come back.
void ApplyBatch::erase_user(Ordinal o) {
  touch_universe().remove(o);
  if (uidless_now().contains(o)) {
    touch_uidless().remove(o);
  } else {
    (void)users_->forget(users_->external(o));
  }
  for (const auto& named : spaces_->all()) named.space->unlink_all(o);
}

// O(tags) contains() calls, like an erasure; an admin's rare act.
void ApplyBatch::merge_users(Ordinal from, Ordinal into) {
  const std::size_t tag_count = dictionary_->size();
  // Values: `into` keeps each of its own; `from`'s fill in the others. An
  // attribute's tags are all looked at by name, so decide per attribute
  // first, before its exists tag changes.
  std::vector<std::string_view> kept;  // attributes `into` has a value of
  for (TagId id = 0; id < tag_count; ++id) {
    if (!dictionary_->is_system(id)) continue;
    if (const auto a = system_tags::attribute_of_exists_tag(dictionary_->name(id)); a && current(id).contains(into)) {
      kept.push_back(*a);
    }
  }
  for (TagId id = 0; id < tag_count; ++id) {
    if (!current(id).contains(from)) continue;
    Bitmap& bits = touch(id);
    bits.remove(from);
    if (dictionary_->is_system(id)) {
      const auto a = system_tags::attribute_of_any(dictionary_->name(id));
      if (a && std::find(kept.begin(), kept.end(), *a) != kept.end()) continue;
    }
    if (!bits.contains(into)) {
      bits.add(into);
      if (counted(id)) ++result_.added;
    }
  }
  touch_universe().remove(from);
  // The uid: the plan refused two; `from`'s moves to an `into` without one.
  if (uidless_now().contains(from)) {
    touch_uidless().remove(from);
  } else {
    const UserId uid = users_->external(from);
    (void)users_->forget(uid);
    users_->assign(into, uid);
    if (uidless_now().contains(into)) touch_uidless().remove(into);
  }
  for (const auto& named : spaces_->all()) result_.linked += named.space->relink_all(from, into);
}

Bitmap& ApplyBatch::touch_universe() {
  if (!universe_) universe_ = old_.universe->bits.clone();
  return *universe_;
}

void ApplyBatch::update_members(TagId id, std::span<const uint32_t> adds, std::span<const uint32_t> removes) {
  const Bitmap& now = current(id);
  if (adds.empty() && now.empty()) return;
  // A value written again must not copy its slices: look first when few.
  if (adds.size() + removes.size() <= 64) {
    const bool changes = std::any_of(adds.begin(), adds.end(), [&](uint32_t o) { return !now.contains(o); }) ||
                         std::any_of(removes.begin(), removes.end(), [&](uint32_t o) { return now.contains(o); });
    if (!changes) return;
  }
  Bitmap& bits = touch(id);
  if (!adds.empty()) bits.add_many(adds);
  if (!removes.empty()) roaring_bitmap_remove_many(bits.get(), removes.size(), removes.data());
}

}  // namespace crowd
