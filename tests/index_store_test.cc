// Store: durability end to end — restore from snapshot and log, torn tails,
// corruption, snapshots under concurrent writes, fsync policies, I/O errors,
// and a killed process.
#include "index/store.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include "index/bulk_loader.h"
#include "index/wal_format.h"
#include "index/wal_reader.h"
#include "tests/support/index_test_util.h"

namespace crowd {
namespace {

using test::read_all;
using test::write_all;

std::unique_ptr<Store> open_store(const std::string& dir, FsyncPolicy policy = FsyncPolicy::kBatch,
                                  std::string* notes = nullptr) {
  std::string error;
  auto store = Store::open(StoreOptions{dir, policy}, error, notes);
  EXPECT_TRUE(store) << error;
  return store;
}

// Opening must fail; returns the message.
std::string refusal(const std::string& dir) {
  std::string error;
  auto store = Store::open(StoreOptions{dir, FsyncPolicy::kBatch}, error);
  EXPECT_FALSE(store);
  EXPECT_FALSE(error.empty());
  return error;
}

void write(Store& store, const WriteBatch& b) {
  WriteResult r;
  ASSERT_EQ(store.write(b, r), WriteStatus::kOk) << store.last_io_error();
}

WriteBatch add(UserId user, const std::vector<std::string>& tags) { return test::add_batch(user, tags); }

// Record offsets of a segment file, in order.
std::vector<uint64_t> record_offsets(const std::string& path) {
  std::vector<uint64_t> offsets;
  SegmentScan scan;
  std::string error;
  EXPECT_TRUE(scan_segment(
      path, *wal::parse_segment_file_name(std::filesystem::path(path).filename().string()), false,
      [&](std::string_view, uint64_t offset, std::string&) {
        offsets.push_back(offset);
        return true;
      },
      scan, error))
      << error;
  return offsets;
}

std::string segment(const test::TempDir& dir, uint64_t seq) { return dir.file(wal::segment_file_name(seq)); }

TEST(Store, MemoryOnlyAppliesWritesAndCannotSnapshot) {
  auto store = open_store("");
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->persistent());
  WriteResult r;
  ASSERT_EQ(store->write(add(1, {"a"}), r), WriteStatus::kOk);
  EXPECT_EQ(r.added, 1u);
  SnapshotInfo info;
  std::string error;
  EXPECT_FALSE(store->snapshot(info, error));
  EXPECT_NE(error.find("memory-only"), std::string::npos);
  EXPECT_EQ(store->wal_bytes(), 0u);
  ASSERT_TRUE(store->bulk_load([](Index& index) { (void)index.users().find_or_add(9); }, error));
  store->flush();
}

TEST(Store, RoundTripsThroughASnapshot) {
  test::TempDir dir;
  test::Model model;
  std::shared_ptr<const IndexView> before;
  {
    // kOff: the policies have their own round trips; this one is about volume.
    auto store = open_store(dir.path(), FsyncPolicy::kOff);
    test::Workload w(1);
    for (int i = 0; i < 1500; ++i) {
      const auto b = w.batch();
      write(*store, b);
      model.apply(b);
    }
    SnapshotInfo info;
    std::string error;
    ASSERT_TRUE(store->snapshot(info, error)) << error;
    EXPECT_GT(info.bytes, 0u);
    before = store->view();
  }
  // The snapshot covers everything: the log it replaced is gone.
  EXPECT_FALSE(std::filesystem::exists(segment(dir, 1)));
  std::string notes;
  auto store = open_store(dir.path(), FsyncPolicy::kBatch, &notes);
  ASSERT_TRUE(store);
  EXPECT_NE(notes.find("restored"), std::string::npos) << notes;
  EXPECT_EQ(test::same_index(*before, *store->view()), "");
  EXPECT_EQ(model.diff(*store->view()), "");
}

TEST(Store, ReplaysTheLogAfterTheSnapshot) {
  test::TempDir dir;
  test::Model model;
  std::shared_ptr<const IndexView> before;
  int logged = 0;  // records after the second snapshot
  {
    // kOff: the policies have their own round trips; this one is about volume.
    auto store = open_store(dir.path(), FsyncPolicy::kOff);
    test::Workload w(2);
    for (int i = 0; i < 3000; ++i) {
      const auto b = w.batch();
      const uint64_t wal_before = store->wal_bytes();
      write(*store, b);
      model.apply(b);
      // An erasure of nobody is not logged (Index::erases_nobody).
      if (i > 2000 && store->wal_bytes() > wal_before) ++logged;
      if (i == 1000 || i == 2000) {
        SnapshotInfo info;
        std::string error;
        ASSERT_TRUE(store->snapshot(info, error)) << error;
      }
    }
    before = store->view();
  }
  std::string notes;
  auto store = open_store(dir.path(), FsyncPolicy::kBatch, &notes);
  ASSERT_TRUE(store);
  EXPECT_GT(logged, 900);
  EXPECT_NE(notes.find("replayed " + std::to_string(logged) + " log records"), std::string::npos) << notes;
  EXPECT_EQ(test::same_index(*before, *store->view()), "");
  EXPECT_EQ(model.diff(*store->view()), "");
  // And once more, after writing on top of the replayed log.
  test::Workload w(3);
  for (int i = 0; i < 100; ++i) {
    const auto b = w.batch();
    write(*store, b);
    model.apply(b);
  }
  before = store->view();
  store.reset();
  store = open_store(dir.path());
  EXPECT_EQ(test::same_index(*before, *store->view()), "");
  EXPECT_EQ(model.diff(*store->view()), "");
}

class StorePolicy : public ::testing::TestWithParam<FsyncPolicy> {};

TEST_P(StorePolicy, RoundTripsWithoutASnapshot) {
  test::TempDir dir;
  test::Model model;
  std::shared_ptr<const IndexView> before;
  {
    auto store = open_store(dir.path(), GetParam());
    test::Workload w(4);
    for (int i = 0; i < 300; ++i) {
      const auto b = w.batch();
      write(*store, b);
      model.apply(b);
    }
    before = store->view();
  }
  auto store = open_store(dir.path(), GetParam());
  ASSERT_TRUE(store);
  EXPECT_EQ(test::same_index(*before, *store->view()), "");
  EXPECT_EQ(model.diff(*store->view()), "");
}

INSTANTIATE_TEST_SUITE_P(Policies, StorePolicy,
                         ::testing::Values(FsyncPolicy::kAlways, FsyncPolicy::kBatch, FsyncPolicy::kOff),
                         [](const auto& param) { return std::string(fsync_policy_name(param.param)); });

TEST(Store, ATornLastRecordIsDroppedAtEveryByteAndLaterWritesSurvive) {
  test::TempDir original;
  std::vector<WriteBatch> batches;
  {
    auto store = open_store(original.path(), FsyncPolicy::kOff);
    test::Workload w(5);
    for (int i = 0; i < 20; ++i) {
      batches.push_back(w.batch(4));
      write(*store, batches.back());
    }
  }
  const std::string log = read_all(segment(original, 1));
  const uint64_t last = record_offsets(segment(original, 1)).back();
  test::Model all_but_last;
  for (std::size_t i = 0; i + 1 < batches.size(); ++i) all_but_last.apply(batches[i]);

  for (uint64_t cut = last + 1; cut < log.size(); ++cut) {
    test::TempDir dir;
    write_all(segment(dir, 1), log.substr(0, cut));
    std::string notes;
    auto store = open_store(dir.path(), FsyncPolicy::kOff, &notes);
    ASSERT_TRUE(store) << cut;
    EXPECT_NE(notes.find("torn"), std::string::npos) << notes;
    EXPECT_NE(notes.find("offset " + std::to_string(last)), std::string::npos) << notes;
    ASSERT_EQ(all_but_last.diff(*store->view()), "") << "cut at " << cut;
    // The log goes on in a new segment, and survives another restart.
    test::Model after = all_but_last;
    const auto extra = add(777, {"after:" + std::to_string(cut)});
    write(*store, extra);
    after.apply(extra);
    store.reset();
    store = open_store(dir.path(), FsyncPolicy::kOff, &notes);
    ASSERT_TRUE(store);
    EXPECT_EQ(notes.find("torn"), std::string::npos) << notes;
    ASSERT_EQ(after.diff(*store->view()), "") << "cut at " << cut;
  }
}

TEST(Store, ACorruptRecordInTheMiddleRefusesToStart) {
  test::TempDir dir;
  {
    auto store = open_store(dir.path());
    test::Workload w(6);
    for (int i = 0; i < 30; ++i) write(*store, w.batch());
  }
  const std::string path = segment(dir, 1);
  const std::string good = read_all(path);
  const auto offsets = record_offsets(path);
  for (const std::size_t victim : {std::size_t{0}, offsets.size() / 2, offsets.size() - 2}) {
    for (const uint64_t delta : {uint64_t{1}, uint64_t{13}}) {  // in the header, in the payload
      std::string bad = good;
      bad[offsets[victim] + delta] ^= 0x20;
      write_all(path, bad);
      const auto error = refusal(dir.path());
      EXPECT_NE(error.find(path), std::string::npos) << error;
      EXPECT_NE(error.find("offset " + std::to_string(offsets[victim])), std::string::npos) << error;
    }
  }
  write_all(path, good);
  EXPECT_TRUE(open_store(dir.path()));
}

TEST(Store, ACorruptEarlierSegmentRefusesToStart) {
  test::TempDir dir;
  {
    auto store = open_store(dir.path());
    test::Workload w(7);
    for (int i = 0; i < 10; ++i) write(*store, w.batch());
  }
  {
    auto store = open_store(dir.path());  // writes on in segment 2
    write(*store, add(1, {"x"}));
  }
  std::string bytes = read_all(segment(dir, 1));
  bytes.resize(bytes.size() - 3);  // a torn tail, but not in the last segment
  write_all(segment(dir, 1), bytes);
  const auto error = refusal(dir.path());
  EXPECT_NE(error.find(segment(dir, 1)), std::string::npos) << error;
}

TEST(Store, ACorruptOrTruncatedSnapshotRefusesToStart) {
  test::TempDir dir;
  {
    auto store = open_store(dir.path());
    test::Workload w(8);
    for (int i = 0; i < 300; ++i) write(*store, w.batch());
    SnapshotInfo info;
    std::string error;
    ASSERT_TRUE(store->snapshot(info, error)) << error;
  }
  const std::string path = dir.file(kSnapshotFileName);
  const std::string good = read_all(path);
  std::vector<SnapshotSection> sections;
  std::string error;
  ASSERT_TRUE(list_snapshot_sections(path, sections, error)) << error;
  for (const auto& s : sections) {
    std::string bad = good;
    bad[s.offset + 24 + s.payload_bytes / 2] ^= 0x01;
    write_all(path, bad);
    const auto message = refusal(dir.path());
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("offset " + std::to_string(s.offset)), std::string::npos) << message;
  }
  write_all(path, good.substr(0, good.size() - 100));
  EXPECT_NE(refusal(dir.path()).find("truncated"), std::string::npos);
  write_all(path, good);
  EXPECT_TRUE(open_store(dir.path()));
}

TEST(Store, AMissingLogSegmentRefusesToStart) {
  test::TempDir dir;
  for (int session = 0; session < 3; ++session) {
    auto store = open_store(dir.path());
    write(*store, add(static_cast<UserId>(session), {"s"}));
  }
  std::filesystem::remove(segment(dir, 2));
  EXPECT_NE(refusal(dir.path()).find(segment(dir, 2) + " is missing"), std::string::npos);
}

TEST(Store, SnapshotsWhileWritersRunLoseNothingAcknowledged) {
  test::TempDir dir;
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 400;
  std::vector<test::Model> models(kWriters);
  std::shared_ptr<const IndexView> before;
  {
    auto store = open_store(dir.path(), FsyncPolicy::kBatch);
    std::atomic<int> running{kWriters};
    std::vector<std::thread> threads;
    for (int t = 0; t < kWriters; ++t) {
      threads.emplace_back([&, t] {
        // Each writer owns its users (IDs t mod kWriters), so the final state
        // does not depend on how the writers interleave.
        test::Workload w(100 + t);
        for (int i = 0; i < kPerWriter; ++i) {
          WriteBatch b;
          const auto source = w.batch(3);
          for (const auto& op : source.ops()) {
            std::vector<uint32_t> tags;
            for (const uint32_t x : source.tags_of(op)) tags.push_back(b.intern(source.names()[x]));
            const UserId user = op.user - op.user % kWriters + t;
            if (op.kind == WriteBatch::Kind::kAdd) b.add(user, tags);
            if (op.kind == WriteBatch::Kind::kRemove) b.remove(user, tags);
            if (op.kind == WriteBatch::Kind::kErase) b.erase(user);
          }
          WriteResult r;
          ASSERT_EQ(store->write(b, r), WriteStatus::kOk);
          models[t].apply(b);
        }
        --running;
      });
    }
    int snapshots = 0;
    while (running > 0) {
      SnapshotInfo info;
      std::string error;
      ASSERT_TRUE(store->snapshot(info, error)) << error;
      ++snapshots;
    }
    for (auto& th : threads) th.join();
    EXPECT_GT(snapshots, 1);
    before = store->view();
  }
  auto store = open_store(dir.path());
  ASSERT_TRUE(store);
  EXPECT_EQ(test::same_index(*before, *store->view()), "");
  // Every writer's acknowledged writes, by external IDs and tag names.
  const auto v = store->view();
  for (int t = 0; t < kWriters; ++t) {
    std::size_t mine = 0;
    for (Ordinal o = 0; o < v->ordinal_count(); ++o) mine += v->external(o) % kWriters == static_cast<UserId>(t);
    EXPECT_GT(mine, 0u);
  }
}

TEST(Store, ConcurrentWritersAllCountAndPersist) {
  test::TempDir dir;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 150;
  std::atomic<uint64_t> added{0};
  {
    auto store = open_store(dir.path(), FsyncPolicy::kAlways);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          WriteResult r;
          const UserId user = static_cast<UserId>(t) * 1000000 + static_cast<UserId>(i);
          ASSERT_EQ(store->write(add(user, {"t:" + std::to_string(t), "all"}), r), WriteStatus::kOk);
          added += r.added;
          // Readers run alongside.
          (void)store->view()->universe().cardinality;
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  EXPECT_EQ(added.load(), uint64_t{kThreads * kPerThread * 2});
  auto store = open_store(dir.path());
  const auto v = store->view();
  EXPECT_EQ(v->universe().cardinality, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(v->tag(*v->dictionary().find("all")).cardinality, uint64_t{kThreads * kPerThread});
}

TEST(Store, BulkLoadIsDurableWithoutTheLog) {
  test::TempDir dir;
  std::shared_ptr<const IndexView> before;
  {
    auto store = open_store(dir.path());
    std::string error;
    ASSERT_TRUE(store->bulk_load(
        [](Index& index) {
          BulkLoader loader(index);
          const uint32_t a = loader.tag("bulk:a");
          const uint32_t b = loader.tag("bulk:b");
          for (UserId u = 0; u < 50000; ++u) {
            ASSERT_TRUE(loader.add(u * 3, u % 2 ? std::vector<uint32_t>{a} : std::vector<uint32_t>{a, b}));
          }
          loader.finish();
        },
        error))
        << error;
    EXPECT_TRUE(std::filesystem::exists(dir.file(kSnapshotFileName)));
    EXPECT_LT(store->wal_bytes(), 100u);  // just a segment header
    write(*store, add(3, {"after"}));
    before = store->view();
  }
  auto store = open_store(dir.path());
  EXPECT_EQ(test::same_index(*before, *store->view()), "");
  EXPECT_EQ(store->view()->universe().cardinality, 50000u);
}

TEST(Store, WalBytesGrowWithWritesAndShrinkAfterASnapshot) {
  test::TempDir dir;
  auto store = open_store(dir.path());
  const uint64_t empty = store->wal_bytes();
  EXPECT_EQ(empty, wal::kSegmentHeaderBytes);
  test::Workload w(9);
  for (int i = 0; i < 100; ++i) write(*store, w.batch());
  EXPECT_EQ(store->wal_bytes(), std::filesystem::file_size(segment(dir, 1)));
  SnapshotInfo info;
  std::string error;
  ASSERT_TRUE(store->snapshot(info, error)) << error;
  EXPECT_EQ(store->wal_bytes(), wal::kSegmentHeaderBytes);
}

TEST(Store, TheDataDirectoryIsLocked) {
  test::TempDir dir;
  auto first = open_store(dir.path());
  ASSERT_TRUE(first);
  EXPECT_NE(refusal(dir.path()).find("in use"), std::string::npos);
  first.reset();
  EXPECT_TRUE(open_store(dir.path()));
}

TEST(Store, ALeftoverTempSnapshotIsRemoved) {
  test::TempDir dir;
  { auto store = open_store(dir.path()); }
  write_all(dir.file(kSnapshotTempFileName), "half a snapshot");
  std::string notes;
  auto store = open_store(dir.path(), FsyncPolicy::kBatch, &notes);
  EXPECT_NE(notes.find("unfinished snapshot"), std::string::npos) << notes;
  EXPECT_FALSE(std::filesystem::exists(dir.file(kSnapshotTempFileName)));
}

// A failed log write (here EFBIG from RLIMIT_FSIZE, standing in for ENOSPC)
// changes nothing, leaves no partial record, and later writes go on.
TEST(Store, AFailedLogWriteChangesNothing) {
  test::TempDir dir;
  auto store = open_store(dir.path(), FsyncPolicy::kAlways);
  write(*store, add(1, {"small"}));
  const auto version = store->view()->version();
  const uint64_t size = std::filesystem::file_size(segment(dir, 1));

  WriteBatch big;
  std::vector<uint32_t> tags;
  for (int i = 0; i < 2000; ++i) tags.push_back(big.intern("big:" + std::to_string(i)));
  big.add(2, tags);

  struct rlimit old_limit {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  const auto old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit tight = old_limit;
  tight.rlim_cur = size + 1000;  // the record is ~30 KB: a partial write, then EFBIG
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &tight), 0);
  WriteResult r;
  const auto status = store->write(big, r);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  signal(SIGXFSZ, old_handler);

  EXPECT_EQ(status, WriteStatus::kIoError);
  EXPECT_NE(store->last_io_error().find(segment(dir, 1)), std::string::npos) << store->last_io_error();
  EXPECT_EQ(store->view()->version(), version);
  EXPECT_FALSE(store->view()->dictionary().find("big:0"));
  EXPECT_EQ(std::filesystem::file_size(segment(dir, 1)), size);

  write(*store, add(3, {"later"}));
  const auto before = store->view();
  store.reset();
  store = open_store(dir.path());
  EXPECT_EQ(test::same_index(*before, *store->view()), "");
}

// Right to erasure (issue 5): after a user is deleted and the next snapshot
// is written, neither the ID's bytes nor its decimal text is in any file of
// the data directory; after a restart the ID is unknown, and a user who comes
// back after the snapshot gets the same ordinal on replay as in the run that
// wrote the log (erased IDs are forgotten by ID at once, not only on disk).
TEST(Store, AnErasedIdIsInNoFileAfterTheNextSnapshot) {
  test::TempDir dir;
  // Distinctive IDs: neither the 8 bytes nor the 19-20 digits occur by chance.
  const UserId erased = 0x5A17C3D2E4F6A8B9ULL;
  const UserId kept = 0x6B28D4E3F5A7B9CAULL;
  const UserId returning = 0x7C39E5F4A6B8CADBULL;
  auto store = open_store(dir.path(), FsyncPolicy::kAlways);
  ASSERT_TRUE(store);
  for (const UserId u : {erased, kept, returning}) write(*store, add(u, {"seg:a", "seg:b"}));
  WriteBatch gone;
  gone.erase(erased);
  write(*store, gone);
  WriteBatch leaves;
  leaves.erase(returning);
  write(*store, leaves);
  SnapshotInfo info;
  std::string error;
  ASSERT_TRUE(store->snapshot(info, error)) << error;
  // After the snapshot: `returning` comes back (the log holds this).
  write(*store, add(returning, {"seg:b"}));
  const auto before = store->view();

  auto file_holding = [&](UserId id) -> std::string {
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(id >> (8 * i));
    const std::string text = std::to_string(id);
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      const auto content = read_all(entry.path().string());
      if (content.find(bytes) != std::string::npos || content.find(text) != std::string::npos) {
        return entry.path().filename().string();
      }
    }
    return "";
  };
  EXPECT_EQ(file_holding(erased), "");
  EXPECT_NE(file_holding(kept), "");  // the search itself works
  EXPECT_NE(file_holding(returning), "");  // in the log, written after the snapshot

  store.reset();
  store = open_store(dir.path());
  ASSERT_TRUE(store);
  EXPECT_EQ(test::same_index(*before, *store->view()), "");
  EXPECT_FALSE(store->index().users().find(erased));
  EXPECT_TRUE(store->index().users().find(kept));
  EXPECT_EQ(store->view()->universe().cardinality, 2u);
  // Deleting the unknown ID again changes nothing and is not logged: a
  // deletion request must not put the ID it names back on disk.
  const uint64_t wal_before = store->wal_bytes();
  WriteResult again;
  ASSERT_EQ(store->write(gone, again), WriteStatus::kOk);
  EXPECT_EQ(again.erased, 0u);
  EXPECT_EQ(store->wal_bytes(), wal_before);
  EXPECT_EQ(file_holding(erased), "");
  // The erased user may come back, as a new user with no old tags.
  write(*store, add(erased, {"seg:c"}));
  const auto v = store->view();
  const auto o = store->index().users().find(erased);
  ASSERT_TRUE(o);
  EXPECT_FALSE(v->tag(*v->dictionary().find("seg:a")).bits.contains(*o));
  EXPECT_EQ(v->universe().cardinality, 3u);
}

// A child process writes with --fsync always and reports each acknowledged
// write; it is killed at a random moment (snapshots included). Everything it
// reported must be there after a restart. SIGKILL keeps the page cache, so
// this checks the process-crash half of the promise, not power loss.
TEST(Store, EveryAcknowledgedWriteSurvivesAKill) {
  for (const int kill_after : {150, 420, 777}) {
    test::TempDir dir;
    int acks[2];
    ASSERT_EQ(pipe(acks), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(acks[0]);
      std::string error;
      auto store = Store::open(StoreOptions{dir.path(), FsyncPolicy::kAlways}, error);
      if (!store) _exit(2);
      for (uint64_t i = 0;; ++i) {
        WriteResult r;
        if (store->write(add(i, {"n:" + std::to_string(i % 10), "all"}), r) != WriteStatus::kOk) _exit(3);
        if (::write(acks[1], &i, sizeof i) != sizeof i) _exit(4);
        if (i % 97 == 0) {
          SnapshotInfo info;
          if (!store->snapshot(info, error)) _exit(5);
        }
      }
    }
    close(acks[1]);
    uint64_t acknowledged = 0;
    uint64_t last = 0;
    while (acknowledged < static_cast<uint64_t>(kill_after) && ::read(acks[0], &last, sizeof last) == sizeof last) {
      ++acknowledged;
    }
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    // Acks still in the pipe count too: they were acknowledged before the kill.
    while (::read(acks[0], &last, sizeof last) == sizeof last) ++acknowledged;
    close(acks[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);

    std::string notes;
    auto store = open_store(dir.path(), FsyncPolicy::kAlways, &notes);
    ASSERT_TRUE(store);
    const auto v = store->view();
    const auto all = v->dictionary().find("all");
    ASSERT_TRUE(all);
    for (uint64_t i = 0; i < acknowledged; ++i) {
      const auto o = store->index().users().find(i);
      ASSERT_TRUE(o && v->tag(*all).bits.contains(*o)) << "acknowledged write " << i << " lost; " << notes;
    }
    // At most the one write in flight at the kill is there unacknowledged.
    EXPECT_LE(v->universe().cardinality, acknowledged + 1);
  }
}

// Issue 14: a data directory written by crowd before log sequence numbers
// (snapshot format 1, log format 1; tests/fixtures/make_v1_fixture.py ran
// the build of main at 3bf722b) still loads, and the next snapshot and log
// segments are written in the new formats.
TEST(Store, ADataDirectoryOfTheFormerFormatsLoads) {
  test::TempDir dir;
  std::filesystem::copy(std::string(CROWD_SOURCE_DIR) + "/tests/fixtures/v1-data", dir.path(),
                        std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing);
  auto check = [](const IndexView& v, uint64_t users) {
    auto count = [&](std::string_view tag) {
      const auto id = v.find_tag(tag);
      return id ? v.tag(*id).cardinality : uint64_t{0};
    };
    // Users 1..35 but 3 (deleted); old:even lost user 2 to an assign.
    EXPECT_EQ(v.universe().cardinality, users);
    EXPECT_EQ(count("old:a"), 19u);
    EXPECT_EQ(count("old:even"), 9u);
    EXPECT_EQ(count("old:b"), 16u);
    EXPECT_EQ(count("old:c"), 5u);
    EXPECT_EQ(v.entries().size(), 1u);  // the saved crowd's definition
  };
  std::string notes;
  {
    auto store = open_store(dir.path(), FsyncPolicy::kBatch, &notes);
    ASSERT_TRUE(store);
    check(*store->view(), 34);
    EXPECT_NE(notes.find("replayed"), std::string::npos) << notes;
    write(*store, add(100, {"new:a"}));
  }
  {
    // Version-1 segments followed by a version-2 one: the count is checked.
    auto store = open_store(dir.path(), FsyncPolicy::kBatch, &notes);
    ASSERT_TRUE(store);
    check(*store->view(), 35);  // and user 100
    SnapshotInfo info;
    std::string error;
    ASSERT_TRUE(store->snapshot(info, error)) << error;
  }
  SnapshotContents snap;
  std::string error;
  ASSERT_TRUE(read_snapshot(dir.file("snapshot.crowd"), snap, error)) << error;
  EXPECT_EQ(snap.version, 2u);
  EXPECT_TRUE(snap.lsn_known);
  auto store = open_store(dir.path());
  ASSERT_TRUE(store);
  check(*store->view(), 35);
}

// Issue 14, item 8: snapshot, log and lock files hold users' data and are
// the owner's only. Before: 0644 (0666 less the umask).
TEST(Store, DataFilesAreCreatedOwnerOnly) {
  test::TempDir parent;
  const std::string dir = parent.file("data");  // created by the store
  const mode_t old_mask = ::umask(0);           // the modes must not depend on the caller's umask
  {
    auto store = open_store(dir);
    ASSERT_TRUE(store);
    write(*store, add(1, {"a"}));
    SnapshotInfo info;
    std::string error;
    ASSERT_TRUE(store->snapshot(info, error)) << error;
    write(*store, add(2, {"a"}));
  }
  ::umask(old_mask);
  auto mode = [](const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  };
  EXPECT_EQ(mode(dir), 0700u);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(mode(e.path().string()), 0600u) << e.path();
    ++files;
  }
  EXPECT_EQ(files, 3);  // LOCK, snapshot.crowd, one segment
}

// The three cases of issue 14 item 5 through the Store, and the override.
class DamagedLog : public ::testing::Test {
 protected:
  // A snapshot after 10 writes, then 30 more over two sessions: segments 2
  // (records 11..30) and 3 (records 31..40) hold what only the log has.
  void SetUp() override {
    {
      auto store = open_store(dir_.path());
      for (UserId u = 1; u <= 10; ++u) write(*store, add(u, {"t"}));
      SnapshotInfo info;
      std::string error;
      ASSERT_TRUE(store->snapshot(info, error)) << error;
      for (UserId u = 11; u <= 30; ++u) write(*store, add(u, {"t"}));
    }
    auto store = open_store(dir_.path());
    for (UserId u = 31; u <= 40; ++u) write(*store, add(u, {"t"}));
  }
  std::unique_ptr<Store> accept(std::string& notes) {
    std::string error;
    auto store = Store::open(StoreOptions{dir_.path(), FsyncPolicy::kBatch, true}, error, &notes);
    EXPECT_TRUE(store) << error;
    return store;
  }
  test::TempDir dir_;
};

TEST_F(DamagedLog, ASegmentCutToTenBytesWithTheNextGoneRefuses) {
  std::filesystem::resize_file(segment(dir_, 2), 10);
  std::filesystem::remove(segment(dir_, 3));
  const std::string why = refusal(dir_.path());
  EXPECT_NE(why.find(segment(dir_, 2) + ": segment header incomplete (10 of 48 bytes)"), std::string::npos) << why;
  EXPECT_NE(why.find("up to record 10"), std::string::npos) << why;
  EXPECT_EQ(std::filesystem::file_size(segment(dir_, 2)), 10u);  // left as found
}

TEST_F(DamagedLog, AnEarlierSegmentCutAtARecordRefuses) {
  const auto offsets = record_offsets(segment(dir_, 2));
  ASSERT_EQ(offsets.size(), 20u);
  std::filesystem::resize_file(segment(dir_, 2), offsets[12]);
  const std::string why = refusal(dir_.path());
  EXPECT_NE(why.find("log records 23..30 are missing"), std::string::npos) << why;
}

TEST_F(DamagedLog, NoSegmentLeftRefusesAndTheOverrideStartsFromTheSnapshot) {
  std::filesystem::remove(segment(dir_, 2));
  std::filesystem::remove(segment(dir_, 3));
  const std::string why = refusal(dir_.path());
  EXPECT_NE(why.find(segment(dir_, 2) + " is missing"), std::string::npos) << why;
  std::string notes;
  {
    auto store = accept(notes);
    ASSERT_TRUE(store);
    EXPECT_EQ(store->view()->universe().cardinality, 10u);
    EXPECT_NE(notes.find("LOG LOSS ACCEPTED"), std::string::npos) << notes;
    write(*store, add(41, {"t"}));
  }
  // The override wrote a snapshot: the next start is an ordinary one.
  auto store = open_store(dir_.path(), FsyncPolicy::kBatch, &notes);
  ASSERT_TRUE(store);
  EXPECT_EQ(notes.find("LOSS"), std::string::npos) << notes;
  EXPECT_EQ(store->view()->universe().cardinality, 11u);
}

TEST_F(DamagedLog, TheOverrideKeepsThePrefixAndTheDamagedFilesAside) {
  const auto offsets = record_offsets(segment(dir_, 2));
  std::filesystem::resize_file(segment(dir_, 2), offsets[12] + 7);  // inside record 23
  std::string notes;
  {
    auto store = accept(notes);
    ASSERT_TRUE(store);
    // The snapshot's 10, then records 11..22 of the log.
    EXPECT_EQ(store->view()->universe().cardinality, 22u);
    EXPECT_NE(notes.find("records 23..30 are lost"), std::string::npos) << notes;
    EXPECT_NE(notes.find("up to record 22"), std::string::npos) << notes;
  }
  int kept = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    if (!e.path().filename().string().starts_with("lost-")) continue;
    for (const auto& f : std::filesystem::directory_iterator(e.path())) {
      (void)f;
      ++kept;
    }
  }
  EXPECT_EQ(kept, 2);  // segments 2 and 3
  auto store = open_store(dir_.path(), FsyncPolicy::kBatch, &notes);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->view()->universe().cardinality, 22u);
}

}  // namespace
}  // namespace crowd
