// ApplyBatch: one Index::apply, step by step. A WriteBatch becomes the parts
// of the next IndexView: resolve the batch's names to tag ids (creating tags
// and attribute slices), apply its tag operations (the ingest fast path when
// every one adds), its attribute values and its metadata entries, then hand
// over the tags it changed.
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
  // `plan`: plan_persons() of this batch against `old` and `users`.
  ApplyBatch(const IndexView::Parts& old, std::shared_ptr<UserTable> users, const WriteBatch& batch,
             const PersonPlan& plan);

  // Runs every step and fills the next view's parts and `result`. False, with
  // nothing published, when the user table is full (ordinals it handed out
  // stay handed out, as before). Call once.
  [[nodiscard]] bool run(IndexView::Parts& next, WriteResult& result);

 private:
  // The steps, in the order run() takes them.
  [[nodiscard]] bool apply_identity();  // defines spaces; persons get ordinals, their keys links
  void resolve_tags();                 // ids for the batch's names; creates tags and slices
  void find_exclusive();              // which of the batch's names are values of exclusive fields
  [[nodiscard]] bool apply_adds();     // every tag op adds: grouped by tag, one add_many each
  [[nodiscard]] bool apply_tag_ops();  // add, remove, erase, clear, replace, in batch order
  [[nodiscard]] bool apply_values();   // set / clear attribute values into their slices
  void publish_parts(IndexView::Parts& next);  // moves the working set out

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
  const WriteBatch& batch_;
  const PersonPlan& plan_;
  std::shared_ptr<const TagDictionary> dictionary_;
  std::shared_ptr<const IdSpaces> spaces_;
  std::vector<std::optional<Ordinal>> person_ordinals_;  // by person
  std::vector<TagId> resolved_;  // by batch-local name; kNoTag for an unknown name nothing creates
  // Exclusive fields (SystemView::exclusive) the batch adds values of:
  // by batch-local name, the field's index in exclusive_prefixes_, or
  // kNotExclusive; and each field's "<field>:" prefix.
  static constexpr uint32_t kNotExclusive = UINT32_MAX;
  std::vector<uint32_t> exclusive_of_;
  std::vector<std::string> exclusive_prefixes_;
  // The batch's copy of each tag it touched. A map, not a vector by TagId:
  // a write touching one tag must not cost a slot per tag.
  boost::unordered_flat_map<TagId, std::unique_ptr<Bitmap>> working_;
  std::vector<TagId> touched_;
  std::optional<Bitmap> universe_;  // the batch's copy, once touched
  std::optional<Bitmap> uidless_;   // likewise
  const Bitmap empty_;
  WriteResult result_;
};

}  // namespace crowd
