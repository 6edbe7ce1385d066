// Snapshot files: exact round trips, and refusal of every kind of damage with
// a message that says where.
#include "index/snapshot_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "index/bulk_loader.h"
#include "index/byte_order.h"
#include "index/crc32c.h"
#include "index/index.h"
#include "index/store.h"
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
  into.restore(std::move(c.users), std::move(c.dictionary), std::move(c.tags), std::move(c.universe),
               std::move(c.entries), std::move(c.spaces), std::move(c.uidless));
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

// Appends each part (GCC 12 warns falsely on "literal" + std::string).
template <class... Parts>
std::string concat_for_test(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

// ---- ID spaces and users without a uid (issue 15) -------------------------

using Link = std::pair<std::string, std::string>;  // (space, key)

constexpr std::size_t kDevWidth = 8;
constexpr std::size_t kMd5Width = 16;

std::string dev(uint64_t n) {
  std::string k = test::numbered("dev", n);
  k.resize(kDevWidth, '.');
  return k;
}
std::string oaid(uint64_t n) { return test::numbered("oaid-", n); }

// The independent model: users as the test made them -- a uid or none, and
// their keys in the order they were linked -- and which user each key
// belongs to. Each method also writes the operation into a batch.
struct IdModel {
  struct User {
    std::optional<UserId> uid;
    std::vector<Link> keys;  // oldest first
    bool erased = false;
  };
  std::vector<User> users;
  std::map<Link, std::size_t> owner;  // live keys
  std::set<Link> gone;                // keys of erased users, never linked again

  static void name_keys(WriteBatch& b, const std::vector<Link>& keys) {
    for (const auto& [space, key] : keys) b.add_person_key(b.intern_space(space), key);
  }
  static void tag(WriteBatch& b, WriteBatch::PersonRef p, std::string_view t) {
    const uint32_t local = b.intern(t);
    b.add(p, std::span(&local, 1));
  }

  // A new user with these (new) keys, with or without a uid.
  std::size_t add(WriteBatch& b, std::optional<UserId> uid, const std::vector<Link>& keys) {
    const auto p = b.add_person(uid);
    name_keys(b, keys);
    tag(b, p, "t");
    users.push_back(User{uid, keys, false});
    for (const auto& k : keys) owner[k] = users.size() - 1;
    return users.size() - 1;
  }
  // More keys for user u, named by its first key.
  void link(WriteBatch& b, std::size_t u, const std::vector<Link>& keys) {
    const auto p = b.add_person(std::nullopt);
    name_keys(b, {users[u].keys.front()});
    name_keys(b, keys);
    tag(b, p, "more");
    for (const auto& k : keys) {
      users[u].keys.push_back(k);
      owner[k] = u;
    }
  }
  // A uid for user u, who had none, named by its first key.
  void give_uid(WriteBatch& b, std::size_t u, UserId uid) {
    const auto p = b.add_person(uid);
    name_keys(b, {users[u].keys.front()});
    tag(b, p, "uid");
    users[u].uid = uid;
  }
  // Erases user u: by its uid when it has one and `by_uid`, else as a person
  // named by its first key.
  void erase(WriteBatch& b, std::size_t u, bool by_uid) {
    if (by_uid) {
      b.erase(*users[u].uid);
    } else {
      const auto p = b.add_person(std::nullopt);
      name_keys(b, {users[u].keys.front()});
      b.erase(p);
    }
    users[u].erased = true;
    for (const auto& k : users[u].keys) {
      owner.erase(k);
      gone.insert(k);
    }
  }
  [[nodiscard]] std::size_t keys_in(std::string_view space) const {
    return static_cast<std::size_t>(
        std::count_if(owner.begin(), owner.end(), [&](const auto& e) { return e.first.first == space; }));
  }
};

// Batches of every shape the snapshot must keep, each returned for the
// caller to apply (Index::apply or Store::write). `half` 0 and 1 split them
// so a test can snapshot in between.
std::vector<WriteBatch> id_batches(IdModel& m, int half) {
  std::vector<WriteBatch> out;
  if (half == 0) {
    WriteBatch define;
    define.define_space(define.intern_space("dev"), kDevWidth);
    define.define_space(define.intern_space("oaid"), 0);
    define.define_space(define.intern_space("md5"), kMd5Width);  // never given a key
    out.push_back(std::move(define));
    for (uint64_t group = 0; group < 6; ++group) {
      WriteBatch b;
      for (uint64_t i = group * 10; i < group * 10 + 10; ++i) {
        switch (i % 6) {
          case 0:  // no uid, a key in two spaces
            m.add(b, std::nullopt, {{"dev", dev(i)}, {"oaid", oaid(i)}});
            break;
          case 1:  // a uid and two keys of one space
            m.add(b, 1000 + i, {{"dev", dev(i)}, {"dev", dev(1000 + i)}});
            break;
          case 2:  // no uid, three variable keys: 1 byte, the longest, between
            m.add(b, std::nullopt,
                  {{"oaid", std::string(1, static_cast<char>(i))},
                   {"oaid", test::numbered("long-", i) + std::string(255 - test::numbered("long-", i).size(), 'x')},
                   {"oaid", oaid(i)}});
            break;
          case 3:  // a uid and no key at all
            m.add(b, 1000 + i, {});
            break;
          case 4:
            m.add(b, 1000 + i, {{"dev", dev(i)}});
            break;
          default:
            m.add(b, std::nullopt, {{"oaid", oaid(i)}});
            break;
        }
      }
      out.push_back(std::move(b));
    }
    WriteBatch zero;
    m.add(zero, UserId{0}, {{"dev", "zero-dev"}});  // a real uid 0
    out.push_back(std::move(zero));
  } else {
    WriteBatch b;
    m.erase(b, 6, false);  // no uid, erased as a person
    m.erase(b, 7, true);   // a uid, erased by it: its keys go too
    m.give_uid(b, 12, 5012);
    m.link(b, 18, {{"dev", dev(5018)}, {"oaid", oaid(5018)}});
    m.link(b, 25, {{"dev", dev(5025)}});  // a uid user's third key
    out.push_back(std::move(b));
    WriteBatch later;
    m.add(later, std::nullopt, {{"oaid", oaid(7000)}});  // a new user after the erasures
    m.erase(later, 30, false);
    out.push_back(std::move(later));
  }
  return out;
}

// Every key of the model finds its user in `v`, with the user's uid (or as a
// user without one), the keys of one user in link order, distinct users at
// distinct ordinals, erased keys nowhere.
void expect_model(const IndexView& v, const IdModel& m) {
  const UserTable& users = *v.parts().users;
  std::set<std::string> names;
  for (const auto& n : v.id_spaces().all()) names.insert(n.name);
  EXPECT_EQ(names, (std::set<std::string>{"dev", "md5", "oaid"}));
  const IdSpace* md5 = v.id_spaces().find("md5");
  ASSERT_NE(md5, nullptr);
  EXPECT_EQ(md5->key_bytes(), kMd5Width);
  EXPECT_EQ(md5->size(), 0u);
  ASSERT_NE(v.id_spaces().find("dev"), nullptr);
  EXPECT_EQ(v.id_spaces().find("dev")->key_bytes(), kDevWidth);
  ASSERT_NE(v.id_spaces().find("oaid"), nullptr);
  EXPECT_EQ(v.id_spaces().find("oaid")->key_bytes(), 0u);
  for (const char* space : {"dev", "oaid", "md5"})
    EXPECT_EQ(v.id_spaces().find(space)->size(), m.keys_in(space)) << space;

  std::set<Ordinal> seen;
  std::optional<Ordinal> uid_zero;
  for (std::size_t u = 0; u < m.users.size(); ++u) {
    const auto& user = m.users[u];
    if (user.erased) continue;
    SCOPED_TRACE(test::numbered("user #", u));
    std::optional<Ordinal> o;
    if (user.uid) {
      o = users.find(*user.uid);
      ASSERT_TRUE(o);
      EXPECT_EQ(v.external(*o), *user.uid);
      EXPECT_FALSE(v.uidless().bits.contains(*o));
      if (*user.uid == 0) uid_zero = o;
    }
    for (const auto& [space, key] : user.keys) {
      const auto found = v.owner(*v.id_spaces().find(space), key);
      ASSERT_TRUE(found) << space << " key of length " << key.size();
      if (!o) o = found;
      EXPECT_EQ(found, o) << space;
    }
    ASSERT_TRUE(o);
    EXPECT_TRUE(v.universe().bits.contains(*o));
    EXPECT_TRUE(seen.insert(*o).second) << "two users at ordinal " << *o;
    if (!user.uid) {
      EXPECT_TRUE(v.uidless().bits.contains(*o));
      EXPECT_EQ(v.external(*o), 0u);
    }
    std::vector<Link> listed;
    for (const char* space : {"dev", "oaid"}) {
      v.id_spaces().find(space)->for_each_key(*o, [&](std::string_view k) { listed.emplace_back(space, k); });
    }
    std::vector<Link> expected = user.keys;
    std::stable_partition(expected.begin(), expected.end(), [](const Link& k) { return k.first == "dev"; });
    EXPECT_EQ(listed, expected);  // per space, oldest first
  }
  // No ordinal without a uid is found by uid 0; the real uid-0 user is.
  ASSERT_TRUE(uid_zero);
  EXPECT_EQ(users.find(0), uid_zero);
  EXPECT_EQ(v.uidless().cardinality,
            static_cast<uint64_t>(std::count_if(m.users.begin(), m.users.end(),
                                                [](const IdModel::User& u) { return !u.erased && !u.uid; })));
  for (const auto& [space, key] : m.gone) {
    if (m.owner.contains(Link{space, key})) continue;
    EXPECT_FALSE(v.id_spaces().find(space)->find(key)) << space << " key of an erased user";
  }
}

std::unique_ptr<Index> id_index(IdModel& m) {
  auto index = std::make_unique<Index>();
  for (const int half : {0, 1}) {
    for (const auto& b : id_batches(m, half)) {
      WriteResult r;
      EXPECT_TRUE(index->apply(b, r)) << r.refusal;
    }
  }
  return index;
}

std::vector<uint32_t> section_types(const std::string& path) {
  std::vector<SnapshotSection> sections;
  std::string error;
  EXPECT_TRUE(list_snapshot_sections(path, sections, error)) << error;
  std::vector<uint32_t> types;
  for (const auto& s : sections) {
    EXPECT_EQ(s.flags, 1u) << "every section is required";
    types.push_back(s.type);
  }
  return types;
}

constexpr auto kUidlessType = static_cast<uint32_t>(SnapshotSectionType::kUidless);
constexpr auto kIdsType = static_cast<uint32_t>(SnapshotSectionType::kIds);
constexpr auto kUniverseType = static_cast<uint32_t>(SnapshotSectionType::kUniverse);

TEST(SnapshotIds, RoundTripMatchesAnIndependentModel) {
  IdModel model;
  const auto index = id_index(model);
  const auto view = index->view();
  expect_model(*view, model);  // the model itself is right
  ASSERT_GT(view->uidless().cardinality, 10u);
  ASSERT_LT(view->universe().cardinality, view->ordinal_count());  // erased users

  test::TempDir dir;
  for (const std::size_t section_bytes : {std::size_t{64}, std::size_t{700}, tuning::kSnapshotSectionBytes}) {
    SCOPED_TRACE(section_bytes);
    SnapshotInfo info;
    std::string error;
    ASSERT_TRUE(write_snapshot(*view, 7, 77, dir.path(), info, error, section_bytes)) << error;
    const auto types = section_types(info.path);
    const auto uidless_at = std::find(types.begin(), types.end(), kUidlessType);
    const auto universe_at = std::find(types.begin(), types.end(), kUniverseType);
    ASSERT_NE(uidless_at, types.end());
    EXPECT_EQ(uidless_at + 1, universe_at);
    const auto ids = std::count(types.begin(), types.end(), kIdsType);
    EXPECT_EQ(std::find(types.begin(), types.end(), kIdsType), universe_at + 1);
    if (section_bytes == 64) {
      EXPECT_GT(ids, 8);  // every space cut into several runs
    } else if (section_bytes == tuning::kSnapshotSectionBytes) {
      EXPECT_EQ(ids, 3);  // one a space, the empty one included
    }

    Index restored;
    ASSERT_TRUE(load(info.path, restored, error)) << error;
    const auto back = restored.view();
    EXPECT_EQ(test::same_index(*view, *back), "");
    EXPECT_TRUE(roaring_bitmap_equals(back->uidless().bits.get(), view->uidless().bits.get()));
    expect_model(*back, model);

    // The restored index writes the same file: same pairs in the same order.
    const std::string first = read_all(info.path);
    ASSERT_TRUE(write_snapshot(*back, 7, 77, dir.path(), info, error, section_bytes)) << error;
    EXPECT_EQ(read_all(info.path), first);
  }
}

// Every link of every space, in IdSpace::for_each order.
std::vector<std::tuple<std::string, Ordinal, std::string>> links_of(const IdSpaces& spaces) {
  std::vector<std::tuple<std::string, Ordinal, std::string>> out;
  for (const auto& named : spaces.all())
    named.space->for_each([&](Ordinal o, std::string_view key) { out.emplace_back(named.name, o, key); });
  return out;
}

// The spaces change in place: a snapshot written while writes run walks
// them as they are by then, so links taken ahead (under the store's writer
// lock, with the view) are what keeps the file the view's.
TEST(SnapshotIds, LinksEncodedAheadAreTheViewsWhateverWritesFollow) {
  IdModel model;
  const auto index = id_index(model);
  const auto view = index->view();
  const auto before = links_of(view->id_spaces());
  const SnapshotIds ahead = encode_snapshot_ids(*view, 64);
  EXPECT_GT(ahead.runs.size(), 8u);

  // Later: user 0 erased, its dev key then linked to user 1 (of the view).
  IdModel later = model;
  WriteBatch erase;
  later.erase(erase, 0, false);
  WriteBatch relink;
  later.link(relink, 1, {{"dev", dev(0)}});
  for (const WriteBatch* b : {&erase, &relink}) {
    WriteResult r;
    ASSERT_TRUE(index->apply(*b, r)) << r.refusal;
  }

  test::TempDir dir;
  SnapshotInfo info;
  std::string error;
  ASSERT_TRUE(write_snapshot(*view, 1, 0, dir.path(), info, error, 64, &ahead)) << error;
  Index restored;
  ASSERT_TRUE(load(info.path, restored, error)) << error;
  EXPECT_EQ(links_of(restored.view()->id_spaces()), before);
  expect_model(*restored.view(), model);

  // Walked now instead, the same view's file shows the later writes.
  ASSERT_TRUE(write_snapshot(*view, 1, 0, dir.path(), info, error, 64)) << error;
  Index walked;
  ASSERT_TRUE(load(info.path, walked, error)) << error;
  EXPECT_NE(links_of(walked.view()->id_spaces()), before);
}

TEST(SnapshotIds, WritesAfterARestoreResolveAsBefore) {
  IdModel model;
  const auto index = id_index(model);
  test::TempDir dir;
  SnapshotInfo info;
  std::string error;
  ASSERT_TRUE(write_snapshot(*index->view(), 1, 0, dir.path(), info, error, 256)) << error;
  Index restored;
  ASSERT_TRUE(load(info.path, restored, error)) << error;
  const uint64_t users = restored.view()->universe().cardinality;
  // A known key names its user (no new one); a uid-less user is given a uid;
  // an erased user's key makes a new user.
  WriteBatch b;
  model.link(b, 24, {{"oaid", oaid(9024)}});
  model.give_uid(b, 18, 6018);
  model.gone.erase(Link{"oaid", oaid(6)});
  model.add(b, std::nullopt, {{"oaid", oaid(6)}});
  WriteResult r;
  ASSERT_TRUE(restored.apply(b, r)) << r.refusal;
  EXPECT_EQ(restored.view()->universe().cardinality, users + 1);
  expect_model(*restored.view(), model);
}

TEST(SnapshotIds, AnIndexWithoutIdsWritesNeitherSection) {
  test::TempDir dir;
  const auto index = random_index(3, 200);
  SnapshotInfo info;
  std::string error;
  ASSERT_TRUE(write_snapshot(*index->view(), 1, 0, dir.path(), info, error, 512)) << error;
  for (const uint32_t t : section_types(info.path)) {
    EXPECT_NE(t, kUidlessType);
    EXPECT_NE(t, kIdsType);
  }
  SnapshotContents c;
  ASSERT_TRUE(read_snapshot(info.path, c, error)) << error;
  ASSERT_TRUE(c.spaces);
  EXPECT_TRUE(c.spaces->empty());
  EXPECT_TRUE(c.uidless.empty());

  // Spaces defined, no key yet, every user with a uid: one empty run a
  // space, still no uidless section.
  WriteBatch define;
  define.define_space(define.intern_space("b"), 32);
  define.define_space(define.intern_space("a"), 0);
  WriteResult r;
  ASSERT_TRUE(index->apply(define, r)) << r.refusal;
  ASSERT_TRUE(write_snapshot(*index->view(), 1, 0, dir.path(), info, error, 512)) << error;
  const auto types = section_types(info.path);
  EXPECT_EQ(std::count(types.begin(), types.end(), kIdsType), 2);
  EXPECT_EQ(std::count(types.begin(), types.end(), kUidlessType), 0);
  ASSERT_TRUE(read_snapshot(info.path, c, error)) << error;
  ASSERT_EQ(c.spaces->all().size(), 2u);
  EXPECT_EQ(c.spaces->all()[0].name, "a");
  EXPECT_EQ(c.spaces->all()[0].space->key_bytes(), 0u);
  EXPECT_EQ(c.spaces->all()[1].name, "b");
  EXPECT_EQ(c.spaces->all()[1].space->key_bytes(), 32u);
  EXPECT_EQ(c.spaces->all()[1].space->size(), 0u);
}

// A snapshot of the ID index taken apart into its sections, changed, and put
// back together with every checksum right: the loader's own checks.
class DamagedIds : public ::testing::Test {
 protected:
  struct Part {
    uint32_t type;
    std::string payload;
  };

  void SetUp() override {
    index_ = id_index(model_);
    SnapshotInfo info;
    std::string error;
    ASSERT_TRUE(write_snapshot(*index_->view(), 9, 0, dir_.path(), info, error, 64)) << error;
    path_ = info.path;
    good_ = read_all(path_);
    std::vector<SnapshotSection> sections;
    ASSERT_TRUE(list_snapshot_sections(path_, sections, error)) << error;
    for (const auto& s : sections)
      parts_.push_back(Part{s.type, good_.substr(s.offset + kSectionHeaderBytes, s.payload_bytes)});
    const auto v = index_->view();
    for (Ordinal o = 0; o < v->ordinal_count() && !erased_; ++o)
      if (!v->universe().bits.contains(o)) erased_ = o;
    ASSERT_TRUE(erased_);
    a_ = *v->owner(*v->id_spaces().find("dev"), dev(0));
    b_ = *v->owner(*v->id_spaces().find("dev"), dev(1));
  }

  // The file of these parts, written over the snapshot.
  void put(const std::vector<Part>& parts) {
    std::string file = good_.substr(0, kHeaderBytes);
    for (const auto& p : parts) file += section(p.type, 1, p.payload);
    le::store_u32(file.data() + 12, static_cast<uint32_t>(parts.size()));
    le::store_u64(file.data() + 24, file.size());
    reseal_header(file);
    write_all(path_, file);
  }

  // Loading must fail, naming the file, section `index` and its offset.
  std::string refusal(const std::vector<Part>& parts, std::size_t index) {
    put(parts);
    Index into;
    std::string error;
    EXPECT_FALSE(load(path_, into, error));
    std::size_t offset = kHeaderBytes;
    for (std::size_t i = 0; i < index; ++i) offset += kSectionHeaderBytes + parts[i].payload.size();
    EXPECT_NE(error.find(path_), std::string::npos) << error;
    EXPECT_NE(error.find(test::numbered("section ", index)), std::string::npos) << error;
    EXPECT_NE(error.find(test::numbered("at offset ", offset)), std::string::npos) << error;
    return error;
  }

  // Where the first part of `type` is, and where the last ids run of `space` is.
  [[nodiscard]] std::size_t first(uint32_t type) const {
    for (std::size_t i = 0; i < parts_.size(); ++i)
      if (parts_[i].type == type) return i;
    ADD_FAILURE() << "no section of type " << type;
    return 0;
  }
  [[nodiscard]] std::size_t last_run_of(std::string_view space) const {
    std::size_t at = 0;
    for (std::size_t i = 0; i < parts_.size(); ++i) {
      if (parts_[i].type != kIdsType) continue;
      const std::string& p = parts_[i].payload;
      if (std::string_view(p).substr(4, le::load_u32(p.data())) == space) at = i;
    }
    EXPECT_NE(at, 0u) << space;
    return at;
  }

  // An ids payload: name, width, then the pairs as given (keys prefixed by
  // their length when the width is 0).
  static std::string run(std::string_view name, uint32_t width,
                         const std::vector<std::pair<uint32_t, std::string>>& pairs,
                         std::optional<uint64_t> count = std::nullopt) {
    std::string p;
    le::append_u32(p, static_cast<uint32_t>(name.size()));
    p += name;
    le::append_u32(p, width);
    le::append_u64(p, count.value_or(pairs.size()));
    for (const auto& [o, key] : pairs) {
      le::append_u32(p, o);
      if (width == 0) p.push_back(static_cast<char>(key.size()));
      p += key;
    }
    return p;
  }

  // `parts_` with `extra` inserted at `at`.
  [[nodiscard]] std::vector<Part> with(std::size_t at, Part extra) const {
    auto parts = parts_;
    parts.insert(parts.begin() + static_cast<std::ptrdiff_t>(at), std::move(extra));
    return parts;
  }

  static std::string serialized(const Bitmap& b) {
    std::string out(roaring_bitmap_portable_size_in_bytes(b.get()), '\0');
    roaring_bitmap_portable_serialize(b.get(), out.data());
    return out;
  }

  IdModel model_;
  std::unique_ptr<Index> index_;
  test::TempDir dir_;
  std::string path_;
  std::string good_;
  std::vector<Part> parts_;
  std::optional<Ordinal> erased_;
  Ordinal a_ = 0;  // owners of dev(0) and dev(1)
  Ordinal b_ = 0;
};

TEST_F(DamagedIds, TheGoodFileLoads) {
  put(parts_);
  Index into;
  std::string error;
  ASSERT_TRUE(load(path_, into, error)) << error;
  expect_model(*into.view(), model_);
  EXPECT_NE(a_, b_);
}

TEST_F(DamagedIds, AByteFlippedInAnIdsOrUidlessSectionIsRefused) {
  std::vector<SnapshotSection> sections;
  std::string error;
  ASSERT_TRUE(list_snapshot_sections(path_, sections, error)) << error;
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const auto& s = sections[i];
    if (s.type != kIdsType && s.type != kUidlessType) continue;
    std::string bad = good_;
    bad[s.offset + kSectionHeaderBytes + s.payload_bytes / 2] ^= 0x04;
    write_all(path_, bad);
    Index into;
    EXPECT_FALSE(load(path_, into, error));
    EXPECT_NE(error.find(test::numbered("section ", i)), std::string::npos) << error;
    EXPECT_NE(error.find("checksum"), std::string::npos) << error;
  }
}

TEST_F(DamagedIds, AKeyLinkedToTwoUsersIsRefused) {
  // dev(0) again, now for dev(1)'s owner, in a run right after dev's last.
  const std::size_t at = last_run_of("dev") + 1;
  const auto error = refusal(with(at, Part{kIdsType, run("dev", kDevWidth, {{b_, dev(0)}})}), at);
  EXPECT_NE(error.find(concat_for_test("pair 0 (payload offset 19): the key of ordinal ", b_,
                                       " is already linked to ordinal ", a_)),
            std::string::npos)
      << error;
  EXPECT_EQ(error.find(dev(0)), std::string::npos) << "a message never shows a key";
}

TEST_F(DamagedIds, AKeyRepeatedForItsOwnUserIsRefused) {
  const std::size_t at = last_run_of("dev") + 1;
  const auto error = refusal(with(at, Part{kIdsType, run("dev", kDevWidth, {{a_, dev(0)}})}), at);
  EXPECT_NE(error.find("repeats a key of ordinal"), std::string::npos) << error;
}

TEST_F(DamagedIds, AnOrdinalOutsideTheUniverseIsRefused) {
  const std::size_t at = last_run_of("dev") + 1;
  // A new key for an erased user: its keys must never come back.
  auto error = refusal(with(at, Part{kIdsType, run("dev", kDevWidth, {{*erased_, dev(9999)}})}), at);
  EXPECT_NE(error.find("is not in the universe"), std::string::npos) << error;
  const uint32_t count = index_->view()->ordinal_count();
  error = refusal(with(at, Part{kIdsType, run("dev", kDevWidth, {{count, dev(9999)}})}), at);
  EXPECT_NE(error.find(concat_for_test("ordinal ", count, " but only ", count, " ordinals exist")), std::string::npos)
      << error;
}

TEST_F(DamagedIds, AKeyOfTheWrongWidthIsRefused) {
  const std::size_t at = last_run_of("dev") + 1;
  // A run of dev with another width.
  auto error = refusal(with(at, Part{kIdsType, run("dev", 16, {{a_, dev(9999) + dev(9999)}})}), at);
  EXPECT_NE(error.find("continues with key width 16, begun with 8"), std::string::npos) << error;
  // A pair cut short, 7 bytes of an 8-byte key: the count no longer fits.
  std::string cut = run("dev", kDevWidth, {{a_, dev(9999)}});
  cut.pop_back();
  error = refusal(with(at, Part{kIdsType, cut}), at);
  EXPECT_NE(error.find("1 pairs in 11 bytes (room for at most 0)"), std::string::npos) << error;
  // A variable key longer than what is left, an empty one, a width no space
  // can have.
  const std::size_t oaid_at = last_run_of("oaid") + 1;
  std::string past = run("oaid", 0, {{a_, "abc"}});
  past[past.size() - 4] = static_cast<char>(200);
  error = refusal(with(oaid_at, Part{kIdsType, past}), oaid_at);
  EXPECT_NE(error.find("pair 0 (payload offset 20): runs past the end of the section"), std::string::npos) << error;
  error = refusal(with(oaid_at, Part{kIdsType, run("oaid", 0, {{a_, ""}, {a_, "zz"}})}), oaid_at);
  EXPECT_NE(error.find("pair 0 (payload offset 20): an empty key"), std::string::npos) << error;
  error = refusal(with(at, Part{kIdsType, run("wide", 256, {})}), at);
  EXPECT_NE(error.find("key width 256 (at most 255)"), std::string::npos) << error;
}

TEST_F(DamagedIds, RunsOfASpaceMustBeConsecutiveAndNamed) {
  // md5 sorts between dev and oaid: a dev run after oaid's.
  const std::size_t at = last_run_of("oaid") + 1;
  auto error = refusal(with(at, Part{kIdsType, run("dev", kDevWidth, {{a_, dev(9999)}})}), at);
  EXPECT_NE(error.find("space 'dev' again after another space's runs"), std::string::npos) << error;
  error = refusal(with(at, Part{kIdsType, run("", kDevWidth, {})}), at);
  EXPECT_NE(error.find("a space without a name"), std::string::npos) << error;
  // A count the payload cannot hold is refused before anything is sized.
  error = refusal(with(at, Part{kIdsType, run("new", kDevWidth, {{a_, dev(9999)}}, uint64_t{1} << 40)}), at);
  EXPECT_NE(error.find("room for at most 1"), std::string::npos) << error;
  // Bytes after the last pair.
  error = refusal(with(at, Part{kIdsType, run("new", kDevWidth, {{a_, dev(9999)}}, 0)}), at);
  EXPECT_NE(error.find("12 bytes after the last pair"), std::string::npos) << error;
}

TEST_F(DamagedIds, IdsBeforeTheUniverseAreRefused) {
  const std::size_t universe = first(kUniverseType);
  const auto error = refusal(with(universe, Part{kIdsType, run("new", kDevWidth, {})}), universe);
  EXPECT_NE(error.find("comes before the universe section"), std::string::npos) << error;
}

TEST_F(DamagedIds, UidlessMustComeBeforeTheUniverseAndStayWithinIt) {
  const std::size_t at = first(kUidlessType);
  ASSERT_EQ(parts_[at + 1].type, kUniverseType);
  // After the universe (the user table's rebuild may have begun).
  auto parts = parts_;
  std::swap(parts[at], parts[at + 1]);
  auto error = refusal(parts, at + 1);
  EXPECT_NE(error.find("comes after the universe section"), std::string::npos) << error;
  // Twice.
  error = refusal(with(at, parts_[at]), at + 1);
  EXPECT_NE(error.find("a second uidless section"), std::string::npos) << error;
  // Holding an erased user.
  const auto v = index_->view();
  Bitmap uidless = v->uidless().bits.clone();
  uidless.add(*erased_);
  parts = parts_;
  parts[at].payload = serialized(uidless);
  put(parts);
  Index into;
  EXPECT_FALSE(load(path_, into, error));
  EXPECT_NE(
      error.find(concat_for_test("the uidless section holds ordinal ", *erased_, ", which is not in the universe")),
      std::string::npos)
      << error;
}

TEST_F(DamagedIds, WithoutItsUidlessSectionUsersWithoutUidAreUidZero) {
  // What the section is for: dropped, the users without a uid read as uid 0
  // -- a duplicate ID, which the loader refuses rather than guess.
  auto parts = parts_;
  parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(first(kUidlessType)));
  put(parts);
  Index into;
  std::string error;
  EXPECT_FALSE(load(path_, into, error));
  EXPECT_NE(error.find("external ID 0"), std::string::npos) << error;
}

TEST(SnapshotIds, LinksSurviveAStoreSnapshotAndLogReplay) {
  const test::TempDir dir;
  StoreOptions options;
  options.data_dir = dir.path();
  std::string error;
  IdModel model;
  auto write_batches = [&model](Store& store, int half) {
    for (const auto& b : id_batches(model, half)) {
      WriteResult r;
      ASSERT_EQ(store.write(b, r), WriteStatus::kOk) << r.refusal;
    }
  };
  {
    auto store = Store::open(options, error);
    ASSERT_TRUE(store) << error;
    write_batches(*store, 0);
    SnapshotInfo info;
    ASSERT_TRUE(store->snapshot(info, error)) << error;
    write_batches(*store, 1);  // erasures, a uid given, new keys: in the log only
  }
  {
    std::string notes;
    auto store = Store::open(options, error, &notes);
    ASSERT_TRUE(store) << error;
    EXPECT_NE(notes.find("replayed"), std::string::npos) << notes;
    expect_model(*store->view(), model);
    // Keys from the snapshot still name their users: no new user.
    const uint64_t users = store->view()->universe().cardinality;
    WriteBatch b;
    model.link(b, 36, {{"oaid", oaid(8036)}});
    WriteResult r;
    ASSERT_EQ(store->write(b, r), WriteStatus::kOk) << r.refusal;
    EXPECT_EQ(store->view()->universe().cardinality, users);
    SnapshotInfo info;
    ASSERT_TRUE(store->snapshot(info, error)) << error;
  }
  auto store = Store::open(options, error);
  ASSERT_TRUE(store) << error;
  expect_model(*store->view(), model);
}

}  // namespace
}  // namespace crowd
