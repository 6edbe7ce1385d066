#include "index/index.h"

#include <algorithm>
#include <optional>
#include <span>

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

bool Index::apply(const WriteBatch& batch, WriteResult& result) {
  const auto base = view();
  const auto& old = base->parts();
  const auto& names = batch.names();

  // Resolve batch-local tags; only adds create tags (removing an unknown tag
  // is a no-op, not a new empty tag).
  std::vector<TagId> resolved(names.size(), kNoTag);
  std::vector<std::string> created;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (const auto id = old.dictionary->find(names[i])) resolved[i] = *id;
  }
  {
    std::vector<bool> wanted(names.size(), false);
    for (const auto& op : batch.ops()) {
      if (op.kind != WriteBatch::Kind::kAdd) continue;
      for (const uint32_t t : batch.tags_of(op)) {
        if (resolved[t] == kNoTag && !wanted[t]) {
          wanted[t] = true;
          created.push_back(names[t]);
        }
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
  std::optional<Bitmap> universe;
  auto universe_now = [&]() -> const Bitmap& { return universe ? *universe : old.universe->bits; };
  auto touch_universe = [&]() -> Bitmap& {
    if (!universe) universe = old.universe->bits.clone();
    return *universe;
  };

  WriteResult r;
  const auto& ops = batch.ops();
  const bool adds_only =
      std::all_of(ops.begin(), ops.end(), [](const WriteBatch::Op& op) { return op.kind == WriteBatch::Kind::kAdd; });
  if (adds_only) {
    // Ingest: every op adds. Group the pairs by tag (a counting sort) and set
    // each tag's ordinals with one add_many, counting what is new from the
    // cardinality before and after: a few ns a pair instead of a contains()
    // and an add() (two binary searches, ~0.1 us each). Order does not
    // matter when nothing is removed.
    std::vector<uint32_t> ordinals;
    ordinals.reserve(ops.size());
    std::vector<std::size_t> starts(tag_count + 1, 0);
    for (const auto& op : ops) {
      const auto ordinal = users_->find_or_add(op.user);
      if (!ordinal) return false;
      ordinals.push_back(*ordinal);
      for (const uint32_t t : batch.tags_of(op)) ++starts[resolved[t] + 1];
    }
    for (std::size_t id = 0; id < tag_count; ++id) starts[id + 1] += starts[id];
    std::vector<uint32_t> by_tag(starts[tag_count]);
    std::vector<std::size_t> next(starts.begin(), starts.end() - 1);
    for (std::size_t i = 0; i < ops.size(); ++i) {
      for (const uint32_t t : batch.tags_of(ops[i])) by_tag[next[resolved[t]]++] = ordinals[i];
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
      r.added += after - before;
    }
    // The universe is copied only when a user is new to it (a re-ingest of
    // known users must not copy 1.25 MB at 10M users).
    const Bitmap& members = universe_now();
    if (!std::all_of(ordinals.begin(), ordinals.end(), [&](uint32_t o) { return members.contains(o); })) {
      touch_universe().add_many(ordinals);
    }
    r.users = ops.size();
  }
  for (const auto& op : adds_only ? std::span<const WriteBatch::Op>() : std::span<const WriteBatch::Op>(ops)) {
    ++r.users;
    switch (op.kind) {
      case WriteBatch::Kind::kAdd: {
        const auto ordinal = users_->find_or_add(op.user);
        if (!ordinal) return false;
        if (!universe_now().contains(*ordinal)) touch_universe().add(*ordinal);
        for (const uint32_t t : batch.tags_of(op)) {
          const TagId id = resolved[t];
          if (!current(id).contains(*ordinal)) {
            touch(id).add(*ordinal);
            ++r.added;
          }
        }
        break;
      }
      case WriteBatch::Kind::kRemove: {
        const auto ordinal = users_->find(op.user);
        if (!ordinal) break;
        for (const uint32_t t : batch.tags_of(op)) {
          const TagId id = resolved[t];
          if (id != kNoTag && current(id).contains(*ordinal)) {
            touch(id).remove(*ordinal);
            ++r.removed;
          }
        }
        break;
      }
      case WriteBatch::Kind::kErase: {
        const auto ordinal = users_->find(op.user);
        if (!ordinal || !universe_now().contains(*ordinal)) break;
        touch_universe().remove(*ordinal);
        ++r.erased;
        // Every tag is checked: O(tags) contains() calls, ~0.5 ms at 10,000
        // tags. Erasure is rare; a per-user tag list would cost 4+ bytes per
        // assignment forever to speed it up.
        for (TagId id = 0; id < tag_count; ++id) {
          if (current(id).contains(*ordinal)) touch(id).remove(*ordinal);
        }
        break;
      }
    }
  }

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
  publish(std::move(next));
  result = r;
  return true;
}

void Index::restore(std::shared_ptr<UserTable> users, std::shared_ptr<const TagDictionary> dictionary,
                    std::vector<Bitmap> tags, Bitmap universe) {
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
  publish(std::move(next));
}

}  // namespace crowd
