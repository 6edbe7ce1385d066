// Checks shared by the fuzz targets of the snapshot reader (fuzz_snapshot.cc,
// fuzz_ids.cc): what an accepted snapshot must hold, and that restoring it,
// writing the index again and reading that back gives the same index.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "index/index.h"
#include "index/snapshot_file.h"
#include "tests/fuzz/fuzz_check.h"

namespace crowd::fuzz {

// One ID space as its links: what a snapshot must keep, in its order.
struct SpaceDump {
  std::string name;
  std::size_t width = 0;
  std::vector<std::pair<Ordinal, std::string>> pairs;  // IdSpace::for_each order
  bool operator==(const SpaceDump&) const = default;
};

inline std::vector<SpaceDump> dump(const IdSpaces& spaces) {
  std::vector<SpaceDump> out;
  for (const auto& named : spaces.all()) {
    SpaceDump d{named.name, named.space->key_bytes(), {}};
    named.space->for_each([&](Ordinal o, std::string_view key) { d.pairs.emplace_back(o, std::string(key)); });
    out.push_back(std::move(d));
  }
  return out;
}

inline bool equal_bitmaps(const Bitmap& a, const Bitmap& b) { return roaring_bitmap_equals(a.get(), b.get()); }

inline void check_contents(const SnapshotContents& s) {
  CROWD_FUZZ_CHECK(s.users && s.dictionary && s.spaces, "a part is missing");
  CROWD_FUZZ_CHECK(s.dictionary->size() == s.tags.size(), "%zu names, %zu bitmaps", s.dictionary->size(),
                   s.tags.size());
  const uint64_t ordinals = s.users->size();
  auto within = [&](const Bitmap& b) { return b.empty() || roaring_bitmap_maximum(b.get()) < ordinals; };
  CROWD_FUZZ_CHECK(within(s.universe), "universe beyond the ordinals");
  for (std::size_t i = 0; i < s.tags.size(); ++i) {
    CROWD_FUZZ_CHECK(within(s.tags[i]), "tag %zu beyond the ordinals", i);
    // Every write path keeps tags within the universe (an erased user leaves
    // every bitmap); a snapshot that breaks it would make "a" and "a AND ALL"
    // count differently.
    CROWD_FUZZ_CHECK(roaring_bitmap_is_subset(s.tags[i].get(), s.universe.get()), "tag %zu outside the universe", i);
  }
  CROWD_FUZZ_CHECK(roaring_bitmap_is_subset(s.uidless.get(), s.universe.get()), "uidless users outside the universe");
  // Users in the universe with a uid are found by it; erased ones (outside
  // it) and those without a uid keep only their ordinal, and read ID 0.
  roaring_uint32_iterator_t* it = roaring_create_iterator(s.universe.get());
  for (; it->has_value; roaring_advance_uint32_iterator(it)) {
    const Ordinal o = it->current_value;
    if (s.uidless.contains(o)) {
      CROWD_FUZZ_CHECK(s.users->external(o) == 0, "user without a uid at ordinal %u reads an ID", o);
      CROWD_FUZZ_CHECK(s.users->find(0) != o, "user without a uid at ordinal %u is found by ID 0", o);
      continue;
    }
    const auto back = s.users->find(s.users->external(o));
    CROWD_FUZZ_CHECK(back && *back == o, "ordinal %u does not map back", o);
  }
  roaring_free_uint32_iterator(it);
  // Every link is a user of the universe's, found by its key; no key twice.
  for (const auto& named : s.spaces->all()) {
    CROWD_FUZZ_CHECK(!named.name.empty(), "a space without a name");
    const IdSpace& space = *named.space;
    std::size_t pairs = 0;
    space.for_each([&](Ordinal o, std::string_view key) {
      ++pairs;
      CROWD_FUZZ_CHECK(o < ordinals && s.universe.contains(o), "space %s links ordinal %u, not a user",
                       named.name.c_str(), o);
      const std::size_t w = space.key_bytes();
      CROWD_FUZZ_CHECK(w != 0 ? key.size() == w : !key.empty() && key.size() <= IdSpace::kMaxVariableKey,
                       "space %s: a key of %zu bytes", named.name.c_str(), key.size());
      const auto owner = space.find(key);
      CROWD_FUZZ_CHECK(owner && *owner == o, "space %s: a key of ordinal %u is not found as its", named.name.c_str(),
                       o);
    });
    CROWD_FUZZ_CHECK(pairs == space.size(), "space %s: %zu pairs, size %zu", named.name.c_str(), pairs, space.size());
  }
}

// Restores `s`, writes the index as a snapshot into `dir` with small
// sections (so the rewrite cuts user, ID and tag runs too) and reads it
// back: the same index, ID links and users without a uid included.
inline void check_round_trip(SnapshotContents s, const std::string& dir) {
  const uint64_t first_live = s.first_live_segment;
  const uint64_t covered = s.covered_lsn;
  const std::size_t tags = s.tags.size();
  const uint64_t ordinals = s.users->size();
  const auto spaces = dump(*s.spaces);
  Index index;
  index.restore(s.users, s.dictionary, std::move(s.tags), std::move(s.universe), std::move(s.entries),
                std::move(s.spaces), std::move(s.uidless));
  const auto view = index.view();
  CROWD_FUZZ_CHECK(view->tag_count() == tags && view->ordinal_count() == ordinals, "restore changed the counts");
  SnapshotInfo info;
  std::string error;
  CROWD_FUZZ_CHECK(write_snapshot(*view, first_live, covered, dir, info, error, 64), "write_snapshot: %s",
                   error.c_str());
  SnapshotContents again;
  CROWD_FUZZ_CHECK(read_snapshot(info.path, again, error), "a snapshot written from a restored one is refused: %s",
                   error.c_str());
  check_contents(again);
  CROWD_FUZZ_CHECK(again.first_live_segment == first_live, "first live segment");
  CROWD_FUZZ_CHECK(again.lsn_known && again.covered_lsn == covered, "covered LSN");
  CROWD_FUZZ_CHECK(again.tags.size() == tags && again.users->size() == ordinals, "counts after the round trip");
  CROWD_FUZZ_CHECK(equal_bitmaps(again.universe, view->universe().bits), "universe after the round trip");
  CROWD_FUZZ_CHECK(equal_bitmaps(again.uidless, view->uidless().bits), "uidless users after the round trip");
  CROWD_FUZZ_CHECK(dump(*again.spaces) == spaces, "ID links after the round trip");
  for (TagId id = 0; id < tags; ++id) {
    CROWD_FUZZ_CHECK(again.dictionary->name(id) == view->dictionary().name(id), "name %u", id);
    CROWD_FUZZ_CHECK(equal_bitmaps(again.tags[id], view->tag(id).bits), "bitmap %u", id);
  }
  // Erased users' IDs are written as 0, whatever the file held, and so are
  // those of users without a uid.
  for (Ordinal o = 0; o < ordinals; ++o) {
    const bool has_uid = view->universe().bits.contains(o) && !view->uidless().bits.contains(o);
    CROWD_FUZZ_CHECK(again.users->external(o) == (has_uid ? view->external(o) : 0), "user at ordinal %u", o);
  }
  CROWD_FUZZ_CHECK(again.entries == view->entries(), "entries after the round trip");
}

}  // namespace crowd::fuzz
