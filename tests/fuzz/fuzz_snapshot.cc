// Fuzz target: the snapshot reader (index/snapshot_file.h, read_snapshot).
//
// Input: one mode byte, then the file's bytes, written to a memfd that
// read_snapshot() opens by its /proc/self/fd path. Mode bit 0 set: before
// writing, the harness repairs the header's size field and every CRC it can
// reach (header, then each section header and payload while the declared
// lengths fit), so mutations get past the checksums to the section decoders;
// clear: the bytes as they are (checksums, truncation, garbage).
//
// Checks when a file is accepted (snapshot_checks.h): the contents are
// consistent (a name per tag bitmap, an external ID per ordinal, every bitmap
// within the ordinals, every tag within the universe, every ID link a
// member's and found by its key), restore() takes them, and writing the
// restored index as a snapshot and reading that back gives the same contents.
// fuzz_ids.cc aims at the ID sections.
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
#include "index/snapshot_file.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/memfd_input.h"
#include "tests/fuzz/snapshot_checks.h"

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
  fuzz::check_contents(s);
  fuzz::check_round_trip(std::move(s), f.dir);
  return 0;
}
