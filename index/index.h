// Index: the owner of the current IndexView and the only place that makes new
// ones.
//
// Reads: view() is one atomic load of a shared_ptr; never blocks on writers.
// Writes: apply(), restore() and the BulkLoader must be serialised by the
// caller (Store holds the writer lock); each publishes one new view, cloning
// only the tag bitmaps the write touches.
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "index/index_view.h"
#include "index/person_resolver.h"
#include "index/write_batch.h"

namespace crowd {

class Index {
 public:
  Index();

  // The current version. Any thread; wait-free for practical purposes.
  [[nodiscard]] std::shared_ptr<const IndexView> view() const { return current_.load(std::memory_order_acquire); }

  // Applies a batch in order and publishes the result. Fails (returning
  // false, publishing nothing) when the batch's persons or spaces are
  // refused (person_resolver.h; result.refusal says why, and nothing
  // changed) or the user table is full (result.refusal empty).
  // `plan`: check()'s for this batch on the index as it is now (nothing
  // applied in between, the writer lock held throughout); null: planned here.
  [[nodiscard]] bool apply(const WriteBatch& batch, WriteResult& result, const PersonPlan* plan = nullptr);

  // Applies batches in order into one new view: the same state, ordinals
  // and per-batch results as apply() of each in turn, but a tag several of
  // them change is copied once (apply_batch.h). Only batches that
  // joins_others(): stops at the first that does not and publishes those
  // before it. Returns how many were applied (results[i] for each). A full
  // user table (Store::write_each rules it out first) publishes nothing and
  // returns 0; ordinals handed out stay handed out, as with apply().
  [[nodiscard]] std::size_t apply_each(std::span<const WriteBatch> batches, std::span<WriteResult> results);
  // A batch without persons, ID spaces, ID type definitions or a field made
  // exclusive: nothing about it can be refused by state, so it can follow
  // others into one view.
  [[nodiscard]] static bool joins_others(const WriteBatch& batch);

  // Writer side: whether apply() would accept the batch's persons, spaces
  // and exclusive fields (exclusive_fields.h);
  // false with result.refusal (and refused_person) saying why. The store
  // asks before it logs a batch, and hands the plan (`plan`, if not null) to
  // erases_nobody() and apply(). O(persons' keys).
  [[nodiscard]] bool check(const WriteBatch& batch, WriteResult& result, PersonPlan* plan = nullptr) const;

  // Writer side: true when every op of `batch` erases a user the index does
  // not hold, so applying it would change nothing. The store does not log
  // such a batch: a deletion request for an unknown ID must not put that ID
  // on disk. O(ops).
  // `plan`: check()'s, as for apply().
  [[nodiscard]] bool erases_nobody(const WriteBatch& batch, const PersonPlan* plan = nullptr) const;

  // Replaces the whole index (snapshot restore). tags[i] belongs to
  // dictionary id i.
  void restore(std::shared_ptr<UserTable> users, std::shared_ptr<const TagDictionary> dictionary,
               std::vector<Bitmap> tags, Bitmap universe, IndexView::Entries entries = {},
               std::shared_ptr<const IdSpaces> spaces = nullptr, Bitmap uidless = {});

  // Merges bulk-built bitmaps (BulkLoader): OR each into its tag, creating
  // tags as needed, and adds `members` to the universe. One new view.
  // `names` must be distinct; bitmaps[i] belongs to names[i].
  void merge(const std::vector<std::string>& names, std::vector<Bitmap> bitmaps, const Bitmap& members);

  // Drops from the dictionary every users' tag, every day tag and every
  // kept bitmap (system_tags.h) whose bitmap is empty — names that may hold
  // personal data and no longer describe anyone (issue 14, item 8c), and
  // versions activation no longer keeps. Other system tags stay even when
  // empty (a saved crowd may have no members; an attribute's slices are
  // read by position). With `only`, just that users' tag, if it is empty.
  // Tag ids are handed out again densely, so the caller must make the
  // result durable by a snapshot, not the log (Store::bulk_load): a logged
  // batch names tags, never ids. Writer lock held. Returns the number of
  // tags dropped. O(tags log tags).
  uint64_t drop_empty_tags(std::optional<std::string_view> only = std::nullopt);

  // Writer side: the user table, for loaders that hand out ordinals.
  [[nodiscard]] UserTable& users() { return *users_; }

 private:
  void publish(IndexView::Parts parts);

  std::shared_ptr<UserTable> users_;
  std::atomic<std::shared_ptr<const IndexView>> current_;
};

}  // namespace crowd
