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
// User IDs and tags are cut into sections of about
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
  std::vector<std::string> notes;  // optional sections skipped
};

// Writes `view` as <dir>/snapshot.crowd (via the .tmp file, see above, mode
// 0600), recording that replay resumes at log segment `first_live_segment`
// and that the view holds the log up to record `covered_lsn`.
// O(index size): the bytes are serialised bitmaps plus 8 bytes a user. On
// failure (ENOSPC, EIO) the old snapshot is untouched, the .tmp is removed,
// and `error` names the file and the call.
// `section_bytes` is where user and tag sections are cut (tests make it small).
[[nodiscard]] bool write_snapshot(const IndexView& view, uint64_t first_live_segment, uint64_t covered_lsn,
                                  const std::string& dir, SnapshotInfo& info, std::string& error,
                                  std::size_t section_bytes = tuning::kSnapshotSectionBytes);

// Reads and verifies a snapshot file: every header and section CRC, every
// length against its bound, every ordinal against the user count, and that
// users and tags are all there. O(file size), reading a section at a time.
// Any problem fails with a message naming the file, the section and the
// byte offset; nothing is ever half-loaded.
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
