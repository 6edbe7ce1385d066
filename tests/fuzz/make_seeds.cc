// fuzz-make-seeds CORPUS_DIR: writes the binary seed inputs of the snapshot,
// ids and wal fuzz targets, produced by crowd's own writers (write_snapshot,
// WriteBatch::encode, the log's record framing), into CORPUS_DIR/snapshot/,
// CORPUS_DIR/ids/ and CORPUS_DIR/wal/ with the mode byte or shape each
// target expects (fuzz_*.cc, ids_input.h).
// Run it again after a format change; then minimise the corpus (README in
// docs, /tmp/fuzz-notes.md).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "index/index.h"
#include "index/snapshot_file.h"
#include "index/wal_format.h"
#include "index/write_batch.h"
#include "tests/fuzz/ids_input.h"

using namespace crowd;

namespace {

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Batches of every kind, small.
std::vector<WriteBatch> batches() {
  std::vector<WriteBatch> out;
  {
    WriteBatch b;
    const uint32_t t[] = {b.intern("gender:female"), b.intern("兴趣:美妆"), b.intern("a")};
    b.add(7, t);
    b.add(8, std::span(t, 1));
    b.add(1u << 20, std::span(t + 1, 2));
    out.push_back(std::move(b));
  }
  {
    WriteBatch b;
    const uint32_t t = b.intern("a");
    b.remove(7, std::span(&t, 1));
    b.erase(8);
    b.clear_tag(b.intern("gender:female"));
    out.push_back(std::move(b));
  }
  {
    WriteBatch b;
    const uint32_t spend = b.intern("spend_90d");
    b.set_value(7, spend, -12345);
    b.set_value(9, spend, 500);
    b.clear_value(7, spend);
    const uint32_t both[] = {b.intern("cat:7:buy"), b.intern_day("cat:7:buy", 17495)};
    b.add(9, both);
    out.push_back(std::move(b));
  }
  {
    WriteBatch b;
    auto members = std::make_shared<Bitmap>();
    for (uint32_t o : {0u, 1u, 2u, 70000u}) roaring_bitmap_add(members->get(), o);
    b.save_crowd("bx_like", std::move(members), "{\"q\":\"a\"}");
    b.delete_crowd("old");
    out.push_back(std::move(b));
  }
  return out;
}

// 17 users linked to ID spaces, made in ordinal order (ordinal o is the
// o-th): a dev key each (8 bytes), a second one for o % 5 == 2, an oaid
// (variable) for odd o, no uid for o % 4 == 1; then ordinals 0, 3, 6, ...
// erased, so the universe is ids_input.h's kNotThirds over 17 users. The
// md5 space is defined and never used.
std::string dev_key(uint32_t n) {
  std::string k = "dev";
  k += std::to_string(n);
  k.resize(8, '.');
  return k;
}

bool build_persons(Index& index) {
  WriteBatch define;
  define.define_space(define.intern_space("dev"), 8);
  define.define_space(define.intern_space("oaid"), 0);
  define.define_space(define.intern_space("md5"), 16);
  WriteBatch b;
  const uint32_t dev = b.intern_space("dev");
  const uint32_t oaid = b.intern_space("oaid");
  const uint32_t t = b.intern("t");
  for (uint32_t o = 0; o < 17; ++o) {
    const auto p = b.add_person(o % 4 == 1 ? std::nullopt : std::optional<UserId>(UserId{o} + 1));
    b.add_person_key(dev, dev_key(o));
    if (o % 5 == 2) b.add_person_key(dev, dev_key(100 + o));
    if (o % 2 == 1) {
      std::string key = "oaid-";
      key += std::to_string(o);
      b.add_person_key(oaid, key);
    }
    b.add(p, std::span(&t, 1));
  }
  WriteBatch erase;
  const uint32_t erase_dev = erase.intern_space("dev");
  for (uint32_t o = 0; o < 17; o += 3) {
    const auto p = erase.add_person(std::nullopt);
    erase.add_person_key(erase_dev, dev_key(o));
    erase.erase(p);
  }
  for (const WriteBatch* batch : {&define, &b, &erase}) {
    WriteResult r;
    if (!index.apply(*batch, r)) {
      std::fprintf(stderr, "persons: %s\n", r.refusal.c_str());
      return false;
    }
  }
  return true;
}

// The payloads of a snapshot file's sections of `type`, in order.
std::vector<std::string> payloads(const std::string& path, SnapshotSectionType type) {
  std::vector<SnapshotSection> sections;
  std::string error;
  if (!list_snapshot_sections(path, sections, error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    std::exit(1);
  }
  const std::string bytes = read_file(path);
  std::vector<std::string> out;
  for (const auto& s : sections)
    if (s.type == static_cast<uint32_t>(type)) out.push_back(bytes.substr(s.offset + 24, s.payload_bytes));
  return out;
}

// Seeds of the ids target (ids_input.h): the persons index's own sections in
// the matching skeleton, hand-made variants, and a few the reader refuses.
bool write_ids_seeds(const std::filesystem::path& out, const std::filesystem::path& dir) {
  namespace ids = fuzz_ids;
  using Pairs = std::vector<std::pair<uint32_t, std::string>>;
  Index index;
  if (!build_persons(index)) return false;
  for (const std::size_t section : {std::size_t{64}, tuning::kSnapshotSectionBytes}) {
    SnapshotInfo info;
    std::string error;
    if (!write_snapshot(*index.view(), 1, 0, dir.string(), info, error, section)) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return false;
    }
    const auto uidless = payloads(info.path, SnapshotSectionType::kUidless);
    const auto runs = payloads(info.path, SnapshotSectionType::kIds);
    if (uidless.size() != 1 || runs.size() < 3) {
      std::fprintf(stderr, "the persons snapshot has %zu uidless and %zu ids sections\n", uidless.size(), runs.size());
      return false;
    }
    ids::InputWriter raw(ids::shape(5, ids::Universe::kNotThirds));
    raw.add(ids::Kind::kUidlessRaw, uidless[0]).add(ids::Kind::kUniverse, "");
    for (const auto& r : runs) raw.add(ids::Kind::kIds, r);
    ids::InputWriter listed(ids::shape(5, ids::Universe::kNotThirds));
    listed.add(ids::Kind::kUidlessList, ids::ordinal_list({1, 5, 13})).add(ids::Kind::kUniverse, "");
    for (const auto& r : runs) listed.add(ids::Kind::kIds, r);
    const std::string size = std::to_string(section);
    write_file(out / "ids" / ("seed-index-" + size + "-raw"), raw.bytes());
    write_file(out / "ids" / ("seed-index-" + size + "-list"), listed.bytes());
    // The whole file for the snapshot target too, as written and repaired.
    const std::string bytes = read_file(info.path);
    write_file(out / "snapshot" / ("seed-ids-" + size + "-raw"), std::string(1, '\x00') + bytes);
    write_file(out / "snapshot" / ("seed-ids-" + size + "-repair"), std::string(1, '\x01') + bytes);
  }

  // 5 users, a real uid 0 beside two users without a uid; a variable space
  // with a user holding two keys, an empty fixed one.
  ids::InputWriter zero(ids::shape(4, ids::Universe::kAll, ids::kUidZero));
  zero.add(ids::Kind::kUidlessList, ids::ordinal_list({1, 3}))
      .add(ids::Kind::kUniverse, "")
      .add(ids::Kind::kIds, ids::ids_payload("a", 0, Pairs{{0, "k0"}, {1, "k1"}, {1, std::string(255, 'x')}, {3, "k"}}))
      .add(ids::Kind::kIds, ids::ids_payload("b", 4, Pairs{}));
  write_file(out / "ids" / "seed-uid-zero", zero.bytes());
  // Odd uids 0, odd users erased: loads; a fixed space cut into two runs.
  ids::InputWriter odd(ids::shape(5, ids::Universe::kEven, ids::kOddUidsZero));
  odd.add(ids::Kind::kIds, ids::ids_payload("x", 8, Pairs{{0, "00000000"}, {2, "22222222"}}))
      .add(ids::Kind::kIds, ids::ids_payload("x", 8, Pairs{{16, "16161616"}}));
  write_file(out / "ids" / "seed-odd-zero", odd.bytes());
  // 4100 users (a bitmap container), links at both ends.
  ids::InputWriter big(ids::shape(7, ids::Universe::kAll));
  big.add(ids::Kind::kUidlessList, ids::ordinal_list({0, 4000, 4099}))
      .add(ids::Kind::kUniverse, "")
      .add(ids::Kind::kIds, ids::ids_payload("d", 2, Pairs{{0, "aa"}, {4099, "zz"}, {4099, "zy"}}));
  write_file(out / "ids" / "seed-big", big.bytes());
  // No records: users only.
  write_file(out / "ids" / "seed-plain", ids::InputWriter(ids::shape(6, ids::Universe::kNotThirds)).bytes());

  // Refused: a key of two users, an erased user's key, a uidless section
  // after the universe, ids before it.
  ids::InputWriter twice(ids::shape(4, ids::Universe::kAll));
  twice.add(ids::Kind::kIds, ids::ids_payload("a", 0, Pairs{{1, "same"}, {2, "same"}}));
  write_file(out / "ids" / "seed-refused-twice", twice.bytes());
  ids::InputWriter erased(ids::shape(5, ids::Universe::kNotThirds));
  erased.add(ids::Kind::kIds, ids::ids_payload("a", 0, Pairs{{1, "one"}, {3, "three"}}));
  write_file(out / "ids" / "seed-refused-erased", erased.bytes());
  ids::InputWriter late(ids::shape(4, ids::Universe::kAll));
  late.add(ids::Kind::kUidlessList, ids::ordinal_list({2}));
  write_file(out / "ids" / "seed-refused-late-uidless", late.bytes());
  ids::InputWriter early(ids::shape(4, ids::Universe::kAll));
  early.add(ids::Kind::kIds, ids::ids_payload("a", 0, Pairs{{1, "one"}})).add(ids::Kind::kUniverse, "");
  write_file(out / "ids" / "seed-refused-early-ids", early.bytes());
  return true;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  namespace fs = std::filesystem;
  const fs::path corpus(argv[1]);
  fs::create_directories(corpus / "snapshot");
  fs::create_directories(corpus / "wal");
  fs::create_directories(corpus / "ids");

  // WAL: each batch alone (mode 2); all of them as framed records (mode 1,
  // last segment or not); a real segment (mode 0), whole and torn.
  const auto all = batches();
  std::string framed;
  std::string segment = wal::encode_segment_header(1, 1);
  for (std::size_t i = 0; i < all.size(); ++i) {
    std::string payload;
    all[i].encode(payload);
    write_file(corpus / "wal" / ("seed-batch-" + std::to_string(i)), std::string(1, '\x02') + payload);
    framed.push_back(static_cast<char>(payload.size() & 0xff));
    framed.push_back(static_cast<char>(payload.size() >> 8));
    framed += payload;
    const std::size_t start = wal::begin_record(segment);
    segment += payload;
    wal::seal_record(segment, start);
  }
  write_file(corpus / "wal" / "seed-framed", std::string(1, '\x01') + framed);
  write_file(corpus / "wal" / "seed-framed-last", std::string(1, '\x04') + framed);  // 4 % 3 == 1, bit 2 set
  write_file(corpus / "wal" / "seed-segment", std::string(1, '\x00') + segment);
  write_file(corpus / "wal" / "seed-segment-torn",
             std::string(1, '\x06') + segment.substr(0, segment.size() - 5));  // 6 % 3 == 0, bit 2 set

  // Snapshots of a small index: as written (mode 0) and with the repair bit
  // (mode 1), with one-record sections (64 bytes) and default ones.
  Index index;
  for (const auto& b : all) {
    WriteResult r;
    if (!index.apply(b, r)) return 1;
  }
  const fs::path dir = fs::temp_directory_path() / "crowd-fuzz-make-seeds";
  fs::create_directories(dir);
  for (const std::size_t section : {std::size_t{64}, tuning::kSnapshotSectionBytes}) {
    SnapshotInfo info;
    std::string error;
    if (!write_snapshot(*index.view(), 3, 0, dir.string(), info, error, section)) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 1;
    }
    const std::string bytes = read_file(info.path);
    const std::string name = "seed-" + std::to_string(section);
    write_file(corpus / "snapshot" / (name + "-raw"), std::string(1, '\x00') + bytes);
    write_file(corpus / "snapshot" / (name + "-repair"), std::string(1, '\x01') + bytes);
  }
  // An empty index.
  Index empty;
  SnapshotInfo info;
  std::string error;
  if (!write_snapshot(*empty.view(), 1, 0, dir.string(), info, error)) return 1;
  write_file(corpus / "snapshot" / "seed-empty", std::string(1, '\x01') + read_file(info.path));
  if (!write_ids_seeds(corpus, dir)) return 1;
  fs::remove_all(dir);
  std::printf("seeds written under %s\n", corpus.c_str());
  return 0;
}
