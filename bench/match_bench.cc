// Matching an uploaded list in process (issue 15, POST /v1/match without the
// HTTP): 10M users, one phone_sha256 key each (SHA-256 of "86" + a mobile
// number), and lists of 1M IDs of which ~50% are users (a few erased: every
// 997th ordinal is outside the universe). The target: >= 5M hashed
// (hex) IDs a second on one core.
//
//   BM_Match/Hex         ListMatcher over 1M lower-case hex SHA-256 IDs
//   BM_Match/PlainPhone  the same list as plain phones ("+86 130...", or a
//                        national number), normalised and hashed here
//   BM_Match/HexNoSpace  BM_Match/Hex with no space (encode + deduplicate
//                        only): what the lookups add is the difference
//   BM_EncodeHex         encode_id_into alone, per ID
//   BM_FindLoop          IdSpace::find on the same 1M keys (binary), one by one
//   BM_FindMany/B        IdSpace::find_many on them, B keys a call
//
// items_per_second is IDs (keys) a second of CPU time, one thread (on a busy
// machine the wall time is longer). Seeded; the space and the lists are
// built once (~10 s, ~0.8 GiB). Quote medians:
//
//   bench-match --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "identity/digest.h"
#include "identity/id_codec.h"
#include "identity/list_match.h"
#include "index/bitmap.h"
#include "index/id_space.h"

namespace crowd::identity {
namespace {

constexpr std::size_t kUsers = 10'000'000;
constexpr std::size_t kList = 1'000'000;
constexpr uint64_t kFirstPhone = 13'000'000'000ULL;  // user i: 130 0000 0000 + i
constexpr uint64_t kFirstStranger = 15'000'000'000ULL;
constexpr std::size_t kErasedEvery = 997;

const IdType kPhoneSha256{"phone_sha256", IdKind::kSha256, Normalization::kPhone, 0, "86"};

uint64_t splitmix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string key_of_phone(uint64_t national) {
  std::string normalised = "86";
  normalised += std::to_string(national);
  const auto d = sha256(normalised);
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

// Texts back to back, with views into them.
struct List {
  std::string bytes;
  std::vector<std::string_view> items;
  void build(const std::vector<std::string>& texts) {
    for (const auto& t : texts) bytes += t;
    std::size_t at = 0;
    for (const auto& t : texts) {
      items.emplace_back(bytes.data() + at, t.size());
      at += t.size();
    }
  }
};

struct World {
  IdSpace space{32};
  Bitmap universe;
  List hex, plain, keys;  // the same 1M IDs three ways: hex text, plain phone, key bytes
  std::size_t expected_hits = 0;  // keys of users in the universe, duplicates included
};

const World& world() {
  static const std::unique_ptr<World> built = [] {
    auto w = std::make_unique<World>();
    w->space.reserve(kUsers, kUsers * 32);
    std::vector<uint32_t> members;
    members.reserve(kUsers);
    for (std::size_t i = 0; i < kUsers; ++i) {
      if (!w->space.link(key_of_phone(kFirstPhone + i), static_cast<Ordinal>(i))) std::abort();
      if (i % kErasedEvery != 0) members.push_back(static_cast<uint32_t>(i));
    }
    w->universe.add_many(members);
    std::vector<std::string> hex, plain, keys;
    uint64_t seed = 15;
    for (std::size_t i = 0; i < kList; ++i) {
      const uint64_t r = splitmix(seed);
      uint64_t phone = 0;
      if (r % 2 == 0) {
        const uint64_t user = (r >> 1) % kUsers;
        phone = kFirstPhone + user;
        if (user % kErasedEvery != 0) ++w->expected_hits;
      } else {
        phone = kFirstStranger + (r >> 1) % kUsers;
      }
      keys.push_back(key_of_phone(phone));
      std::string h;
      append_hex({reinterpret_cast<const uint8_t*>(keys.back().data()), 32}, h);
      hex.push_back(std::move(h));
      std::string p = r % 4 == 0 ? "+86 " : "";
      p += std::to_string(phone);
      plain.push_back(std::move(p));
    }
    w->hex.build(hex);
    w->plain.build(plain);
    w->keys.build(keys);
    return w;
  }();
  return *built;
}

void report(benchmark::State& state, std::size_t per_iteration) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(per_iteration));
}

void BM_Match(benchmark::State& state, bool plain, bool with_space) {
  const World& w = world();
  const List& list = plain ? w.plain : w.hex;
  ListMatchResult last;
  for (auto _ : state) {
    ListMatcher m(kPhoneSha256, with_space ? &w.space : nullptr, static_cast<Ordinal>(kUsers), &w.universe, plain);
    uint64_t line = 0;
    for (const std::string_view text : list.items) m.add(++line, text);
    last = m.finish();
    benchmark::DoNotOptimize(last.matched);
  }
  report(state, kList);
  // matched counts distinct keys; expected_hits counts repeats too.
  if (last.invalid != 0 || (with_space && (last.matched > w.expected_hits || last.matched * 100 < w.expected_hits * 95))) {
    state.SkipWithError("wrong answers");
  }
  state.counters["match_rate"] = last.match_rate();
  state.counters["duplicates"] = static_cast<double>(last.duplicates);
}

void BM_EncodeHex(benchmark::State& state) {
  const World& w = world();
  EncodedId out;
  std::size_t i = 0;
  for (auto _ : state) {
    encode_id_into(kPhoneSha256, w.hex.items[i], false, out);
    benchmark::DoNotOptimize(out.key.data());
    if (++i == kList) i = 0;
  }
  report(state, 1);
}

void BM_FindLoop(benchmark::State& state) {
  const World& w = world();
  std::size_t found = 0;
  for (auto _ : state) {
    for (const std::string_view key : w.keys.items) {
      const auto o = w.space.find(key);
      found += o.has_value() ? 1 : 0;
    }
  }
  benchmark::DoNotOptimize(found);
  report(state, kList);
}

void BM_FindMany(benchmark::State& state) {
  const World& w = world();
  const auto batch = static_cast<std::size_t>(state.range(0));
  std::vector<std::optional<Ordinal>> out(batch);
  std::size_t found = 0;
  for (auto _ : state) {
    for (std::size_t at = 0; at < kList; at += batch) {
      const std::size_t n = std::min(batch, kList - at);
      w.space.find_many(std::span(w.keys.items.data() + at, n), std::span(out.data(), n));
      for (std::size_t i = 0; i < n; ++i) found += out[i].has_value() ? 1 : 0;
    }
  }
  benchmark::DoNotOptimize(found);
  report(state, kList);
}

BENCHMARK_CAPTURE(BM_Match, Hex, false, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Match, PlainPhone, true, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Match, HexNoSpace, false, false)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeHex);
BENCHMARK(BM_FindLoop)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FindMany)->Arg(8)->Arg(32)->Arg(128)->Arg(1024)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace crowd::identity

BENCHMARK_MAIN();
