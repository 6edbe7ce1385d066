// The snapshot file: one IndexView on disk, and the log segment where replay
// resumes. Written from an immutable view, so writes go on meanwhile.
//
// <data-dir>/snapshot.crowd; all integers little-endian.
//
//   header, 40 bytes
//    0  8  magic "crowdsnp"
//    8  4  u32 format version (2; 1 is still read)
//   12  4  u32 number of sections
//   16  8  u64 first live log segment: replay resumes at wal-<this>.log
//   24  8  u64 size of the whole file in bytes
//   32  4  u32 reserved (0)
//   36  4  u32 CRC-32C of bytes 0..35
//
//   then sections back to back up to the end of the file, each
//    0  4  u32 type
//    4  4  u32 flags; bit 0 "required": a reader that does not know the
//              type must refuse the file (else it may skip the section)
//    8  8  u64 payload length
//   16  4  u32 CRC-32C of the payload
//   20  4  u32 CRC-32C of bytes 0..19
//   24  .  payload
//
// Version 1 sections, all required; meta comes first:
//   1 meta        u64 ordinal count (users ever handed an ordinal, deleted
//                 ones included), u64 tag count
//   2 users       u64 first ordinal, u64 n, n x u64 external ID; one or more
//                 runs in ordinal order covering every ordinal
//   3 universe    the universe bitmap, CRoaring portable format
//   4 dictionary  u64 n, n x (u32 length, bytes): tag names in TagId order
//   5 tags        u64 first TagId, u64 n, n x (u64 length, portable bitmap);
//                 one or more runs in TagId order covering every tag
// Added later (the format version stays 1: an older reader refuses these
// files by the "required" flag rather than misreading them):
//   6 entries     u64 n, n x (u32 length, key bytes, u32 length, text bytes):
//                 the index's metadata entries (saved crowds' definitions);
//                 written only when there are any, required
// Version 2 (issue 14) adds, right after meta, required and always present:
//   7 log         u64 the LSN of the last log record the snapshot holds
//                 (wal_format.h): recovery checks that the first live
//                 segment starts right after it. Version 1 files have no log
//                 section and are read as before.
// Issue 15 (identity) adds, still version 2, two required sections written
// only when they have something to say, so a file of an index without ID
// spaces and without users lacking a uid is byte for byte what the former
// writer wrote, and an older reader refuses the others by the "required" flag
// rather than dropping every ID link:
//   8 uidless     the users of the universe that have no uid (made from other
//                 IDs only), CRoaring portable format, a subset of the
//                 universe; before the universe section. Their external ID
//                 is written as 0 in users and, like an erased user's, found
//                 by no ID on restore -- ID 0 stays a real user's.
//   9 ids         one ID space's links, or a run of them: u32 name length,
//                 name bytes, u32 key width (0: variable), u64 n, then n x
//                 (u32 ordinal, key): exactly `width` bytes, or for width 0 a
//                 u8 length 1..255 and that many bytes. Pairs in
//                 IdSpace::for_each order (ordinals ascending, each user's
//                 keys oldest first, which restore keeps). After the universe
//                 section; a space's sections are consecutive with the same
//                 name and width, names are distinct and non-empty, a space
//                 with no keys is one section with n = 0. Every ordinal is in
//                 the universe (an erased user's keys never come back) and
//                 every key belongs to one user.
// The writer's order: meta, log, users, uidless, universe, ids, dictionary,
// tags, entries.
// User IDs, ID links and tags are cut into sections of about
// tuning::kSnapshotSectionBytes so a reader verifies a CRC with one section,
// not the whole file, in memory. Later versions add section types (saved
// crowds, numeric attributes) without changing these.
//
// Written as snapshot.crowd.tmp, synced, renamed over snapshot.crowd, and the
// directory synced: a crash leaves the old snapshot or the new one, never a
// mix. A leftover .tmp is removed at the next start.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "index/bitmap.h"
#include "index/id_spaces.h"
#include "index/index_view.h"
#include "index/tag_dictionary.h"
#include "index/tuning.h"
#include "index/user_table.h"

namespace crowd {

inline constexpr std::string_view kSnapshotFileName = "snapshot.crowd";
inline constexpr std::string_view kSnapshotTempFileName = "snapshot.crowd.tmp";

enum class SnapshotSectionType : uint32_t {
  kMeta = 1,
  kUsers = 2,
  kUniverse = 3,
  kDictionary = 4,
  kTags = 5,
  kEntries = 6,
  kLog = 7,
  kUidless = 8,
  kIds = 9,
};

struct SnapshotInfo {
  uint64_t bytes = 0;   // file size
  uint64_t micros = 0;  // wall time to write (or read) it
  std::string path;
};

// What a snapshot holds, ready for Index::restore().
struct SnapshotContents {
  uint64_t first_live_segment = 1;
  uint32_t version = 0;
  bool lsn_known = false;    // a log section was read (version 2)
  uint64_t covered_lsn = 0;  // the last log record the snapshot holds
  std::shared_ptr<UserTable> users;
  std::shared_ptr<const TagDictionary> dictionary;
  std::vector<Bitmap> tags;  // by TagId
  Bitmap universe;
  IndexView::Entries entries;
  std::shared_ptr<const IdSpaces> spaces;  // never null after a read (empty without ids sections)
  Bitmap uidless;                          // within the universe
  std::vector<std::string> notes;          // optional sections skipped
};

// The ids sections' payloads of a view, encoded ahead: taken where no write
// runs (the store's writer lock, right after the view), written by
// write_snapshot() later, outside the lock. O(links): one walk of the
// spaces; 4 + key bytes (+1 for a variable key) a link, held in memory until
// written.
struct SnapshotIds {
  std::vector<std::string> runs;  // in file order
};
[[nodiscard]] SnapshotIds encode_snapshot_ids(const IndexView& view,
                                              std::size_t section_bytes = tuning::kSnapshotSectionBytes);

// Writes `view` as <dir>/snapshot.crowd (via the .tmp file, see above, mode
// 0600), recording that replay resumes at log segment `first_live_segment`
// and that the view holds the log up to record `covered_lsn`.
// O(index size): the bytes are serialised bitmaps plus 8 bytes a user and
// 4 + key bytes (+1 for a variable key) an ID link. On failure (ENOSPC, EIO)
// the old snapshot is untouched, the .tmp is removed, and `error` names the
// file and the call.
// `section_bytes` is where user, ID and tag sections are cut (tests make it
// small).
//
// ID spaces are shared by every view and changed in place by the writer
// (id_spaces.h), so the ID links are not part of the immutable view: they
// are walked when the sections are written, keeping only those of users of
// `view` (below its count, in its universe). A write to the spaces meanwhile
// may still show -- a key linked to one of those users after the view was
// taken, one of their keys unlinked -- and then the file is not the view,
// and the log replayed over it may resolve persons otherwise than the first
// run did. So either no write runs meanwhile (the writer lock held: a bulk
// load, tests), or `ids` holds the links as encode_snapshot_ids(view) took
// them while the view was current, and they are written instead of walked.
[[nodiscard]] bool write_snapshot(const IndexView& view, uint64_t first_live_segment, uint64_t covered_lsn,
                                  const std::string& dir, SnapshotInfo& info, std::string& error,
                                  std::size_t section_bytes = tuning::kSnapshotSectionBytes,
                                  const SnapshotIds* ids = nullptr);

// Reads and verifies a snapshot file: every header and section CRC, every
// length against its bound, every ordinal against the user count (and an ID
// link's against the universe), every key against its space's width and
// other owners, and that users and tags are all there. ID links go into new
// IdSpaces on two threads of their own (a space at a time each; the reading
// thread goes on to the dictionary and tags meanwhile), which read their
// sections again by offset, check them as above and link them with
// IdSpace::link_many, each space's hash sized once from the counts of its
// sections. O(file size), reading a section at a time on each of the three
// threads (three section buffers at most). Any problem fails with a message
// naming the file, the section and the byte offset -- the first problem in
// file order, whichever thread found it; nothing is ever half-loaded.
[[nodiscard]] bool read_snapshot(const std::string& path, SnapshotContents& out, std::string& error);

// Where the sections of a snapshot file are (tests, inspection). Checks the
// header and section headers, not the payloads.
struct SnapshotSection {
  uint32_t type = 0;
  uint32_t flags = 0;
  uint64_t offset = 0;  // of the section header
  uint64_t payload_bytes = 0;
};
[[nodiscard]] bool list_snapshot_sections(const std::string& path, std::vector<SnapshotSection>& out,
                                          std::string& error);

}  // namespace crowd
