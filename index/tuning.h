// Tuning constants of the index, each with its reason.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace crowd::tuning {

// Ordinals are handed out densely; the ordinal->external table grows in
// chunks that never move, so readers of an older version can index it while
// the writer appends. 2^16 entries (512 KiB) a chunk matches Roaring's own
// 2^16-value containers; 2^16 chunks cover the whole u32 ordinal space.
inline constexpr unsigned kUserChunkBits = 16;
inline constexpr std::size_t kUserChunkSize = std::size_t{1} << kUserChunkBits;
inline constexpr std::size_t kUserChunkCount = std::size_t{1} << (32 - kUserChunkBits);

// Bulk building buffers this many ordinals per tag before handing them to
// roaring_bitmap_add_many: large enough to amortise the call and the
// container lookup, small enough that 10,000 tags' buffers (160 MiB at 4096)
// stay well inside memory.
inline constexpr std::size_t kBulkTagBuffer = 4096;

// Group commit (--fsync batch): after the first unsynced write the flusher
// waits this long, then one fdatasync acknowledges every write that arrived
// meanwhile. An fdatasync costs ~0.05-0.5 ms on local NVMe and 2-10 ms on
// network or spinning disks; 1 ms adds at most a millisecond to a write's
// latency while capping the sync rate near 1,000/s however many writers
// there are.
inline constexpr std::chrono::microseconds kGroupCommitWindow{1000};

// Log segments are read back in chunks of this size at recovery: few
// syscalls for a log of small records, little memory.
inline constexpr std::size_t kLogReadChunkBytes = std::size_t{4} << 20;

// The largest log record (one encoded WriteBatch). Ingest bodies are far
// smaller; the limit bounds what recovery allocates for one record.
inline constexpr std::size_t kMaxLogRecordBytes = std::size_t{1} << 30;

// Log replay concatenates consecutive records into one batch of about this
// many operations before applying it: every Index::apply publishes a view
// (copying the per-tag pointer vector, 10,000 entries at 10,000 tags), so
// replaying 20,000 one-user writes one at a time took 3.9 s, concatenated
// 0.09 s (1M users, 10,000 tags).
inline constexpr std::size_t kReplayBatchOps = std::size_t{1} << 16;

// Records that cannot be concatenated (values, entries such as a replica's
// stream position) are replayed, and a replica's waiting stream messages
// applied, as groups of up to this many operations (Index::apply_each): a
// tag the group changes is copied once, not once a record. Bounds the
// decoded batches held at once (tens of bytes an operation).
inline constexpr std::size_t kGroupOps = std::size_t{1} << 21;

// Snapshot sections of user IDs and of tag bitmaps are cut at about this
// size. A reader checks a section's CRC before it decodes a byte, so it
// holds one section in memory: this bounds the extra memory of a load while
// keeping reads large enough to stream from disk.
inline constexpr std::size_t kSnapshotSectionBytes = std::size_t{64} << 20;

// Fused counts read an array container of at least this many members as a
// bitset expanded beside it (DenseChunks): from ~1.5% of a chunk, one 8 KiB
// word pass (~0.2 us) is cheaper than touching 1,024+ members (~1.5 ns each),
// and the extra memory per container (8 KiB over a 2+ KiB array) stays
// within 4x of what it speeds up.
inline constexpr int32_t kDenseMinMembers = 1024;

// The budget of all DenseChunks of a process. Caches are built only for tags
// that are counted, so this bounds the cost of a long tail of queried tags:
// 256 MiB is ~200 few-percent tags at 10M users (1.25 MiB each).
inline constexpr std::size_t kDenseCacheBytes = std::size_t{256} << 20;

}  // namespace crowd::tuning
