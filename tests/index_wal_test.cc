// The write-ahead log: the record and segment format, the writer and its
// durability, and recovery's line between a torn tail and corruption.
#include "index/wal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "index/byte_order.h"
#include "index/crc32c.h"
#include "index/wal_format.h"
#include "index/wal_reader.h"
#include "index/wal_recovery.h"
#include "index/write_batch.h"
#include "tests/support/index_test_util.h"

namespace crowd {
namespace {

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string payload_of(int i) {
  WriteBatch b;
  const uint32_t t = b.intern("tag:" + std::to_string(i % 5));
  b.add(static_cast<UserId>(i), std::vector<uint32_t>{t});
  std::string out;
  b.encode(out);
  return out;
}

std::string record_of(std::string_view payload) {
  std::string r;
  const auto start = wal::begin_record(r);
  r += payload;
  wal::seal_record(r, start);
  return r;
}

// A segment file built by hand: header (first LSN `first_lsn`, 0 for a
// prepared segment) and the records of payloads 0..n-1. `starts` receives
// each record's offset.
std::string segment_bytes(uint64_t seq, int n, std::vector<uint64_t>* starts = nullptr, uint64_t first_lsn = 1) {
  std::string s = wal::encode_segment_header(seq, first_lsn);
  for (int i = 0; i < n; ++i) {
    if (starts != nullptr) starts->push_back(s.size());
    s += record_of(payload_of(i));
  }
  return s;
}

struct Collected {
  std::vector<std::string> payloads;
  std::vector<uint64_t> offsets;
  RecordSink sink() {
    return [this](std::string_view p, uint64_t offset, std::string&) {
      payloads.emplace_back(p);
      offsets.push_back(offset);
      return true;
    };
  }
};

TEST(WalFormat, SegmentFileNamesSortInLogOrder) {
  EXPECT_EQ(wal::segment_file_name(42), "wal-00000000000000000042.log");
  EXPECT_EQ(wal::segment_file_name(UINT64_MAX), "wal-18446744073709551615.log");
  EXPECT_LT(wal::segment_file_name(9), wal::segment_file_name(10));
  for (const uint64_t seq : {uint64_t{0}, uint64_t{1}, uint64_t{123456789}, UINT64_MAX}) {
    EXPECT_EQ(wal::parse_segment_file_name(wal::segment_file_name(seq)), std::optional<uint64_t>(seq));
  }
  for (const char* other : {"wal-1.log", "wal-00000000000000000001.log.tmp", "wal-0000000000000000000a.log",
                            "snapshot.crowd", "LOCK", "xal-00000000000000000001.log", "wal-99999999999999999999.log"}) {
    EXPECT_FALSE(wal::parse_segment_file_name(other)) << other;
  }
}

TEST(WalFormat, SegmentHeaderChecksEverything) {
  const std::string h = wal::encode_segment_header(7, 1234);
  ASSERT_EQ(h.size(), wal::kSegmentHeaderBytes);
  std::string why;
  wal::SegmentHeader got;
  ASSERT_TRUE(wal::parse_segment_header(h, 7, got, why)) << why;
  EXPECT_EQ(got.version, 2u);
  EXPECT_EQ(got.bytes, wal::kSegmentHeaderBytes);
  EXPECT_TRUE(got.started);
  EXPECT_EQ(got.first_lsn, 1234u);
  EXPECT_FALSE(wal::parse_segment_header(h, 8, got, why));
  EXPECT_NE(why.find("file name"), std::string::npos);
  // Version 2 segments are created whole: a short header is never accepted.
  EXPECT_FALSE(wal::parse_segment_header(h.substr(0, 47), 7, got, why));
  EXPECT_NE(why.find("incomplete (47 of 48 bytes)"), std::string::npos) << why;
  for (std::size_t i = 0; i < 28; ++i) {
    std::string bad = h;
    bad[i] ^= 0x04;
    EXPECT_FALSE(wal::parse_segment_header(bad, 7, got, why)) << i;
  }
  // A flip in the start block makes it a torn start (no records may follow).
  for (std::size_t i = 32; i < 48; ++i) {
    std::string bad = h;
    bad[i] ^= 0x04;
    ASSERT_TRUE(wal::parse_segment_header(bad, 7, got, why)) << i;
    EXPECT_TRUE(got.torn_start && !got.started) << i;
  }
}

TEST(WalFormat, PreparedAndVersionOneHeadersHaveNoLsn) {
  std::string why;
  wal::SegmentHeader got;
  ASSERT_TRUE(wal::parse_segment_header(wal::encode_segment_header(3, 0), 3, got, why)) << why;
  EXPECT_FALSE(got.started);
  EXPECT_FALSE(got.torn_start);
  // A version-1 header (crowd before issue 14): 32 bytes, records follow.
  std::string v1 = wal::encode_segment_header(3, 0).substr(0, 32);
  le::store_u32(v1.data() + 8, 1);
  le::store_u32(v1.data() + 24, crc32c(v1.data(), 24));
  ASSERT_TRUE(wal::parse_segment_header(v1, 3, got, why)) << why;
  EXPECT_EQ(got.version, 1u);
  EXPECT_EQ(got.bytes, wal::kSegmentHeaderV1Bytes);
  EXPECT_FALSE(got.started);
}

TEST(WalFormat, RecordHeaderCheckCatchesAnyFlip) {
  const std::string r = record_of("payload");
  wal::RecordHeader h;
  ASSERT_TRUE(wal::decode_record_header(r.data(), h));
  EXPECT_EQ(h.length, 7u);
  EXPECT_EQ(h.payload_crc, crc32c("payload", 7));
  for (std::size_t bit = 0; bit < wal::kRecordHeaderBytes * 8; ++bit) {
    std::string bad = r;
    bad[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    EXPECT_FALSE(wal::decode_record_header(bad.data(), h)) << bit;
  }
}

TEST(WalReader, ReadsEveryRecordInOrder) {
  test::TempDir dir;
  std::vector<uint64_t> starts;
  write_all(dir.file("seg"), segment_bytes(3, 50, &starts));
  Collected got;
  SegmentScan scan;
  std::string error;
  ASSERT_TRUE(scan_segment(dir.file("seg"), 3, false, got.sink(), scan, error)) << error;
  EXPECT_EQ(scan.records, 50u);
  EXPECT_FALSE(scan.torn);
  EXPECT_EQ(scan.valid_bytes, scan.file_bytes);
  ASSERT_EQ(got.payloads.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(got.payloads[i], payload_of(i));
  EXPECT_EQ(got.offsets, starts);
}

TEST(WalReader, ATornLastRecordIsDroppedAtEveryCut) {
  test::TempDir dir;
  std::vector<uint64_t> starts;
  const std::string full = segment_bytes(1, 4, &starts);
  const uint64_t last = starts.back();
  for (uint64_t cut = last + 1; cut < full.size(); ++cut) {
    write_all(dir.file("seg"), full.substr(0, cut));
    Collected got;
    SegmentScan scan;
    std::string error;
    ASSERT_TRUE(scan_segment(dir.file("seg"), 1, true, got.sink(), scan, error)) << cut << ": " << error;
    EXPECT_EQ(scan.records, 3u) << cut;
    EXPECT_TRUE(scan.torn) << cut;
    EXPECT_EQ(scan.valid_bytes, last) << cut;
    EXPECT_NE(scan.torn_reason.find("offset " + std::to_string(last)), std::string::npos) << scan.torn_reason;
    // The same file is corrupt when it is not the last segment.
    EXPECT_FALSE(scan_segment(dir.file("seg"), 1, false, got.sink(), scan, error)) << cut;
    EXPECT_NE(error.find(dir.file("seg")), std::string::npos) << error;
    EXPECT_NE(error.find("corrupt"), std::string::npos) << error;
  }
}

TEST(WalReader, AFlippedLastPayloadIsATornTail) {
  test::TempDir dir;
  std::vector<uint64_t> starts;
  std::string bytes = segment_bytes(1, 4, &starts);
  bytes.back() ^= 0x40;
  write_all(dir.file("seg"), bytes);
  SegmentScan scan;
  std::string error;
  ASSERT_TRUE(scan_segment(dir.file("seg"), 1, true, Collected().sink(), scan, error)) << error;
  EXPECT_TRUE(scan.torn);
  EXPECT_EQ(scan.records, 3u);
}

TEST(WalReader, AZeroFilledTailIsTorn) {
  test::TempDir dir;
  write_all(dir.file("seg"), segment_bytes(1, 4) + std::string(5000, '\0'));
  SegmentScan scan;
  std::string error;
  ASSERT_TRUE(scan_segment(dir.file("seg"), 1, true, Collected().sink(), scan, error)) << error;
  EXPECT_TRUE(scan.torn);
  EXPECT_EQ(scan.records, 4u);
  EXPECT_NE(scan.torn_reason.find("5000 bytes dropped"), std::string::npos) << scan.torn_reason;
}

TEST(WalReader, AFlippedLastHeaderOrGarbageAtTheEndIsATornTail) {
  test::TempDir dir;
  std::vector<uint64_t> starts;
  const std::string good = segment_bytes(1, 4, &starts);
  for (const std::string& bad :
       {good + std::string(40, '\x5a'), good.substr(0, starts[3] + 2) + "\x7f" + good.substr(starts[3] + 3)}) {
    write_all(dir.file("seg"), bad);
    SegmentScan scan;
    std::string error;
    ASSERT_TRUE(scan_segment(dir.file("seg"), 1, true, Collected().sink(), scan, error)) << error;
    EXPECT_TRUE(scan.torn);
    EXPECT_NE(scan.torn_reason.find("header checksum"), std::string::npos) << scan.torn_reason;
  }
}

TEST(WalReader, GarbageFollowedByAGoodRecordIsCorruption) {
  test::TempDir dir;
  std::vector<uint64_t> starts;
  const std::string good = segment_bytes(1, 2, &starts);
  const std::string garbage(37, '\x33');
  write_all(dir.file("seg"), good + garbage + record_of(payload_of(9)));
  SegmentScan scan;
  std::string error;
  ASSERT_FALSE(scan_segment(dir.file("seg"), 1, true, Collected().sink(), scan, error));
  EXPECT_NE(error.find("at offset " + std::to_string(good.size())), std::string::npos) << error;
  EXPECT_NE(error.find("good record follows at offset " + std::to_string(good.size() + garbage.size())),
            std::string::npos)
      << error;
}

TEST(WalReader, ABadRecordFollowedByGoodOnesIsCorruption) {
  test::TempDir dir;
  std::vector<uint64_t> starts;
  const std::string good = segment_bytes(1, 5, &starts);
  // Every byte of the second record, header and payload: a flip there is
  // never a torn write, since good records follow it.
  for (uint64_t at = starts[1]; at < starts[2]; ++at) {
    std::string bad = good;
    bad[at] ^= 0x01;
    write_all(dir.file("seg"), bad);
    SegmentScan scan;
    std::string error;
    ASSERT_FALSE(scan_segment(dir.file("seg"), 1, true, Collected().sink(), scan, error)) << at;
    EXPECT_NE(error.find(dir.file("seg") + " at offset " + std::to_string(starts[1])), std::string::npos) << error;
    EXPECT_NE(error.find("corrupt"), std::string::npos) << error;
  }
}

TEST(WalReader, AnUndecodablePayloadIsCorruption) {
  test::TempDir dir;
  std::vector<uint64_t> starts;
  write_all(dir.file("seg"), segment_bytes(1, 3, &starts));
  int seen = 0;
  const RecordSink picky = [&](std::string_view, uint64_t, std::string& why) {
    if (++seen == 2) {
      why = "does not decode";
      return false;
    }
    return true;
  };
  SegmentScan scan;
  std::string error;
  EXPECT_FALSE(scan_segment(dir.file("seg"), 1, true, picky, scan, error));
  EXPECT_NE(error.find("offset " + std::to_string(starts[1]) + ": does not decode"), std::string::npos) << error;
}

// Found by tests/fuzz: CRoaring's portable_deserialize_safe accepts an array
// container whose values are out of order (here 256, 2, 3), and operations on
// it write out of bounds. decode() must refuse it like any malformed payload.
TEST(WriteBatchDecode, AMalformedBitmapIsRefused) {
  WriteBatch good;
  auto members = std::make_shared<Bitmap>();
  for (uint32_t o : {2u, 3u, 256u}) roaring_bitmap_add(members->get(), o);
  good.replace_tag(good.intern("t"), members);
  std::string bytes;
  good.encode(bytes);
  WriteBatch decoded;
  ASSERT_TRUE(decoded.decode(bytes));
  // The portable array container's three values: 2, 3, 256 -> 256, 2, 3.
  const std::string sorted("\x02\x00\x03\x00\x00\x01", 6);
  const auto at = bytes.find(sorted);
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, sorted.size(), std::string("\x00\x01\x02\x00\x03\x00", 6));
  EXPECT_FALSE(decoded.decode(bytes));
}

TEST(WalReader, APartialSegmentHeaderIsRefusedEvenAtTheEnd) {
  // Before issue 14 a 10-byte segment at the end read as a torn tail and
  // was deleted, whatever records it had held.
  test::TempDir dir;
  write_all(dir.file("seg"), wal::encode_segment_header(1, 1).substr(0, 10));
  SegmentScan scan;
  std::string error;
  EXPECT_FALSE(scan_segment(dir.file("seg"), 1, true, Collected().sink(), scan, error));
  EXPECT_NE(error.find("segment header incomplete"), std::string::npos) << error;
}

TEST(WalReader, RecordsInASegmentNeverStartedAreCorruption) {
  test::TempDir dir;
  write_all(dir.file("seg"), segment_bytes(1, 2, nullptr, 0));
  SegmentScan scan;
  std::string error;
  EXPECT_FALSE(scan_segment(dir.file("seg"), 1, true, Collected().sink(), scan, error));
  EXPECT_NE(error.find("never started"), std::string::npos) << error;
}

class WalWriter : public ::testing::TestWithParam<FsyncPolicy> {};

TEST_P(WalWriter, AppendsFromManyThreadsAreAllDurableAndReadable) {
  test::TempDir dir;
  std::string error;
  auto wal = Wal::start(dir.path(), 1, 1, GetParam(), {}, error);
  ASSERT_TRUE(wal) << error;
  std::mutex writer;  // the Store's writer lock
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        uint64_t ticket = 0;
        std::string e;
        {
          std::lock_guard lock(writer);
          ASSERT_TRUE(wal->append(record_of(payload_of(t * kPerThread + i)), ticket, e)) << e;
        }
        ASSERT_TRUE(wal->wait_durable(ticket));
      }
    });
  }
  for (auto& th : threads) th.join();
  const uint64_t bytes = wal->bytes();
  wal.reset();
  const std::string path = dir.file(wal::segment_file_name(1));
  EXPECT_EQ(bytes, std::filesystem::file_size(path));
  Collected got;
  SegmentScan scan;
  ASSERT_TRUE(scan_segment(path, 1, false, got.sink(), scan, error)) << error;
  EXPECT_EQ(scan.records, uint64_t{kThreads * kPerThread});
  std::set<std::string> distinct(got.payloads.begin(), got.payloads.end());
  EXPECT_EQ(distinct.size(), got.payloads.size());
}

INSTANTIATE_TEST_SUITE_P(Policies, WalWriter,
                         ::testing::Values(FsyncPolicy::kAlways, FsyncPolicy::kBatch, FsyncPolicy::kOff),
                         [](const auto& param) { return std::string(fsync_policy_name(param.param)); });

TEST(WalRotation, MovesOnAndDropsWhatASnapshotCovers) {
  test::TempDir dir;
  std::string error;
  auto wal = Wal::start(dir.path(), 5, 10, FsyncPolicy::kBatch, {}, error);
  ASSERT_TRUE(wal) << error;
  uint64_t ticket = 0;
  ASSERT_TRUE(wal->append(record_of(payload_of(1)), ticket, error)) << error;
  ASSERT_TRUE(wal->prepare_rotation(error)) << error;
  ASSERT_TRUE(wal->prepare_rotation(error)) << error;  // idempotent
  wal->presync();
  uint64_t first_live = 0;
  uint64_t covered = 0;
  ASSERT_TRUE(wal->rotate(first_live, covered, error)) << error;
  EXPECT_EQ(first_live, 6u);
  EXPECT_EQ(covered, 10u);  // the one record appended, LSN 10
  EXPECT_EQ(wal->current_seq(), 6u);
  EXPECT_TRUE(wal->wait_durable(ticket));  // rotation synced it
  ASSERT_TRUE(wal->append(record_of(payload_of(2)), ticket, error)) << error;
  EXPECT_TRUE(wal->wait_durable(ticket));
  const std::string old_path = dir.file(wal::segment_file_name(5));
  const std::string new_path = dir.file(wal::segment_file_name(6));
  EXPECT_EQ(wal->bytes(), std::filesystem::file_size(old_path) + std::filesystem::file_size(new_path));
  wal->drop_covered(6);
  EXPECT_FALSE(std::filesystem::exists(old_path));
  EXPECT_EQ(wal->bytes(), std::filesystem::file_size(new_path));
  // The new segment was started at LSN 11, durably, before its record.
  SegmentScan scan;
  ASSERT_TRUE(scan_segment(new_path, 6, false, Collected().sink(), scan, error)) << error;
  EXPECT_TRUE(scan.header.started);
  EXPECT_EQ(scan.header.first_lsn, 11u);
  EXPECT_EQ(scan.records, 1u);
  // Rotating without preparing still works (the segment is made on the spot).
  ASSERT_TRUE(wal->rotate(first_live, covered, error)) << error;
  EXPECT_EQ(first_live, 7u);
  EXPECT_EQ(covered, 11u);
}

TEST(WalRotation, AFailureRefusesAppendsUntilASnapshotCoversIt) {
  test::TempDir dir;
  std::string error;
  auto wal = Wal::start(dir.path(), 1, 1, FsyncPolicy::kAlways, {}, error);
  ASSERT_TRUE(wal) << error;
  wal->fail("disk on fire");
  uint64_t ticket = 0;
  EXPECT_FALSE(wal->append(record_of(payload_of(1)), ticket, error));
  EXPECT_NE(error.find("disk on fire"), std::string::npos) << error;
  EXPECT_FALSE(wal->flush(error));
  uint64_t first_live = 0;
  uint64_t covered = 0;
  ASSERT_TRUE(wal->rotate(first_live, covered, error)) << error;
  // Not yet: the snapshot is not durable until drop_covered says so.
  EXPECT_FALSE(wal->append(record_of(payload_of(1)), ticket, error));
  wal->drop_covered(first_live);
  ASSERT_TRUE(wal->append(record_of(payload_of(1)), ticket, error)) << error;
  EXPECT_TRUE(wal->wait_durable(ticket));
}

TEST(WalRotation, StartRefusesASegmentHoldingRecords) {
  test::TempDir dir;
  write_all(dir.file(wal::segment_file_name(1)), segment_bytes(1, 1));
  std::string error;
  EXPECT_FALSE(Wal::start(dir.path(), 1, 1, FsyncPolicy::kOff, {}, error));
  EXPECT_NE(error.find(wal::segment_file_name(1)), std::string::npos) << error;
}

class Recovery : public ::testing::Test {
 protected:
  std::string seg(uint64_t seq) const { return dir_.file(wal::segment_file_name(seq)); }
  // A snapshot whose first live segment is `first_seq` and which holds the
  // log up to record `covered` (nullopt: a version-1 snapshot, no LSN).
  bool recover(uint64_t first_seq, std::optional<uint64_t> covered = 0, bool accept = false) {
    LogStart start;
    start.have_snapshot = true;
    start.first_seq = first_seq;
    start.lsn_known = covered.has_value();
    start.covered_lsn = covered.value_or(0);
    start.snapshot_path = dir_.file("snapshot.crowd");
    return run(start, accept);
  }
  bool recover_without_snapshot(bool accept = false) { return run(LogStart(), accept); }
  bool run(const LogStart& start, bool accept) {
    got_ = Collected();
    error_.clear();
    return recover_log(dir_.path(), start, accept, got_.sink(), out_, error_);
  }
  // A version-1 segment (crowd before issue 14): 32-byte header, no LSN.
  static std::string v1_segment(uint64_t seq, int n) {
    std::string s = wal::encode_segment_header(seq, 0).substr(0, wal::kSegmentHeaderV1Bytes);
    le::store_u32(s.data() + 8, 1);
    le::store_u32(s.data() + 24, crc32c(s.data(), 24));
    for (int i = 0; i < n; ++i) s += record_of(payload_of(i));
    return s;
  }
  void expect_error(const std::string& part) const {
    EXPECT_NE(error_.find(part), std::string::npos) << "wanted \"" << part << "\" in: " << error_;
  }
  test::TempDir dir_;
  Collected got_;
  LogRecovery out_;
  std::string error_;
};

TEST_F(Recovery, ReplaysConsecutiveSegmentsAndDeletesStaleOnes) {
  write_all(seg(2), segment_bytes(2, 3, nullptr, 8));  // below the snapshot's first live segment
  write_all(seg(3), segment_bytes(3, 4, nullptr, 11));
  write_all(seg(4), segment_bytes(4, 5, nullptr, 15));
  ASSERT_TRUE(recover(3, 10)) << error_;
  EXPECT_EQ(out_.records, 9u);
  EXPECT_EQ(out_.next_seq, 5u);
  EXPECT_EQ(out_.next_lsn, 20u);
  ASSERT_EQ(out_.live.size(), 2u);
  EXPECT_EQ(out_.live[1].bytes, std::filesystem::file_size(seg(4)));
  EXPECT_FALSE(std::filesystem::exists(seg(2)));
  EXPECT_FALSE(out_.needs_snapshot);
}

TEST_F(Recovery, AMissingSegmentRefusesToStart) {
  write_all(seg(3), segment_bytes(3, 1, nullptr, 1));
  write_all(seg(5), segment_bytes(5, 1, nullptr, 3));
  ASSERT_FALSE(recover(3));
  expect_error(seg(4) + " is missing");
  expect_error("record 2 is gone");
  expect_error("--accept-log-loss");
  // Without a snapshot the log must start at segment 1.
  ASSERT_FALSE(recover_without_snapshot());
  expect_error("no snapshot");
}

TEST_F(Recovery, APreparedSegmentAtTheEndIsReplacedAndTheTornTailIsCutAndCounted) {
  std::vector<uint64_t> starts;
  const std::string full = segment_bytes(1, 3, &starts, 1);
  write_all(seg(1), full.substr(0, full.size() - 2));
  write_all(seg(2), wal::encode_segment_header(2, 0));  // prepared for a rotation a crash cut short
  ASSERT_TRUE(recover_without_snapshot()) << error_;
  EXPECT_EQ(out_.records, 2u);
  EXPECT_EQ(out_.next_seq, 2u);  // the new log replaces the prepared segment
  EXPECT_EQ(out_.next_lsn, 3u);
  ASSERT_EQ(out_.notes.size(), 1u);
  EXPECT_NE(out_.notes[0].find("torn tail"), std::string::npos) << out_.notes[0];
  EXPECT_NE(out_.notes[0].find(std::to_string(full.size() - 2 - starts.back()) + " bytes dropped"), std::string::npos)
      << out_.notes[0];
  EXPECT_NE(out_.notes[0].find("kept its 2 records"), std::string::npos) << out_.notes[0];
  EXPECT_NE(out_.notes[0].find("ends at record 2"), std::string::npos) << out_.notes[0];
  EXPECT_EQ(std::filesystem::file_size(seg(1)), starts.back());
  // A second recovery finds a clean log.
  ASSERT_TRUE(recover_without_snapshot()) << error_;
  EXPECT_EQ(out_.records, 2u);
  EXPECT_TRUE(out_.notes.empty());
}

TEST_F(Recovery, ATornRecordInAnEarlierSegmentIsCorruption) {
  const std::string full = segment_bytes(1, 3, nullptr, 1);
  write_all(seg(1), full.substr(0, full.size() - 2));
  write_all(seg(2), segment_bytes(2, 1, nullptr, 4));
  ASSERT_FALSE(recover_without_snapshot());
  expect_error(seg(1));
  expect_error("not the last segment");
  expect_error("log record 3 is lost");
}

// Issue 14, item 5, first case: a segment cut to 10 bytes and the next one
// gone. Before: the short segment read as an interrupted creation, was
// deleted and rewritten as an empty header; the start was silent.
TEST_F(Recovery, ASegmentCutToTenBytesWithTheNextGoneRefuses) {
  write_all(seg(2), segment_bytes(2, 5, nullptr, 101).substr(0, 10));
  ASSERT_FALSE(recover(2, 100));
  expect_error(seg(2) + ": segment header incomplete (10 of 48 bytes)");
  expect_error("holds the log up to record 100");
  EXPECT_EQ(std::filesystem::file_size(seg(2)), 10u);  // left as found
}

// Second case: a segment that is not the last cut short. Before: the
// segments after it held no record, so it read as the last one and its cut
// as a torn tail (1,481 of 2,392 records replayed, silently).
TEST_F(Recovery, ASegmentCutShortBeforeAStartedOneRefusesNamingTheRecords) {
  std::vector<uint64_t> starts;
  const std::string two = segment_bytes(2, 10, &starts, 101);
  write_all(seg(3), wal::encode_segment_header(3, 111));  // started by a restart; no record yet
  // Cut inside a record: a "torn tail", but a started segment follows.
  write_all(seg(2), two.substr(0, starts[6] + 5));
  ASSERT_FALSE(recover(2, 100));
  expect_error(seg(2) + " at offset " + std::to_string(starts[6]));
  expect_error("log records 107..110 are lost");
  // Cut exactly between records: every record left verifies.
  write_all(seg(2), two.substr(0, starts[6]));
  ASSERT_FALSE(recover(2, 100));
  expect_error("log records 107..110 are missing");
  expect_error(seg(2) + " ends with record 106");
  expect_error(seg(3) + " starts at record 111");
}

// Third case: every segment removed. Before: a silent start from the
// snapshot alone.
TEST_F(Recovery, NoSegmentLeftAfterASnapshotRefuses) {
  ASSERT_FALSE(recover(17, 5000));
  expect_error(seg(17) + " is missing");
  expect_error("holds the log up to record 5000");
  // Without a snapshot there is nothing to promise: a fresh start.
  ASSERT_TRUE(recover_without_snapshot()) << error_;
  EXPECT_EQ(out_.next_seq, 1u);
  EXPECT_EQ(out_.next_lsn, 1u);
}

TEST_F(Recovery, TheFirstSegmentMustStartRightAfterTheSnapshot) {
  write_all(seg(4), segment_bytes(4, 2, nullptr, 150));
  ASSERT_FALSE(recover(4, 100));
  expect_error("log records 101..149 are missing");
  // And the first segment of a log without a snapshot at record 1.
  write_all(seg(1), segment_bytes(1, 2, nullptr, 7));
  ASSERT_FALSE(recover_without_snapshot());
  expect_error("log records 1..6 are missing");
}

TEST_F(Recovery, AcceptingTheLossRestoresUpToTheGapAndKeepsTheRestAside) {
  std::vector<uint64_t> starts;
  const std::string two = segment_bytes(2, 10, &starts, 101);
  write_all(seg(2), two.substr(0, starts[6]));
  write_all(seg(3), segment_bytes(3, 4, nullptr, 111));
  write_all(seg(4), wal::encode_segment_header(4, 115));
  ASSERT_TRUE(recover(2, 100, true)) << error_;
  // Replay stops at the gap: records 101..106, not those of segment 3.
  EXPECT_EQ(out_.records, 6u);
  EXPECT_EQ(got_.payloads.size(), 6u);
  EXPECT_TRUE(out_.needs_snapshot);
  EXPECT_EQ(out_.next_lsn, 107u);
  EXPECT_EQ(out_.next_seq, 5u);  // above every segment found
  std::string lost;
  for (const auto& l : out_.lost) lost += l + "\n";
  EXPECT_NE(lost.find("log records 107..110 are missing"), std::string::npos) << lost;
  EXPECT_NE(lost.find("up to record 106"), std::string::npos) << lost;
  // Segments 3 and 4 are kept in lost-<time>/, byte for byte.
  std::string kept;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    if (e.path().filename().string().starts_with("lost-")) kept = e.path().string();
  }
  ASSERT_FALSE(kept.empty()) << lost;
  EXPECT_NE(lost.find(kept), std::string::npos) << lost;
  EXPECT_EQ(std::filesystem::file_size(kept + "/" + wal::segment_file_name(3)), std::filesystem::file_size(seg(3)));
  EXPECT_TRUE(std::filesystem::exists(kept + "/" + wal::segment_file_name(4)));
  EXPECT_FALSE(std::filesystem::exists(kept + "/" + wal::segment_file_name(2)));  // replayed whole
}

TEST_F(Recovery, AVersionOneLogStillLoads) {
  // As crowd wrote it before issue 14: a version-1 snapshot (no LSN), its
  // first live segment with records, a torn tail, a header-only segment and
  // the remains of an interrupted creation after it.
  write_all(seg(3), v1_segment(3, 4));
  const std::string four = v1_segment(4, 3);
  write_all(seg(4), four.substr(0, four.size() - 3));
  write_all(seg(5), v1_segment(5, 0));
  write_all(seg(6), v1_segment(6, 0).substr(0, 9));
  ASSERT_TRUE(recover(3, std::nullopt)) << error_;
  EXPECT_EQ(out_.records, 6u);
  EXPECT_EQ(out_.next_lsn, 7u);  // counted from 1
  EXPECT_EQ(out_.next_seq, 6u);  // replaces the interrupted creation
  std::string notes;
  for (const auto& n : out_.notes) notes += n + "\n";
  EXPECT_NE(notes.find("torn tail of " + seg(4)), std::string::npos) << notes;
  EXPECT_NE(notes.find("interrupted"), std::string::npos) << notes;
  // A short header after a version-2 segment is damage, not a crash.
  write_all(seg(6), segment_bytes(6, 0, nullptr, 7));
  write_all(seg(7), wal::encode_segment_header(7, 7).substr(0, 9));
  ASSERT_FALSE(recover(3, std::nullopt));
  expect_error(seg(7) + ": segment header incomplete");
}

TEST_F(Recovery, AVersionOneLogContinuedByVersionTwoChecksTheCount) {
  write_all(seg(3), v1_segment(3, 4));
  write_all(seg(4), segment_bytes(4, 2, nullptr, 5));  // started by the new crowd after 4 records
  ASSERT_TRUE(recover(3, std::nullopt)) << error_;
  EXPECT_EQ(out_.records, 6u);
  EXPECT_EQ(out_.next_lsn, 7u);
  // The version-1 segment cut at a record boundary: the count gives it away.
  write_all(seg(3), v1_segment(3, 3));
  ASSERT_FALSE(recover(3, std::nullopt));
  expect_error("log record 4 is missing");
}

}  // namespace
}  // namespace crowd
