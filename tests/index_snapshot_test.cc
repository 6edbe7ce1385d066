// Snapshot files: exact round trips, and refusal of every kind of damage with
// a message that says where.
#include "index/snapshot_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "index/bulk_loader.h"
#include "index/byte_order.h"
#include "index/crc32c.h"
#include "index/index.h"
#include "tests/support/index_test_util.h"

namespace crowd {
namespace {

using test::read_all;
using test::write_all;

std::unique_ptr<Index> random_index(uint64_t seed, int batches) {
  auto index = std::make_unique<Index>();
  test::Workload w(seed);
  for (int i = 0; i < batches; ++i) {
    WriteResult r;
    EXPECT_TRUE(index->apply(w.batch(), r));
  }
  return index;
}

// Loads a snapshot into a fresh index.
bool load(const std::string& path, Index& into, std::string& error, SnapshotContents* keep = nullptr) {
  SnapshotContents c;
  if (!read_snapshot(path, c, error)) return false;
  into.restore(std::move(c.users), std::move(c.dictionary), std::move(c.tags), std::move(c.universe));
  if (keep != nullptr) {
    keep->first_live_segment = c.first_live_segment;
    keep->lsn_known = c.lsn_known;
    keep->covered_lsn = c.covered_lsn;
    keep->version = c.version;
    keep->notes = c.notes;
  }
  return true;
}

// Header fields the tests patch (snapshot_file.h documents the layout).
constexpr std::size_t kHeaderBytes = 40;
constexpr std::size_t kSectionHeaderBytes = 24;

void reseal_header(std::string& file) { le::store_u32(file.data() + 36, crc32c(file.data(), 36)); }

void reseal_section(std::string& file, const SnapshotSection& s) {
  char* h = file.data() + s.offset;
  le::store_u32(h + 16, crc32c(h + kSectionHeaderBytes, s.payload_bytes));
  le::store_u32(h + 20, crc32c(h, 20));
}

std::string section(uint32_t type, uint32_t flags, const std::string& payload) {
  std::string s(kSectionHeaderBytes, '\0');
  le::store_u32(s.data(), type);
  le::store_u32(s.data() + 4, flags);
  le::store_u64(s.data() + 8, payload.size());
  le::store_u32(s.data() + 16, crc32c(payload.data(), payload.size()));
  le::store_u32(s.data() + 20, crc32c(s.data(), 20));
  return s + payload;
}

void append_section(std::string& file, const std::string& sec) {
  file += sec;
  le::store_u32(file.data() + 12, le::load_u32(file.data() + 12) + 1);
  le::store_u64(file.data() + 24, file.size());
  reseal_header(file);
}

TEST(Snapshot, RoundTripsARandomIndexExactly) {
  test::TempDir dir;
  const auto view = random_index(1, 3000)->view();
  ASSERT_GT(view->tag_count(), 10u);
  // Tiny sections: user IDs and bitmaps are cut into many runs.
  for (const std::size_t section_bytes : {std::size_t{64}, std::size_t{1000}, tuning::kSnapshotSectionBytes}) {
    SnapshotInfo info;
    std::string error;
    ASSERT_TRUE(write_snapshot(*view, 42, 4242, dir.path(), info, error, section_bytes)) << error;
    EXPECT_EQ(info.path, dir.file(kSnapshotFileName));
    EXPECT_EQ(info.bytes, std::filesystem::file_size(info.path));
    EXPECT_FALSE(std::filesystem::exists(dir.file(kSnapshotTempFileName)));

    Index restored;
    SnapshotContents meta;
    ASSERT_TRUE(load(info.path, restored, error, &meta)) << error;
    EXPECT_EQ(meta.first_live_segment, 42u);
    EXPECT_EQ(meta.version, 2u);
    EXPECT_TRUE(meta.lsn_known);
    EXPECT_EQ(meta.covered_lsn, 4242u);
    EXPECT_TRUE(meta.notes.empty());
    EXPECT_EQ(test::same_index(*view, *restored.view()), "") << section_bytes;
    // The restored user table resolves IDs to the same ordinals, so writes
    // after a restore land where they would have; an erased user's ordinal
    // (outside the universe) is found by no ID, its ID written as 0.
    std::size_t erased = 0;
    for (Ordinal o = 0; o < view->ordinal_count(); ++o) {
      if (view->universe().bits.contains(o)) {
        ASSERT_EQ(restored.users().find(view->external(o)), std::optional<Ordinal>(o));
      } else {
        ++erased;
        EXPECT_EQ(restored.view()->external(o), 0u);
        EXPECT_NE(restored.users().find(view->external(o)), std::optional<Ordinal>(o));
      }
    }
    EXPECT_GT(erased, 0u);  // the random index erases users
  }
}

TEST(Snapshot, RoundTripsAnEmptyIndex) {
  test::TempDir dir;
  Index empty;
  SnapshotInfo info;
  std::string error;
  ASSERT_TRUE(write_snapshot(*empty.view(), 1, 0, dir.path(), info, error)) << error;
  Index restored;
  ASSERT_TRUE(load(info.path, restored, error)) << error;
  EXPECT_EQ(test::same_index(*empty.view(), *restored.view()), "");
  EXPECT_EQ(restored.view()->tag_count(), 0u);
}

TEST(Snapshot, RoundTripsBulkLoadedRunContainers) {
  test::TempDir dir;
  Index index;
  BulkLoader loader(index);
  const uint32_t dense = loader.tag("dense");
  const uint32_t sparse = loader.tag("sparse");
  for (UserId u = 0; u < 200000; ++u) {
    std::vector<uint32_t> tags{dense};
    if (u % 1000 == 0) tags.push_back(sparse);
    ASSERT_TRUE(loader.add(UINT64_MAX - u, tags));
  }
  loader.finish();
  SnapshotInfo info;
  std::string error;
  ASSERT_TRUE(write_snapshot(*index.view(), 3, 0, dir.path(), info, error)) << error;
  Index restored;
  ASSERT_TRUE(load(info.path, restored, error)) << error;
  EXPECT_EQ(test::same_index(*index.view(), *restored.view()), "");
}

class DamagedSnapshot : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto index = random_index(5, 500);
    SnapshotInfo info;
    std::string error;
    // Small sections so there are several users and tags runs.
    ASSERT_TRUE(write_snapshot(*index->view(), 9, 0, dir_.path(), info, error, 2048)) << error;
    path_ = info.path;
    good_ = read_all(path_);
    ASSERT_TRUE(list_snapshot_sections(path_, sections_, error)) << error;
    ASSERT_GE(sections_.size(), 6u);
  }

  // Loading must fail; returns the message.
  std::string refusal() {
    Index into;
    std::string error;
    EXPECT_FALSE(load(path_, into, error));
    EXPECT_NE(error.find(path_), std::string::npos) << error;
    return error;
  }

  test::TempDir dir_;
  std::string path_;
  std::string good_;
  std::vector<SnapshotSection> sections_;
};

TEST_F(DamagedSnapshot, AByteFlippedInAnySectionIsRefused) {
  for (std::size_t i = 0; i < sections_.size(); ++i) {
    const auto& s = sections_[i];
    // In the payload (first, middle, last byte) and in the section header.
    std::vector<uint64_t> spots{s.offset, s.offset + 8, s.offset + 20};
    if (s.payload_bytes > 0) {
      const uint64_t p = s.offset + kSectionHeaderBytes;
      spots.insert(spots.end(), {p, p + s.payload_bytes / 2, p + s.payload_bytes - 1});
    }
    for (const uint64_t at : spots) {
      std::string bad = good_;
      bad[at] ^= 0x10;
      write_all(path_, bad);
      const std::string error = refusal();
      EXPECT_NE(error.find("section " + std::to_string(i)), std::string::npos) << error;
      EXPECT_NE(error.find("offset " + std::to_string(s.offset)), std::string::npos) << error;
    }
  }
}

TEST_F(DamagedSnapshot, AByteFlippedInTheHeaderIsRefused) {
  for (std::size_t at = 0; at < kHeaderBytes; ++at) {
    std::string bad = good_;
    bad[at] ^= 0x01;
    write_all(path_, bad);
    (void)refusal();
  }
}

TEST_F(DamagedSnapshot, ATruncatedFileIsRefused) {
  for (const std::size_t size : {std::size_t{0}, std::size_t{17}, kHeaderBytes - 1, kHeaderBytes, kHeaderBytes + 5,
                                 good_.size() / 2, good_.size() - 1}) {
    write_all(path_, good_.substr(0, size));
    const auto error = refusal();
    EXPECT_NE(error.find("truncated"), std::string::npos) << error;
  }
}

TEST_F(DamagedSnapshot, TrailingBytesAreRefused) {
  write_all(path_, good_ + "x");
  EXPECT_NE(refusal().find("appended"), std::string::npos);
}

TEST_F(DamagedSnapshot, ASectionCutAtItsBoundaryIsRefused) {
  // Drop the last section and fix up the header so every checksum passes:
  // the loader must notice the missing tags.
  std::string bad = good_.substr(0, sections_.back().offset);
  le::store_u32(bad.data() + 12, static_cast<uint32_t>(sections_.size() - 1));
  le::store_u64(bad.data() + 24, bad.size());
  reseal_header(bad);
  write_all(path_, bad);
  EXPECT_NE(refusal().find("missing"), std::string::npos);
}

TEST_F(DamagedSnapshot, AnUnknownRequiredSectionIsRefused) {
  std::string bad = good_;
  append_section(bad, section(77, 1, "future"));
  write_all(path_, bad);
  const auto error = refusal();
  EXPECT_NE(error.find("type 77"), std::string::npos) << error;
  EXPECT_NE(error.find("newer"), std::string::npos) << error;
}

TEST_F(DamagedSnapshot, AnUnknownOptionalSectionIsSkipped) {
  std::string extended = good_;
  append_section(extended, section(78, 0, "optional extra"));
  write_all(path_, extended);
  Index into;
  SnapshotContents meta;
  std::string error;
  ASSERT_TRUE(load(path_, into, error, &meta)) << error;
  ASSERT_EQ(meta.notes.size(), 1u);
  EXPECT_NE(meta.notes[0].find("type 78"), std::string::npos);
}

TEST_F(DamagedSnapshot, ANewerFormatVersionIsRefused) {
  std::string bad = good_;
  le::store_u32(bad.data() + 8, 3);
  reseal_header(bad);
  write_all(path_, bad);
  EXPECT_NE(refusal().find("version 3"), std::string::npos);
}

TEST_F(DamagedSnapshot, AVersionTwoSnapshotWithoutItsLogSectionIsRefused) {
  const auto& log = sections_[1];
  ASSERT_EQ(log.type, static_cast<uint32_t>(SnapshotSectionType::kLog));
  std::string bad = good_;
  bad.erase(log.offset, kSectionHeaderBytes + log.payload_bytes);
  le::store_u32(bad.data() + 12, static_cast<uint32_t>(sections_.size() - 1));
  le::store_u64(bad.data() + 24, bad.size());
  reseal_header(bad);
  write_all(path_, bad);
  EXPECT_NE(refusal().find("the log section missing"), std::string::npos);
}

// Damage that passes every checksum (a writer bug): the loader's own checks.
TEST_F(DamagedSnapshot, ABitmapBeyondTheUserCountIsRefused) {
  std::string bad = good_;
  const auto& meta = sections_[0];
  ASSERT_EQ(meta.type, static_cast<uint32_t>(SnapshotSectionType::kMeta));
  char* p = bad.data() + meta.offset + kSectionHeaderBytes;
  le::store_u64(p, le::load_u64(p) - 1);  // one ordinal fewer than the bitmaps use
  reseal_section(bad, meta);
  write_all(path_, bad);
  (void)refusal();
}

// Found by tests/fuzz/fuzz_snapshot.cc: counts are checksummed, not proven.
// A meta section claiming 2^32-2 tags used to be reserved for at once
// (std::bad_alloc, crowdd terminated); it must be refused like any damage,
// whether or not the dictionary repeats the count.
TEST_F(DamagedSnapshot, AnImpossibleTagCountIsRefusedWithoutAllocatingForIt) {
  const auto& meta = sections_[0];
  ASSERT_EQ(meta.type, static_cast<uint32_t>(SnapshotSectionType::kMeta));
  const SnapshotSection* dictionary = nullptr;
  for (const auto& s : sections_)
    if (s.type == static_cast<uint32_t>(SnapshotSectionType::kDictionary)) dictionary = &s;
  ASSERT_NE(dictionary, nullptr);
  for (const bool dictionary_agrees : {false, true}) {
    std::string bad = good_;
    le::store_u64(bad.data() + meta.offset + kSectionHeaderBytes + 8, uint64_t{0xFFFF'FFFE});
    reseal_section(bad, meta);
    if (dictionary_agrees) {
      le::store_u64(bad.data() + dictionary->offset + kSectionHeaderBytes, uint64_t{0xFFFF'FFFE});
      reseal_section(bad, *dictionary);
    }
    write_all(path_, bad);
    EXPECT_NE(refusal().find("4294967294"), std::string::npos);
  }
}

// Found by tests/fuzz/fuzz_snapshot.cc: a universe whose array container is
// out of order (256, 2, 3) passed CRoaring's checks, and the loader's
// roaring_bitmap_flip over it wrote past the container's allocation.
TEST_F(DamagedSnapshot, AMalformedBitmapIsRefused) {
  const SnapshotSection* universe = nullptr;
  for (const auto& s : sections_)
    if (s.type == static_cast<uint32_t>(SnapshotSectionType::kUniverse)) universe = &s;
  ASSERT_NE(universe, nullptr);
  // One array container, key 0, three values, offset 16: portable format.
  const std::string unsorted("\x3a\x30\x00\x00\x01\x00\x00\x00\x00\x00\x02\x00\x10\x00\x00\x00"
                             "\x00\x01\x02\x00\x03\x00",
                             22);
  const std::size_t end = universe->offset + kSectionHeaderBytes + universe->payload_bytes;
  std::string bad = good_.substr(0, universe->offset) +
                    section(static_cast<uint32_t>(SnapshotSectionType::kUniverse), 1, unsorted) + good_.substr(end);
  le::store_u64(bad.data() + 24, bad.size());
  reseal_header(bad);
  write_all(path_, bad);
  EXPECT_NE(refusal().find("malformed portable Roaring bitmap"), std::string::npos);
}

// Found by fuzz_snapshot (corpus/snapshot/repro-snapshot-tag-outside-universe):
// checksums right, every bitmap well formed and within the ordinals, but a
// tag holds a user the universe does not -- it would be counted and exported
// though not there, and no DELETE could reach it.
TEST_F(DamagedSnapshot, ATagHoldingAUserOutsideTheUniverseIsRefused) {
  SnapshotContents contents;
  std::string error;
  ASSERT_TRUE(read_snapshot(path_, contents, error)) << error;
  // Take out of the universe the smallest user of the last non-empty tag; the
  // refusal names the first tag holding that user.
  std::size_t last = contents.tags.size();
  while (last > 0 && contents.tags[last - 1].empty()) --last;
  ASSERT_GT(last, 0u);
  const uint32_t user = roaring_bitmap_minimum(contents.tags[last - 1].get());
  std::size_t first = 0;
  while (!roaring_bitmap_contains(contents.tags[first].get(), user)) ++first;
  roaring_bitmap_remove(contents.universe.get(), user);
  std::string universe(roaring_bitmap_portable_size_in_bytes(contents.universe.get()), '\0');
  roaring_bitmap_portable_serialize(contents.universe.get(), universe.data());

  const SnapshotSection* old = nullptr;
  for (const auto& s : sections_)
    if (s.type == static_cast<uint32_t>(SnapshotSectionType::kUniverse)) old = &s;
  ASSERT_NE(old, nullptr);
  const std::size_t end = old->offset + kSectionHeaderBytes + old->payload_bytes;
  std::string bad = good_.substr(0, old->offset) +
                    section(static_cast<uint32_t>(SnapshotSectionType::kUniverse), old->flags, universe) +
                    good_.substr(end);
  le::store_u64(bad.data() + 24, bad.size());
  reseal_header(bad);
  write_all(path_, bad);
  EXPECT_NE(refusal().find("TagId " + std::to_string(first) + " holds ordinal " + std::to_string(user) +
                           ", which is not in the universe"),
            std::string::npos);
}

TEST_F(DamagedSnapshot, ADuplicateUserIdIsRefused) {
  std::string bad = good_;
  const auto& users = sections_[2];  // after meta and log
  ASSERT_EQ(users.type, static_cast<uint32_t>(SnapshotSectionType::kUsers));
  char* ids = bad.data() + users.offset + kSectionHeaderBytes + 16;
  ASSERT_GE(users.payload_bytes, 16u + 16u);
  std::memcpy(ids + 8, ids, 8);  // ordinal 1 gets ordinal 0's ID
  reseal_section(bad, users);
  write_all(path_, bad);
  EXPECT_NE(refusal().find("already has ordinal 0"), std::string::npos);
}

TEST(Snapshot, AFailedWriteLeavesTheOldSnapshot) {
  test::TempDir dir;
  const auto index = random_index(8, 100);
  SnapshotInfo info;
  std::string error;
  ASSERT_TRUE(write_snapshot(*index->view(), 4, 0, dir.path(), info, error)) << error;
  const std::string before = read_all(info.path);
  // The .tmp name is taken by a directory: the write fails before touching
  // the live file.
  std::filesystem::create_directory(dir.file(kSnapshotTempFileName));
  EXPECT_FALSE(write_snapshot(*index->view(), 5, 0, dir.path(), info, error));
  EXPECT_NE(error.find(kSnapshotTempFileName), std::string::npos) << error;
  EXPECT_EQ(read_all(dir.file(kSnapshotFileName)), before);
}

}  // namespace
}  // namespace crowd
