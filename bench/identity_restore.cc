// bench-identity-restore: what three ID types a user cost at N users (issue
// 15, item 7): memory per ID and the time a restart takes to restore them.
//
//   bench-identity-restore [--users N] [--dir DIR]
//
// Builds, in a store with a data directory, N users (one tag each, by the
// bulk loader) who each hold three IDs -- an OAID-like 36-byte string, an
// IDFA-like 36-byte string and a phone SHA-256 -- linked through WriteBatch
// persons as ingest links them; the bulk load writes the snapshot. Then
// reopens the directory and times Store::open (snapshot read, user table and
// ID spaces rebuilt) against the same N users without IDs, side by side in
// one run. Prints the IdSpaces' bytes per ID against the budget (1.3 x the
// ID's bytes + 16), and how long a snapshot makes writes wait while it copies
// the links. Deterministic; needs ~2.5 GiB at 10M users.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "identity/digest.h"
#include "index/bulk_loader.h"
#include "index/snapshot_file.h"
#include "index/store.h"

namespace {

using namespace crowd;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A UUID-shaped 36-byte ID of user i, distinct per (salt, i).
std::string uuid(uint64_t salt, uint64_t i) {
  const auto d = identity::sha256(std::to_string(salt) + ":" + std::to_string(i));
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", d[0], d[1],
                d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15]);
  return std::string(out, 36);
}

bool build(const std::string& dir, uint64_t users, bool with_ids) {
  std::filesystem::remove_all(dir);
  StoreOptions options;
  options.data_dir = dir;
  std::string error;
  auto store = Store::open(options, error);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", error.c_str());
    return false;
  }
  const auto t = Clock::now();
  bool ok = store->bulk_load(
      [&](Index& index) {
        BulkLoader loader(index);
        const uint32_t all = loader.tag("all");
        for (uint64_t i = 0; i < users; ++i) (void)loader.add(i, std::span(&all, 1));
        loader.finish();
        if (!with_ids) return;
        WriteBatch types;
        types.define_space(types.intern_space("oaid"), 0);
        types.define_space(types.intern_space("idfa"), 0);
        types.define_space(types.intern_space("phone_sha256"), 32);
        WriteResult r;
        (void)index.apply(types, r);
        constexpr uint64_t kBatch = 100'000;
        for (uint64_t first = 0; first < users; first += kBatch) {
          WriteBatch b;
          const uint32_t oaid = b.intern_space("oaid"), idfa = b.intern_space("idfa"),
                         phone = b.intern_space("phone_sha256");
          for (uint64_t i = first; i < std::min(users, first + kBatch); ++i) {
            b.add_person(i);
            b.add_person_key(oaid, uuid(1, i));
            b.add_person_key(idfa, uuid(2, i));
            const auto digest = identity::sha256("86" + std::to_string(13'000'000'000ULL + i));
            b.add_person_key(phone, std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
          }
          if (!index.apply(b, r)) std::fprintf(stderr, "apply refused: %s\n", r.refusal.c_str());
        }
      },
      error);
  if (!ok) std::fprintf(stderr, "bulk load: %s\n", error.c_str());
  std::fprintf(stderr, "built %llu users %s IDs in %.1f s\n", static_cast<unsigned long long>(users),
               with_ids ? "with" : "without", seconds_since(t));
  return ok;
}

// Seconds to reopen `dir`, and the opened store's ID figures.
double reopen(const std::string& dir, bool report_memory) {
  StoreOptions options;
  options.data_dir = dir;
  std::string error;
  const auto t = Clock::now();
  auto store = Store::open(options, error);
  const double s = seconds_since(t);
  if (!store) {
    std::fprintf(stderr, "reopen: %s\n", error.c_str());
    std::exit(1);
  }
  if (report_memory) {
    const auto view = store->view();
    // What a snapshot holds the writer lock for besides the log rotation.
    const auto copy = Clock::now();
    const SnapshotIds links = encode_snapshot_ids(*view);
    std::printf("  copying the ID links for a snapshot (writes wait): %.2f s, %zu runs\n", seconds_since(copy),
                links.runs.size());
    for (const auto& named : view->id_spaces().all()) {
      const double ids = static_cast<double>(named.space->size());
      const double key = named.space->key_bytes() != 0 ? static_cast<double>(named.space->key_bytes()) : 36.0;
      std::printf("  %-13s %10.0f IDs  %6.1f bytes an ID (budget %.1f)\n", named.name.c_str(), ids,
                  static_cast<double>(named.space->memory_bytes()) / ids, 1.3 * key + 16);
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t users = 10'000'000;
  std::string dir = "/tmp/bench-identity-restore";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view arg = argv[i];
    if (arg == "--users") {
      users = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (arg == "--dir") {
      dir = argv[i + 1];
    } else {
      std::fprintf(stderr, "usage: bench-identity-restore [--users N] [--dir DIR]\n");
      return 2;
    }
  }
  const std::string plain = dir + "-plain", ids = dir + "-ids";
  if (!build(plain, users, false) || !build(ids, users, true)) return 1;
  std::printf("%llu users, three IDs each:\n", static_cast<unsigned long long>(users));
  (void)reopen(ids, true);
  // Alternating, three rounds: the page cache holds both directories after
  // the first.
  for (int round = 0; round < 3; ++round) {
    const double without = reopen(plain, false);
    const double with = reopen(ids, false);
    std::printf("  restore round %d: without IDs %.2f s, with three IDs a user %.2f s\n", round + 1, without, with);
  }
  std::filesystem::remove_all(plain);
  std::filesystem::remove_all(ids);
  return 0;
}
