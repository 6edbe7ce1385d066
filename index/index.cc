#include "index/index.h"

#include <algorithm>
#include <optional>
#include <span>

#include "index/system_tags.h"

namespace crowd {
namespace {

std::shared_ptr<const TagBits> make_bits(Bitmap b) { return std::make_shared<const TagBits>(std::move(b)); }

// Sets `adds` in and clears `removes` from a tag, copying it only when that
// changes something (a value written again must not copy its slices).
template <typename Current, typename Touch>
void update_members(TagId id, std::span<const uint32_t> adds, std::span<const uint32_t> removes, Current& current,
                    Touch& touch) {
  const Bitmap& now = current(id);
  if (adds.empty() && now.empty()) return;
  if (adds.size() + removes.size() <= 64) {
    const bool changes = std::any_of(adds.begin(), adds.end(), [&](uint32_t o) { return !now.contains(o); }) ||
                         std::any_of(removes.begin(), removes.end(), [&](uint32_t o) { return now.contains(o); });
    if (!changes) return;
  }
  Bitmap& bits = touch(id);
  if (!adds.empty()) bits.add_many(adds);
  if (!removes.empty()) roaring_bitmap_remove_many(bits.get(), removes.size(), removes.data());
}

// The value operations of a batch, attribute by attribute: the last write
// of each user wins; then the "has a value" tag and each bit slice get their
// adds and removes in one add_many / remove_many each (system_tags.h).
// O(writes x 64) for the slices. False when the user table is full.
template <typename Current, typename Touch, typename UniverseNow, typename TouchUniverse>
bool apply_values(const WriteBatch& batch, const TagDictionary& dictionary, UserTable& users, Current& current,
                  Touch& touch, UniverseNow& universe_now, TouchUniverse& touch_universe) {
  using Kind = WriteBatch::Kind;
  const auto& ops = batch.ops();
  const auto is_value_op = [](const WriteBatch::Op& op) {
    return op.kind == Kind::kSetValue || op.kind == Kind::kClearValue;
  };
  std::vector<uint32_t> attributes;  // batch-local names, in order of first use
  std::vector<bool> seen(batch.names().size(), false);
  for (const auto& op : ops) {
    if (!is_value_op(op)) continue;
    const uint32_t a = batch.tags_of(op)[0];
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
      if (!is_value_op(op) || batch.tags_of(op)[0] != a) continue;
      if (op.kind == Kind::kSetValue) {
        const auto ordinal = users.find_or_add(op.user);
        if (!ordinal) return false;
        if (!universe_now().contains(*ordinal)) newcomers.push_back(*ordinal);
        writes.push_back(Write{*ordinal, true, system_tags::to_offset_binary(op.value)});
      } else if (const auto ordinal = users.find(op.user)) {
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
    const std::string& name = batch.names()[a];
    update_members(*dictionary.find(system_tags::attribute(name, -1)), set_ordinals, clear_ordinals, current, touch);
    for (int b = 0; b < system_tags::kValueBits; ++b) {
      const auto slice = dictionary.find(system_tags::attribute(name, b));
      if (!slice) continue;  // no user has this bit set, nor does the batch set it
      if ((any_one >> b & 1) == 0 && current(*slice).empty()) continue;
      ones.clear();
      zeros.assign(clear_ordinals.begin(), clear_ordinals.end());
      for (std::size_t k = 0; k < set_ordinals.size(); ++k) {
        ((set_bits[k] >> b & 1) != 0 ? ones : zeros).push_back(set_ordinals[k]);
      }
      update_members(*slice, ones, zeros, current, touch);
    }
  }
  return true;
}

// The entries after the batch's entry operations (shared when it has none).
std::shared_ptr<const IndexView::Entries> apply_entries(const WriteBatch& batch,
                                                        std::shared_ptr<const IndexView::Entries> old) {
  std::shared_ptr<IndexView::Entries> next;
  for (const auto& op : batch.ops()) {
    if (op.kind != WriteBatch::Kind::kSetEntry && op.kind != WriteBatch::Kind::kEraseEntry) continue;
    if (!next) next = std::make_shared<IndexView::Entries>(old ? *old : IndexView::Entries{});
    const auto& e = batch.entries()[static_cast<std::size_t>(op.value)];
    if (op.kind == WriteBatch::Kind::kSetEntry) {
      (*next)[e.key] = e.text;
    } else {
      next->erase(e.key);
    }
  }
  if (!next) return old;
  return next;
}

// The newest day with a non-empty day tag. O(day tags).
std::optional<int64_t> scan_newest_day(const IndexView::Parts& parts) {
  std::optional<int64_t> newest;
  for (const TagId id : parts.dictionary->system_with_prefix(system_tags::day_prefix(""))) {
    if (parts.tags[id]->cardinality == 0) continue;
    const auto day = system_tags::day_of_any(parts.dictionary->name(id));
    if (day && (!newest || *day > *newest)) newest = day;
  }
  return newest;
}

// The newest day after a write that changed `touched`: O(touched) unless the
// newest day's tag was emptied (then a scan).
std::optional<int64_t> newest_day_after(std::optional<int64_t> newest, const IndexView::Parts& next,
                                        std::span<const TagId> touched) {
  bool rescan = false;
  for (const TagId id : touched) {
    if (!next.dictionary->is_system(id)) continue;
    const auto day = system_tags::day_of_any(next.dictionary->name(id));
    if (!day) continue;
    if (next.tags[id]->cardinality != 0) {
      if (!newest || *day > *newest) newest = day;
    } else if (newest == day) {
      rescan = true;
    }
  }
  return rescan ? scan_newest_day(next) : newest;
}

}  // namespace

Index::Index() : users_(std::make_shared<UserTable>()) {
  IndexView::Parts parts;
  parts.dictionary = std::make_shared<TagDictionary>();
  parts.universe = make_bits(Bitmap());
  parts.users = users_;
  current_.store(std::make_shared<const IndexView>(std::move(parts)));
}

void Index::publish(IndexView::Parts parts) {
  current_.store(std::make_shared<const IndexView>(std::move(parts)), std::memory_order_release);
}

bool Index::erases_nobody(const WriteBatch& batch) const {
  const auto current = view();
  for (const auto& op : batch.ops()) {
    if (op.kind != WriteBatch::Kind::kErase) return false;
    const auto ordinal = users_->find(op.user);
    if (ordinal && current->universe().bits.contains(*ordinal)) return false;
  }
  return true;
}

bool Index::apply(const WriteBatch& batch, WriteResult& result) {
  using Kind = WriteBatch::Kind;
  const auto base = view();
  const auto& old = base->parts();
  const auto& names = batch.names();
  const auto& ops = batch.ops();

  // Which batch-local names are tags an op may create (adds, replacements;
  // removing an unknown tag is a no-op, not a new empty tag) and which are
  // attributes, with the bit slices their new values set.
  std::vector<bool> creates(names.size(), false);
  std::vector<bool> is_attribute(names.size(), false);
  std::vector<uint64_t> attribute_bits(names.size(), 0);
  for (const auto& op : ops) {
    const auto refs = batch.tags_of(op);
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
  std::vector<TagId> resolved(names.size(), kNoTag);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (const auto id = old.dictionary->find(names[i])) resolved[i] = *id;
  }
  // New tags get ids in order of the ops that first create them, so that
  // replaying concatenated log records hands out the same ids (store.cc).
  std::vector<std::string> created;
  for (const auto& op : ops) {
    if (op.kind != Kind::kAdd && op.kind != Kind::kReplaceTag) continue;
    for (const uint32_t t : batch.tags_of(op)) {
      if (resolved[t] == kNoTag && creates[t]) {
        creates[t] = false;  // listed once
        created.push_back(names[t]);
      }
    }
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!is_attribute[i]) continue;
    // An attribute's "has a value" tag and the slices its values set a bit in.
    if (attribute_bits[i] != 0 || !old.dictionary->find(system_tags::attribute(names[i], -1))) {
      for (int b = -1; b < system_tags::kValueBits; ++b) {
        if (b >= 0 && (attribute_bits[i] >> b & 1) == 0) continue;
        auto name = system_tags::attribute(names[i], b);
        if (!old.dictionary->find(name)) created.push_back(std::move(name));
      }
    }
  }
  auto dictionary = old.dictionary;
  if (!created.empty()) {
    dictionary = dictionary->with_added(created);
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (resolved[i] == kNoTag) {
        if (const auto id = dictionary->find(names[i])) resolved[i] = *id;
      }
    }
  }

  // Copy on write: a tag is cloned the first time the batch really changes it.
  const std::size_t tag_count = dictionary->size();
  std::vector<std::unique_ptr<Bitmap>> working(tag_count);
  std::vector<TagId> touched;
  const Bitmap empty;
  auto current = [&](TagId id) -> const Bitmap& {
    if (working[id]) return *working[id];
    return id < old.tags.size() ? old.tags[id]->bits : empty;
  };
  auto touch = [&](TagId id) -> Bitmap& {
    if (!working[id]) {
      working[id] = std::make_unique<Bitmap>(id < old.tags.size() ? old.tags[id]->bits.clone() : Bitmap());
      touched.push_back(id);
    }
    return *working[id];
  };
  // A whole new bitmap for a tag, without copying the old one first.
  auto replace = [&](TagId id, Bitmap b) {
    if (!working[id]) touched.push_back(id);
    working[id] = std::make_unique<Bitmap>(std::move(b));
  };
  std::optional<Bitmap> universe;
  auto universe_now = [&]() -> const Bitmap& { return universe ? *universe : old.universe->bits; };
  auto touch_universe = [&]() -> Bitmap& {
    if (!universe) universe = old.universe->bits.clone();
    return *universe;
  };
  // Users' tags count towards the result; the index's own do not.
  auto counted = [&](TagId id) { return !dictionary->is_system(id); };

  WriteResult r;
  const auto is_tag_op = [](const WriteBatch::Op& op) {
    return op.kind == Kind::kAdd || op.kind == Kind::kRemove || op.kind == Kind::kErase ||
           op.kind == Kind::kClearTag || op.kind == Kind::kReplaceTag;
  };
  const bool adds_only = std::all_of(ops.begin(), ops.end(), [&](const WriteBatch::Op& op) {
    return op.kind == Kind::kAdd || !is_tag_op(op);
  });
  if (adds_only) {
    // Ingest: every tag op adds. Group the pairs by tag (a counting sort)
    // and set each tag's ordinals with one add_many, counting what is new
    // from the cardinality before and after: a few ns a pair instead of a
    // contains() and an add() (two binary searches, ~0.1 us each). Order
    // does not matter when nothing is removed.
    std::vector<uint32_t> ordinals;  // of the kAdd ops, in order
    ordinals.reserve(ops.size());
    std::vector<std::size_t> starts(tag_count + 1, 0);
    for (const auto& op : ops) {
      if (op.kind != Kind::kAdd) continue;
      const auto ordinal = users_->find_or_add(op.user);
      if (!ordinal) return false;
      ordinals.push_back(*ordinal);
      for (const uint32_t t : batch.tags_of(op)) ++starts[resolved[t] + 1];
    }
    for (std::size_t id = 0; id < tag_count; ++id) starts[id + 1] += starts[id];
    std::vector<uint32_t> by_tag(starts[tag_count]);
    std::vector<std::size_t> next(starts.begin(), starts.end() - 1);
    std::size_t i = 0;
    for (const auto& op : ops) {
      if (op.kind != Kind::kAdd) continue;
      for (const uint32_t t : batch.tags_of(op)) by_tag[next[resolved[t]]++] = ordinals[i];
      ++i;
    }
    for (TagId id = 0; id < tag_count; ++id) {
      const std::size_t n = starts[id + 1] - starts[id];
      if (n == 0) continue;
      const std::span<const uint32_t> members(by_tag.data() + starts[id], n);
      const uint64_t before = current(id).cardinality();
      // Re-ingesting known pairs must not copy the tag: look first when few.
      if (n <= 64 && std::all_of(members.begin(), members.end(), [&](uint32_t o) { return current(id).contains(o); })) {
        continue;
      }
      Bitmap& bits = touch(id);
      bits.add_many(members);
      const uint64_t after = bits.cardinality();
      if (after == before) {  // nothing new after all: publish the old bitmap
        working[id].reset();
        touched.pop_back();
      }
      if (counted(id)) r.added += after - before;
    }
    // The universe is copied only when a user is new to it (a re-ingest of
    // known users must not copy 1.25 MB at 10M users).
    const Bitmap& members = universe_now();
    if (!std::all_of(ordinals.begin(), ordinals.end(), [&](uint32_t o) { return members.contains(o); })) {
      touch_universe().add_many(ordinals);
    }
    r.users = ordinals.size();
  }
  for (const auto& op : adds_only ? std::span<const WriteBatch::Op>() : std::span<const WriteBatch::Op>(ops)) {
    if (!is_tag_op(op)) continue;
    switch (op.kind) {
      case Kind::kAdd: {
        ++r.users;
        const auto ordinal = users_->find_or_add(op.user);
        if (!ordinal) return false;
        if (!universe_now().contains(*ordinal)) touch_universe().add(*ordinal);
        for (const uint32_t t : batch.tags_of(op)) {
          const TagId id = resolved[t];
          if (!current(id).contains(*ordinal)) {
            touch(id).add(*ordinal);
            if (counted(id)) ++r.added;
          }
        }
        break;
      }
      case Kind::kRemove: {
        ++r.users;
        const auto ordinal = users_->find(op.user);
        if (!ordinal) break;
        for (const uint32_t t : batch.tags_of(op)) {
          const TagId id = resolved[t];
          if (id != kNoTag && current(id).contains(*ordinal)) {
            touch(id).remove(*ordinal);
            if (counted(id)) ++r.removed;
          }
        }
        break;
      }
      case Kind::kErase: {
        ++r.users;
        const auto ordinal = users_->find(op.user);
        if (!ordinal || !universe_now().contains(*ordinal)) break;
        touch_universe().remove(*ordinal);
        (void)users_->forget(op.user);  // a return gets a new ordinal (user_table.h)
        ++r.erased;
        // Every tag is checked (saved crowds, values and day tags included):
        // O(tags) contains() calls, ~0.5 ms at 10,000 tags. Erasure is rare;
        // a per-user tag list would cost 4+ bytes per assignment forever to
        // speed it up.
        for (TagId id = 0; id < tag_count; ++id) {
          if (current(id).contains(*ordinal)) touch(id).remove(*ordinal);
        }
        break;
      }
      case Kind::kClearTag: {
        const TagId id = resolved[batch.tags_of(op)[0]];
        if (id != kNoTag && !current(id).empty()) replace(id, Bitmap());
        break;
      }
      case Kind::kReplaceTag: {
        const TagId id = resolved[batch.tags_of(op)[0]];
        const Bitmap& wanted = *batch.bitmaps()[static_cast<std::size_t>(op.value)];
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
  if (!apply_values(batch, *dictionary, *users_, current, touch, universe_now, touch_universe)) return false;

  IndexView::Parts next;
  next.dictionary = dictionary;
  next.tags = old.tags;
  next.tags.resize(tag_count);
  next.bitmap_bytes = old.bitmap_bytes;
  for (const TagId id : touched) {
    if (id < old.tags.size()) next.bitmap_bytes -= old.tags[id]->bytes;
    next.tags[id] = make_bits(std::move(*working[id]));
    next.bitmap_bytes += next.tags[id]->bytes;
  }
  for (auto& slot : next.tags) {
    if (!slot) slot = make_bits(Bitmap());
  }
  next.universe = universe ? make_bits(std::move(*universe)) : old.universe;
  next.users = users_;
  next.ordinal_count = users_->size();
  next.version = old.version + 1;
  next.entries = apply_entries(batch, old.entries);
  next.newest_day = newest_day_after(old.newest_day, next, touched);
  publish(std::move(next));
  result = r;
  return true;
}

void Index::restore(std::shared_ptr<UserTable> users, std::shared_ptr<const TagDictionary> dictionary,
                    std::vector<Bitmap> tags, Bitmap universe, IndexView::Entries entries) {
  const auto old_version = view()->version();
  users_ = std::move(users);
  IndexView::Parts next;
  next.dictionary = std::move(dictionary);
  next.tags.reserve(tags.size());
  for (auto& b : tags) {
    next.tags.push_back(make_bits(std::move(b)));
    next.bitmap_bytes += next.tags.back()->bytes;
  }
  next.universe = make_bits(std::move(universe));
  next.users = users_;
  next.ordinal_count = users_->size();
  next.version = old_version + 1;
  next.entries = std::make_shared<const IndexView::Entries>(std::move(entries));
  next.newest_day = scan_newest_day(next);
  publish(std::move(next));
}

void Index::merge(const std::vector<std::string>& names, std::vector<Bitmap> bitmaps, const Bitmap& members) {
  const auto base = view();
  const auto& old = base->parts();
  IndexView::Parts next;
  next.dictionary = old.dictionary->with_added(names);
  next.tags = old.tags;
  next.tags.resize(next.dictionary->size());
  next.bitmap_bytes = old.bitmap_bytes;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const TagId id = *next.dictionary->find(names[i]);
    Bitmap merged;
    if (id < old.tags.size()) {
      merged = old.tags[id]->bits.clone();
      roaring_bitmap_or_inplace(merged.get(), bitmaps[i].get());
      next.bitmap_bytes -= old.tags[id]->bytes;
    } else {
      merged = std::move(bitmaps[i]);
    }
    merged.optimize();
    next.tags[id] = make_bits(std::move(merged));
    next.bitmap_bytes += next.tags[id]->bytes;
  }
  for (auto& slot : next.tags) {
    if (!slot) slot = make_bits(Bitmap());
  }
  Bitmap universe = old.universe->bits.clone();
  roaring_bitmap_or_inplace(universe.get(), members.get());
  universe.optimize();
  next.universe = make_bits(std::move(universe));
  next.users = users_;
  next.ordinal_count = users_->size();
  next.version = old.version + 1;
  next.entries = old.entries;
  next.newest_day = scan_newest_day(next);
  publish(std::move(next));
}

}  // namespace crowd
