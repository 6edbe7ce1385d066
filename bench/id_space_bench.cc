// IdSpace at 10M keys, one per user (issue 15): per key width (8, 16, 32
// bytes, and 36-character OAID-like strings as variable keys)
//
//   BM_Link/W          link 10M keys to ordinals 0..10M-1 into an empty space
//                      (keys/s; the hash is rebuilt every ~17% of growth)
//   BM_LinkReserved/W  the same after reserve(10M): the snapshot-restore path
//   BM_FindHit/W       find() of present keys, in random order (ns a call)
//   BM_FindMiss/W      find() of absent keys
//
// Link reports the memory: B_per_key (memory_bytes() / keys) and
// budget_ratio, memory over the budget of 1.3 x key bytes + 16 a key (<= 1
// is within). Keys are pseudo-random (seeded): the space is built once per
// width and kept for the finds. Each run builds ~1 GiB; one repetition is
// enough to read the numbers:
//
//   bench-id-space --benchmark_repetitions=1
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "index/id_space.h"

namespace crowd {
namespace {

constexpr std::size_t kKeys = 10'000'000;
constexpr std::size_t kProbes = std::size_t{1} << 20;  // random keys cycled through by the finds
constexpr std::size_t kOaidBytes = 36;

uint64_t splitmix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Key i of a width, salted (the finds' misses use another salt). Width 0: an
// OAID-like string, 8-4-4-4-12 lower-case hex digits.
void make_key(uint64_t i, std::size_t width, uint64_t salt, char* out) {
  uint64_t state = i * 0x632be59bd9b4e019ULL ^ salt;
  if (width != 0) {
    for (std::size_t b = 0; b < width; b += 8) {
      const uint64_t r = splitmix(state);
      for (std::size_t k = 0; k < 8 && b + k < width; ++k) out[b + k] = static_cast<char>(r >> (8 * k));
    }
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t r = 0;
  for (std::size_t b = 0, nibbles = 0; b < kOaidBytes; ++b) {
    if (b == 8 || b == 13 || b == 18 || b == 23) {
      out[b] = '-';
      continue;
    }
    if (nibbles % 16 == 0) r = splitmix(state);
    out[b] = kHex[r >> (4 * (nibbles++ % 16)) & 15];
  }
}

std::size_t bytes_of(std::size_t width) { return width == 0 ? kOaidBytes : width; }

// All kKeys keys of a width, back to back.
struct Keys {
  std::size_t width = SIZE_MAX;
  std::vector<char> bytes;
  [[nodiscard]] std::string_view at(std::size_t i) const {
    const std::size_t n = bytes_of(width);
    return {bytes.data() + i * n, n};
  }
};

const Keys& keys_of(std::size_t width) {
  static Keys keys;
  if (keys.width != width) {
    keys.width = width;
    keys.bytes.assign(kKeys * bytes_of(width), 0);
    for (std::size_t i = 0; i < kKeys; ++i) make_key(i, width, 1, keys.bytes.data() + i * bytes_of(width));
  }
  return keys;
}

// The space of the width last built by BM_Link (built here if missing).
std::unique_ptr<IdSpace>& built() {
  static std::unique_ptr<IdSpace> space;
  return space;
}

std::unique_ptr<IdSpace> build(std::size_t width, bool reserve) {
  const Keys& keys = keys_of(width);
  auto space = std::make_unique<IdSpace>(width);
  if (reserve) space->reserve(kKeys, kKeys * bytes_of(width));
  for (std::size_t i = 0; i < kKeys; ++i) {
    if (!space->link(keys.at(i), static_cast<Ordinal>(i))) return nullptr;
  }
  return space;
}

void report_memory(benchmark::State& state, const IdSpace& space, std::size_t width) {
  const auto bytes = static_cast<double>(space.memory_bytes());
  const auto n = static_cast<double>(kKeys);
  state.counters["B_per_key"] = bytes / n;
  state.counters["budget_ratio"] = bytes / (1.3 * static_cast<double>(bytes_of(width)) * n + 16.0 * n);
}

void BM_Link(benchmark::State& state, std::size_t width, bool reserve) {
  keys_of(width);
  built().reset();
  std::unique_ptr<IdSpace> space;
  for (auto _ : state) {
    space = build(width, reserve);
    if (!space) {
      state.SkipWithError("link refused a key");
      return;
    }
  }
  state.counters["keys_per_s"] = benchmark::Counter(
      static_cast<double>(kKeys) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  report_memory(state, *space, width);
  built() = std::move(space);
}

void BM_Find(benchmark::State& state, std::size_t width, bool hit) {
  const Keys& keys = keys_of(width);
  if (!built() || built()->key_bytes() != width) built() = build(width, false);
  const IdSpace& space = *built();
  // Random probe keys laid out back to back, so the loop reads them in order.
  const std::size_t n = bytes_of(width);
  std::vector<char> probes(kProbes * n);
  uint64_t seed = 42;
  for (std::size_t i = 0; i < kProbes; ++i) {
    const std::size_t k = splitmix(seed) % kKeys;
    if (hit) {
      const std::string_view key = keys.at(k);
      std::copy(key.begin(), key.end(), probes.data() + i * n);
    } else {
      make_key(k, width, 2, probes.data() + i * n);
    }
  }
  std::size_t i = 0, found = 0;
  for (auto _ : state) {
    const auto o = space.find({probes.data() + i * n, n});
    benchmark::DoNotOptimize(o);
    found += o.has_value() ? 1 : 0;
    if (++i == kProbes) i = 0;
  }
  if (found != (hit ? static_cast<std::size_t>(state.iterations()) : 0)) state.SkipWithError("wrong answers");
}

void register_all() {
  for (const std::size_t width : {std::size_t{8}, std::size_t{16}, std::size_t{32}, std::size_t{0}}) {
    const std::string w = width == 0 ? "var36" : std::to_string(width);
    benchmark::RegisterBenchmark(("BM_LinkReserved/" + w).c_str(), BM_Link, width, true)
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_Link/" + w).c_str(), BM_Link, width, false)
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_FindHit/" + w).c_str(), BM_Find, width, true)->Iterations(kProbes * 4);
    benchmark::RegisterBenchmark(("BM_FindMiss/" + w).c_str(), BM_Find, width, false)->Iterations(kProbes * 4);
  }
}

}  // namespace
}  // namespace crowd

int main(int argc, char** argv) {
  crowd::register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
