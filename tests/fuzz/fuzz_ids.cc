// Fuzz target: the ID sections of the snapshot reader (index/snapshot_file.h,
// sections 8 uidless and 9 ids; issue 15).
//
// Input (ids_input.h): a shape byte and records. The harness builds a whole
// snapshot around them -- meta, log, users and universe as the shape says,
// the records' sections where they are, the dictionary, every checksum right
// -- writes it to a memfd and reads it with read_snapshot(), so mutations
// spend their time in the decoders of the ID links and of the users without
// a uid, not on checksums (fuzz_snapshot.cc covers the rest of the file).
//
// Checks when a file is accepted: those of every snapshot
// (snapshot_checks.h: links within the universe and found by their keys,
// users without a uid found by no ID, a round trip through restore and a new
// snapshot that changes nothing); and, against the input itself, that the
// spaces are exactly the names the ids records declare, with their widths,
// holding as many links as the records declare pairs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>

#include "index/byte_order.h"
#include "index/crc32c.h"
#include "index/snapshot_file.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/ids_input.h"
#include "tests/fuzz/memfd_input.h"
#include "tests/fuzz/snapshot_checks.h"

using namespace crowd;
namespace ids = crowd::fuzz_ids;

namespace {

struct Files {
  int fd = -1;
  std::string path;  // of the memfd
  std::string dir;   // for the round trip's write_snapshot
};

Files& files() {
  static Files* f = [] {
    auto* out = new Files();
    out->fd = make_memfd("fuzz-ids");
    out->path = "/proc/self/fd/" + std::to_string(out->fd);
    char pattern[] = "/tmp/crowd-fuzz-ids-XXXXXX";
    CROWD_FUZZ_CHECK(::mkdtemp(pattern) != nullptr, "mkdtemp");
    out->dir = pattern;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(files().dir, ec);
    });
    return out;
  }();
  return *f;
}

// A snapshot file being put together: sections appended, header last.
class FileBuilder {
 public:
  FileBuilder() : file_(40, '\0') {}
  void section(SnapshotSectionType type, std::string_view payload) {
    char h[24];
    le::store_u32(h, static_cast<uint32_t>(type));
    le::store_u32(h + 4, 1);  // required
    le::store_u64(h + 8, payload.size());
    le::store_u32(h + 16, crc32c(payload.data(), payload.size()));
    le::store_u32(h + 20, crc32c(h, 20));
    file_.append(h, sizeof h);
    file_ += payload;
    ++sections_;
  }
  std::string finish() {
    char* h = file_.data();
    std::memcpy(h, "crowdsnp", 8);
    le::store_u32(h + 8, 2);
    le::store_u32(h + 12, sections_);
    le::store_u64(h + 16, 1);  // first live segment
    le::store_u64(h + 24, file_.size());
    le::store_u32(h + 32, 0);
    le::store_u32(h + 36, crc32c(h, 36));
    return std::move(file_);
  }

 private:
  std::string file_;
  uint32_t sections_ = 0;
};

std::string serialized(const Bitmap& b) {
  std::string out(roaring_bitmap_portable_size_in_bytes(b.get()), '\0');
  roaring_bitmap_portable_serialize(b.get(), out.data());
  return out;
}

std::string snapshot_of(const ids::Input& in) {
  FileBuilder f;
  std::string p;
  le::append_u64(p, in.users);
  le::append_u64(p, 0);  // tags
  f.section(SnapshotSectionType::kMeta, p);
  p.clear();
  le::append_u64(p, 0);  // covered LSN
  f.section(SnapshotSectionType::kLog, p);
  if (in.users > 0) {
    p.clear();
    le::append_u64(p, 0);
    le::append_u64(p, in.users);
    for (uint32_t o = 0; o < in.users; ++o) {
      const bool zero =
          (o == 0 && (in.flags & ids::kUidZero) != 0) || (o % 2 == 1 && (in.flags & ids::kOddUidsZero) != 0);
      le::append_u64(p, zero ? 0 : uint64_t{o} + 1);
    }
    f.section(SnapshotSectionType::kUsers, p);
  }
  Bitmap universe;
  for (uint32_t o = 0; o < in.users; ++o)
    if (ids::in_universe(in.universe, o)) universe.add(o);
  roaring_bitmap_run_optimize(universe.get());
  const std::string universe_bytes = serialized(universe);
  bool placed = false;
  for (const auto& [kind, payload] : in.records) placed = placed || kind == ids::Kind::kUniverse;
  if (!placed) f.section(SnapshotSectionType::kUniverse, universe_bytes);
  for (const auto& [kind, payload] : in.records) {
    switch (kind) {
      case ids::Kind::kIds:
        f.section(SnapshotSectionType::kIds, payload);
        break;
      case ids::Kind::kUidlessRaw:
        f.section(SnapshotSectionType::kUidless, payload);
        break;
      case ids::Kind::kUidlessList: {
        Bitmap listed;
        for (std::size_t i = 0; i + 1 < payload.size(); i += 2)
          listed.add(static_cast<uint8_t>(payload[i]) | uint32_t{static_cast<uint8_t>(payload[i + 1])} << 8);
        f.section(SnapshotSectionType::kUidless, serialized(listed));
        break;
      }
      case ids::Kind::kUniverse:
        f.section(SnapshotSectionType::kUniverse, universe_bytes);
        break;
    }
  }
  p.clear();
  le::append_u64(p, 0);  // no tag names
  f.section(SnapshotSectionType::kDictionary, p);
  return f.finish();
}

// What the accepted file's ids records declare: each space's width and
// pair count, by name. A file is accepted only if every record parsed.
void check_declared(const ids::Input& in, const IdSpaces& spaces) {
  std::map<std::string, std::pair<uint32_t, uint64_t>, std::less<>> declared;
  for (const auto& [kind, payload] : in.records) {
    if (kind != ids::Kind::kIds) continue;
    CROWD_FUZZ_CHECK(payload.size() >= 16, "an accepted ids record of %zu bytes", payload.size());
    const uint32_t length = le::load_u32(payload.data());
    CROWD_FUZZ_CHECK(payload.size() >= 16 + std::size_t{length}, "an accepted ids record cut in its name");
    const std::string name(payload.substr(4, length));
    const uint32_t width = le::load_u32(payload.data() + 4 + length);
    const uint64_t n = le::load_u64(payload.data() + 8 + length);
    auto [it, fresh] = declared.try_emplace(name, width, 0);
    CROWD_FUZZ_CHECK(it->second.first == width, "space %s accepted with two widths", name.c_str());
    it->second.second += n;
    (void)fresh;
  }
  CROWD_FUZZ_CHECK(spaces.all().size() == declared.size(), "%zu spaces, %zu declared", spaces.all().size(),
                   declared.size());
  for (const auto& named : spaces.all()) {
    const auto it = declared.find(named.name);
    CROWD_FUZZ_CHECK(it != declared.end(), "space %s was not declared", named.name.c_str());
    CROWD_FUZZ_CHECK(named.space->key_bytes() == it->second.first, "space %s: width", named.name.c_str());
    CROWD_FUZZ_CHECK(named.space->size() == it->second.second, "space %s: %zu keys, %llu pairs declared",
                     named.name.c_str(), named.space->size(), static_cast<unsigned long long>(it->second.second));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return -1;
  Files& f = files();
  const ids::Input in = ids::parse(data, size);
  put(f.fd, snapshot_of(in));

  SnapshotContents s;
  std::string error;
  if (!read_snapshot(f.path, s, error)) {
    CROWD_FUZZ_CHECK(!error.empty(), "refused without a reason");
    return 0;
  }
  fuzz::check_contents(s);
  check_declared(in, *s.spaces);
  fuzz::check_round_trip(std::move(s), f.dir);
  return 0;
}
