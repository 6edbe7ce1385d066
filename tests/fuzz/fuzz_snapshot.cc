// Fuzz target: the snapshot reader (index/snapshot_file.h, read_snapshot).
//
// Input: one mode byte, then the file's bytes, written to a memfd that
// read_snapshot() opens by its /proc/self/fd path. Mode bit 0 set: before
// writing, the harness repairs the header's size field and every CRC it can
// reach (header, then each section header and payload while the declared
// lengths fit), so mutations get past the checksums to the section decoders;
// clear: the bytes as they are (checksums, truncation, garbage).
//
// Checks when a file is accepted: the contents are consistent (a name per
// tag bitmap, an external ID per ordinal, every bitmap within the ordinals,
// every tag within the universe), restore() takes them, and writing the
// restored index as a snapshot and reading that back gives the same contents.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "index/byte_order.h"
#include "index/crc32c.h"
#include "index/index.h"
#include "index/snapshot_file.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/memfd_input.h"

using namespace crowd;

namespace {

struct Files {
  int fd = -1;
  std::string path;  // of the memfd
  std::string dir;   // for the round trip's write_snapshot
};

Files& files() {
  static Files* f = [] {
    auto* out = new Files();
    out->fd = make_memfd("fuzz-snapshot");
    out->path = "/proc/self/fd/" + std::to_string(out->fd);
    char pattern[] = "/tmp/crowd-fuzz-snapshot-XXXXXX";
    CROWD_FUZZ_CHECK(::mkdtemp(pattern) != nullptr, "mkdtemp");
    out->dir = pattern;
    // Removed at exit, with what write_snapshot left in it.
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(files().dir, ec);
    });
    return out;
  }();
  return *f;
}

// The layout of snapshot_file.h: a 40-byte header, then sections of a
// 24-byte header and a payload.
void repair(std::string& f) {
  if (f.size() < 40) return;
  char* p = f.data();
  le::store_u64(p + 24, f.size());
  le::store_u32(p + 36, crc32c(p, 36));
  const uint32_t sections = le::load_u32(p + 12);
  uint64_t offset = 40;
  for (uint32_t i = 0; i < sections && f.size() - offset >= 24; ++i) {
    char* h = p + offset;
    const uint64_t length = le::load_u64(h + 8);
    if (length > f.size() - offset - 24) break;
    le::store_u32(h + 16, crc32c(h + 24, static_cast<std::size_t>(length)));
    le::store_u32(h + 20, crc32c(h, 20));
    offset += 24 + length;
  }
}

bool equal_bitmaps(const Bitmap& a, const Bitmap& b) { return roaring_bitmap_equals(a.get(), b.get()); }

void check_contents(const SnapshotContents& s) {
  CROWD_FUZZ_CHECK(s.users && s.dictionary, "a part is missing");
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
  // Users in the universe are found by ID; erased ones (outside it) keep only
  // their ordinal.
  roaring_uint32_iterator_t* it = roaring_create_iterator(s.universe.get());
  for (; it->has_value; roaring_advance_uint32_iterator(it)) {
    const Ordinal o = it->current_value;
    const auto back = s.users->find(s.users->external(o));
    CROWD_FUZZ_CHECK(back && *back == o, "ordinal %u does not map back", o);
  }
  roaring_free_uint32_iterator(it);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return -1;
  Files& f = files();
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) != 0) repair(bytes);
  put(f.fd, bytes);

  SnapshotContents s;
  std::string error;
  if (!read_snapshot(f.path, s, error)) {
    CROWD_FUZZ_CHECK(!error.empty(), "refused without a reason");
    return 0;
  }
  check_contents(s);

  // Restore, write, read back: the same index.
  const uint64_t first_live = s.first_live_segment;
  const uint64_t covered = s.covered_lsn;
  const std::size_t tags = s.tags.size();
  const uint64_t ordinals = s.users->size();
  Index index;
  index.restore(s.users, s.dictionary, std::move(s.tags), std::move(s.universe), std::move(s.entries));
  const auto view = index.view();
  CROWD_FUZZ_CHECK(view->tag_count() == tags && view->ordinal_count() == ordinals, "restore changed the counts");
  SnapshotInfo info;
  // Small sections, so the rewrite cuts user and tag runs too.
  CROWD_FUZZ_CHECK(write_snapshot(*view, first_live, covered, f.dir, info, error, 64), "write_snapshot: %s",
                   error.c_str());
  SnapshotContents again;
  CROWD_FUZZ_CHECK(read_snapshot(info.path, again, error), "a snapshot written from a restored one is refused: %s",
                   error.c_str());
  check_contents(again);
  CROWD_FUZZ_CHECK(again.first_live_segment == first_live, "first live segment");
  CROWD_FUZZ_CHECK(again.lsn_known && again.covered_lsn == covered, "covered LSN");
  CROWD_FUZZ_CHECK(again.tags.size() == tags && again.users->size() == ordinals, "counts after the round trip");
  CROWD_FUZZ_CHECK(equal_bitmaps(again.universe, view->universe().bits), "universe after the round trip");
  for (TagId id = 0; id < tags; ++id) {
    CROWD_FUZZ_CHECK(again.dictionary->name(id) == view->dictionary().name(id), "name %u", id);
    CROWD_FUZZ_CHECK(equal_bitmaps(again.tags[id], view->tag(id).bits), "bitmap %u", id);
  }
  // Erased users' IDs are written as 0, whatever the file held.
  for (Ordinal o = 0; o < ordinals; ++o) {
    const bool live = roaring_bitmap_contains(view->universe().bits.get(), o);
    CROWD_FUZZ_CHECK(again.users->external(o) == (live ? view->external(o) : 0), "user at ordinal %u", o);
  }
  CROWD_FUZZ_CHECK(again.entries == view->entries(), "entries after the round trip");
  return 0;
}
