#include "index/index.h"

#include <algorithm>
#include <optional>
#include <span>

#include "index/apply_batch.h"
#include "index/exclusive_fields.h"
#include "index/person_resolver.h"
#include "index/system_tags.h"

namespace crowd {
namespace {

std::shared_ptr<const TagBits> make_bits(Bitmap b) { return std::make_shared<const TagBits>(std::move(b)); }

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

bool Index::erases_nobody(const WriteBatch& batch, const PersonPlan* planned) const {
  const auto current = view();
  PersonPlan computed;
  PersonRefusal refusal;
  // Erasing persons creates none, so every target is a user of the index.
  if (!batch.persons().empty() && planned == nullptr &&
      !plan_persons(batch, *current, *users_, computed, refusal)) {
    return false;
  }
  const PersonPlan& plan = planned != nullptr ? *planned : computed;
  for (const auto& op : batch.ops()) {
    if (op.kind != WriteBatch::Kind::kErase) return false;
    std::optional<Ordinal> ordinal;
    if (op.person == WriteBatch::kNoPerson) {
      ordinal = users_->find(op.user);
    } else if (plan.targets[op.person] != PersonPlan::kNobody) {
      ordinal = static_cast<Ordinal>(plan.targets[op.person]);
    }
    if (ordinal && current->universe().bits.contains(*ordinal)) return false;
  }
  return true;
}

bool Index::check(const WriteBatch& batch, WriteResult& result, PersonPlan* plan) const {
  PersonPlan local;
  PersonPlan& out = plan != nullptr ? *plan : local;
  PersonRefusal refusal;
  const auto current = view();
  if (plan_persons(batch, *current, *users_, out, refusal)) {
    auto why = exclusive_refusal(batch, *current);
    if (!why) return true;
    refusal = PersonRefusal{0, std::move(*why)};
  }
  result = WriteResult();
  result.refusal = std::move(refusal.why);
  result.refused_person = refusal.person;
  return false;
}

bool Index::apply(const WriteBatch& batch, WriteResult& result, const PersonPlan* planned) {
  const auto base = view();
  PersonPlan computed;
  if (planned == nullptr && !check(batch, result, &computed)) return false;
  ApplyBatch step(base->parts(), users_);
  if (!step.apply(batch, planned != nullptr ? *planned : computed, result)) return false;
  IndexView::Parts next;
  step.publish(next);
  publish(std::move(next));
  return true;
}

bool Index::joins_others(const WriteBatch& batch) {
  if (!batch.persons().empty() || !batch.spaces().empty()) return false;
  if (batch.entries().empty()) return true;  // the common case: no scan of the ops
  // An ID type's definition (plan_id_types) and a field made exclusive
  // (exclusive_fields.h) are checked against the state.
  const std::string id_types = system_tags::id_type_prefix();
  const std::string exclusive = system_tags::exclusive_field_prefix();
  return std::none_of(batch.ops().begin(), batch.ops().end(), [&](const WriteBatch::Op& op) {
    if (op.kind != WriteBatch::Kind::kSetEntry) return false;
    const std::string& key = batch.entries()[static_cast<std::size_t>(op.value)].key;
    return key.starts_with(id_types) || key.starts_with(exclusive);
  });
}

std::size_t Index::apply_each(std::span<const WriteBatch> batches, std::span<WriteResult> results) {
  const auto base = view();
  ApplyBatch step(base->parts(), users_);
  const PersonPlan no_persons;  // what plan_persons() makes of a batch that joins others, on any state
  std::size_t applied = 0;
  for (; applied < batches.size() && joins_others(batches[applied]); ++applied) {
    // The working set now holds part of this batch: publish none of it.
    if (!step.apply(batches[applied], no_persons, results[applied])) return 0;
  }
  if (applied > 0) {
    IndexView::Parts next;
    step.publish(next);
    publish(std::move(next));
  }
  return applied;
}

void Index::restore(std::shared_ptr<UserTable> users, std::shared_ptr<const TagDictionary> dictionary,
                    std::vector<Bitmap> tags, Bitmap universe, IndexView::Entries entries,
                    std::shared_ptr<const IdSpaces> spaces, Bitmap uidless) {
  const auto old_version = view()->version();
  users_ = std::move(users);
  IndexView::Parts next;
  next.dictionary = std::move(dictionary);
  IndexView::Tags::Editor bits{IndexView::Tags()};
  for (auto& b : tags) {
    bits.push_back(make_bits(std::move(b)));
    next.bitmap_bytes += bits[bits.size() - 1]->bytes;
  }
  next.tags = std::move(bits).finish();
  next.universe = make_bits(std::move(universe));
  next.users = users_;
  next.ordinal_count = users_->size();
  next.version = old_version + 1;
  next.entries = std::make_shared<const IndexView::Entries>(std::move(entries));
  next.spaces = std::move(spaces);
  next.uidless = make_bits(std::move(uidless));
  publish(std::move(next));
}

uint64_t Index::drop_empty_tags(std::optional<std::string_view> only) {
  const auto base = view();
  const auto& old = base->parts();
  const TagDictionary& dictionary = *old.dictionary;
  std::vector<std::string> names;
  IndexView::Parts next;
  IndexView::Tags::Editor kept{IndexView::Tags()};
  for (TagId id = 0; id < old.tags.size(); ++id) {
    const auto& name = dictionary.name(id);
    const bool droppable = only ? name == *only && !system_tags::is_system(name)
                                : !system_tags::is_system(name) || system_tags::day_of_any(name).has_value() ||
                                      system_tags::is_kept_bitmap(name);
    if (droppable && old.tags[id]->cardinality == 0) continue;
    names.push_back(name);
    kept.push_back(old.tags[id]);  // shared, not copied
    next.bitmap_bytes += old.tags[id]->bytes;
  }
  const uint64_t dropped = old.tags.size() - kept.size();
  if (dropped == 0) return 0;
  next.tags = std::move(kept).finish();
  next.dictionary = TagDictionary::from_names(std::move(names));
  next.universe = old.universe;
  next.users = old.users;
  next.ordinal_count = old.ordinal_count;
  next.version = old.version + 1;
  next.entries = old.entries;
  next.spaces = old.spaces;
  next.uidless = old.uidless;
  publish(std::move(next));
  return dropped;
}

void Index::merge(const std::vector<std::string>& names, std::vector<Bitmap> bitmaps, const Bitmap& members) {
  const auto base = view();
  const auto& old = base->parts();
  IndexView::Parts next;
  next.dictionary = old.dictionary->with_added(names);
  IndexView::Tags::Editor tags(old.tags);
  while (tags.size() < next.dictionary->size()) tags.push_back(make_bits(Bitmap()));
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
    auto bits = make_bits(std::move(merged));
    next.bitmap_bytes += bits->bytes;
    tags.set(id, std::move(bits));
  }
  next.tags = std::move(tags).finish();
  Bitmap universe = old.universe->bits.clone();
  roaring_bitmap_or_inplace(universe.get(), members.get());
  universe.optimize();
  next.universe = make_bits(std::move(universe));
  next.users = users_;
  next.ordinal_count = users_->size();
  next.version = old.version + 1;
  next.entries = old.entries;
  next.spaces = old.spaces;
  next.uidless = old.uidless;
  publish(std::move(next));
}

}  // namespace crowd
