// fuzz-make-seeds CORPUS_DIR: writes the binary seed inputs of the snapshot
// and wal fuzz targets, produced by crowd's own writers (write_snapshot,
// WriteBatch::encode, the log's record framing), into CORPUS_DIR/snapshot/
// and CORPUS_DIR/wal/ with the mode byte each target expects (fuzz_*.cc).
// Run it again after a format change; then minimise the corpus (README in
// docs, /tmp/fuzz-notes.md).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "index/index.h"
#include "index/snapshot_file.h"
#include "index/wal_format.h"
#include "index/write_batch.h"

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
  fs::remove_all(dir);
  std::printf("seeds written under %s\n", corpus.c_str());
  return 0;
}
