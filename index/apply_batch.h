// ApplyBatch: one Index::apply, step by step. WriteBatches become the parts
// of the next IndexView: for each batch in turn, resolve its names to tag ids
// (creating tags and attribute slices), apply its tag operations (the ingest
// fast path when every one adds), its attribute values and its metadata
// entries; then hand over the tags they changed.
//
// Several batches may go into one view (Index::apply_each): each is applied
// whole, in order, on the state the previous ones left, exactly as if each
// had been published -- the same ordinals, tag ids and counts -- but a tag
// they all change is copied once, not once a batch. That is what lets a
// replica catching up on its stream apply hundreds of messages without
// copying every dense tag hundreds of times.
//
// Copy on write: a tag is cloned the first time the batch really changes it,
// so a write publishes new bitmaps for the tags it touches only (O(touched
// tags' sizes) in copies), and the universe is copied only when a user joins
// or leaves it. The old view is never modified: readers keep using it.
//
// Internal to the index: Index::apply is the only user. One object per batch;
// not thread-safe (the store serialises writers).
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>

#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "index/index_view.h"
#include "index/person_resolver.h"
#include "index/write_batch.h"

namespace crowd {

class ApplyBatch {
 public:
  ApplyBatch(const IndexView::Parts& old, std::shared_ptr<UserTable> users);

  // Runs every step of one batch and fills `result`. `plan`: plan_persons()
  // of this batch against the state before it (for the second and later
  // batches, only batches without persons or spaces are planned the same
  // on any state, so only those may follow another). False when the user
  // table is full (ordinals it handed out stay handed out, as before): then
  // publish nothing.
  [[nodiscard]] bool apply(const WriteBatch& batch, const PersonPlan& plan, WriteResult& result);

  // The next view's parts, after the last apply(). Call once.
  void publish(IndexView::Parts& next);

 private:
  // The steps, in the order run() takes them.
  [[nodiscard]] bool apply_identity();  // defines spaces; persons get ordinals, their keys links
  void resolve_tags();                 // ids for the batch's names; creates tags and slices
  void find_exclusive();              // which of the batch's names are values of exclusive fields
  [[nodiscard]] bool apply_adds();     // every tag op adds: grouped by tag, one add_many each
  [[nodiscard]] bool apply_tag_ops();  // add, remove, erase, clear, replace, in batch order
  [[nodiscard]] bool apply_values();   // set / clear attribute values into their slices
  void apply_entries();                // metadata entries, in batch order

  // The copy-on-write working set.
  [[nodiscard]] const Bitmap& current(TagId id) const;
  Bitmap& touch(TagId id);              // cloned on first use
  void replace(TagId id, Bitmap bits);  // a whole new bitmap, the old one not copied
  [[nodiscard]] const Bitmap& universe_now() const { return universe_ ? *universe_ : old_.universe->bits; }
  Bitmap& touch_universe();
  // Sets `adds` in and clears `removes` from a tag, copying it only when that
  // changes something.
  void update_members(TagId id, std::span<const uint32_t> adds, std::span<const uint32_t> removes);
  // The user an op writes to (created if new) or reads (nullopt if unknown).
  // An add or a value of an existing-only person that is nobody: does nothing.
  [[nodiscard]] bool skipped(const WriteBatch::Op& op) const;
  [[nodiscard]] std::optional<Ordinal> writes_to(const WriteBatch::Op& op);
  [[nodiscard]] std::optional<Ordinal> reads(const WriteBatch::Op& op) const;
  // An exclusive field's other values leave user `o`, which is getting
  // `keep` (a TagId): the per-op path of apply_tag_ops.
  void leave_other_values(uint32_t field, TagId keep, Ordinal o);
  // Erasure: the user leaves the universe, every tag and every ID space.
  void erase_user(Ordinal o);
  // WriteBatch::merge of two users of the universe.
  void merge_users(Ordinal from, Ordinal into);
  [[nodiscard]] const Bitmap& uidless_now() const { return uidless_ ? *uidless_ : old_.uidless->bits; }
  Bitmap& touch_uidless();
  // Users' tags count towards the result; the index's own do not.
  [[nodiscard]] bool counted(TagId id) const { return !dictionary_->is_system(id); }

  const IndexView::Parts& old_;
  std::shared_ptr<UserTable> users_;
  // The state the batches so far left: dictionary, spaces and entries.
  std::shared_ptr<const TagDictionary> dictionary_;
  std::shared_ptr<const IdSpaces> spaces_;
  std::shared_ptr<const IndexView::Entries> entries_;
  // The batch being applied and what it resolved to.
  const WriteBatch* batch_ = nullptr;
  const PersonPlan* plan_ = nullptr;
  std::vector<std::optional<Ordinal>> person_ordinals_;  // by person
  std::vector<TagId> resolved_;  // by batch-local name; kNoTag for an unknown name nothing creates
  // Exclusive fields (SystemView::exclusive) the batch adds values of:
  // by batch-local name, the field's index in exclusive_prefixes_, or
  // kNotExclusive; and each field's "<field>:" prefix.
  static constexpr uint32_t kNotExclusive = UINT32_MAX;
  std::vector<uint32_t> exclusive_of_;
  std::vector<std::string> exclusive_prefixes_;
  // The copy of each tag the batches touched. A map, not a vector by TagId:
  // a write touching one tag must not cost a slot per tag.
  boost::unordered_flat_map<TagId, std::unique_ptr<Bitmap>> working_;
  std::vector<TagId> touched_;
  std::optional<Bitmap> universe_;  // the working copy, once touched
  std::optional<Bitmap> uidless_;   // likewise
  const Bitmap empty_;
  WriteResult result_;
};

}  // namespace crowd
