// One small write against an index that already holds many saved crowds or
// many tags: its cost must follow what it changes, not what the index holds
// (issue 14, 8b: a crowd PUT took 0.6 ms at 1k saved crowds and 17 ms at
// 29k, because every write copied the definitions, the tag vector and the
// dictionary's hash map).
//
//   BM_SaveCrowd/N      save one more crowd (a tag and its definition) among N
//   BM_IngestOneUser/N  add one known user to one existing tag among N tags
//
// Each runs in the same process at every N, so the ratio between N = 1k and
// N = 100k is the number to read: a flat cost gives ~1.
//
//   bench-writes --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "index/index.h"
#include "index/system_tags.h"
#include "index/write_batch.h"

namespace crowd {
namespace {

constexpr UserId kUsers = 20'000;

std::string numbered(std::string_view prefix, int64_t n) {
  std::string out(prefix);
  out += std::to_string(n);
  return out;
}

// An index of kUsers users holding tag "t", and `crowds` saved crowds of the
// users with even IDs, saved in batches of 1,000 (quick to set up).
std::unique_ptr<Index> with_crowds(int crowds, std::shared_ptr<const Bitmap>& members) {
  auto index = std::make_unique<Index>();
  WriteResult r;
  WriteBatch users;
  const uint32_t t = users.intern("t");
  for (UserId u = 0; u < kUsers; ++u) users.add(u, {&t, 1});
  if (!index->apply(users, r)) return nullptr;
  Bitmap even;
  for (uint32_t o = 0; o < kUsers; o += 2) even.add(o);
  members = std::make_shared<const Bitmap>(std::move(even));
  for (int first = 0; first < crowds; first += 1000) {
    WriteBatch save;
    for (int c = first; c < std::min(crowds, first + 1000); ++c) {
      const std::string name = system_tags::crowd(numbered("c", c));
      save.replace_tag(save.intern(name), members);
      save.set_entry(name, "t & city:hangzhou");
    }
    if (!index->apply(save, r)) return nullptr;
  }
  return index;
}

void BM_SaveCrowd(benchmark::State& state) {
  std::shared_ptr<const Bitmap> members;
  const auto index = with_crowds(static_cast<int>(state.range(0)), members);
  if (!index) return state.SkipWithError("setup failed");
  int64_t next = 0;
  WriteResult r;
  for (auto _ : state) {
    WriteBatch save;
    const std::string name = system_tags::crowd(numbered("new", next++));
    save.replace_tag(save.intern(name), members);
    save.set_entry(name, "t & city:hangzhou");
    if (!index->apply(save, r)) return state.SkipWithError("apply failed");
  }
  state.counters["crowds"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_SaveCrowd)->Arg(1'000)->Arg(10'000)->Arg(30'000)->Arg(100'000)->Unit(benchmark::kMicrosecond);

void BM_IngestOneUser(benchmark::State& state) {
  auto index = std::make_unique<Index>();
  WriteResult r;
  const auto tags = static_cast<int>(state.range(0));
  for (int first = 0; first < tags; first += 1000) {
    WriteBatch batch;
    for (int k = first; k < std::min(tags, first + 1000); ++k) {
      const uint32_t t = batch.intern(numbered("tag:", k));
      batch.add(static_cast<UserId>(k % kUsers), {&t, 1});
    }
    if (!index->apply(batch, r)) return state.SkipWithError("setup failed");
  }
  UserId user = 0;
  for (auto _ : state) {
    WriteBatch batch;
    const uint32_t t = batch.intern("tag:7");
    batch.add(user++ % kUsers, {&t, 1});  // known users: no universe copy after the first lap
    if (!index->apply(batch, r)) return state.SkipWithError("apply failed");
  }
  state.counters["tags"] = static_cast<double>(tags);
}
BENCHMARK(BM_IngestOneUser)->Arg(1'000)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace crowd

BENCHMARK_MAIN();
