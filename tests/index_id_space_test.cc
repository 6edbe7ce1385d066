// IdSpace against a naive model (std::map key -> owner, ordinal -> keys in
// link order) for every key width, variable keys of 1..255 bytes with NUL
// bytes and shared prefixes included; refusals that must change nothing;
// growth through many rebuilds and tombstone purges; the memory budget; and
// one writer linking, merging and erasing while two readers check that every
// answer is one the writer's history allows -- over a long random history,
// over a few hot keys moved round after round while the hash is rebuilt, and
// over one key merged back and forth (the ABA of a merge). find_many
// answers as find does, key by key, and its readers too see only allowed
// answers while hot keys move and tables are retired.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "index/id_space.h"

namespace crowd {
namespace {

struct Model {
  std::map<std::string, Ordinal> owner;
  std::map<Ordinal, std::vector<std::string>> keys;

  bool link(const std::string& k, Ordinal o) {
    if (const auto it = owner.find(k); it != owner.end()) return it->second == o;
    owner.emplace(k, o);
    keys[o].push_back(k);
    return true;
  }
  std::size_t unlink_all(Ordinal o) {
    const auto it = keys.find(o);
    if (it == keys.end()) return 0;
    const std::size_t n = it->second.size();
    for (const auto& k : it->second) owner.erase(k);
    keys.erase(it);
    return n;
  }
  std::size_t relink_all(Ordinal from, Ordinal to) {
    const auto it = keys.find(from);
    if (from == to || it == keys.end()) return 0;
    std::vector<std::string> moved = std::move(it->second);
    keys.erase(it);
    for (const auto& k : moved) {
      owner[k] = to;
      keys[to].push_back(k);
    }
    return moved.size();
  }
};

std::string random_bytes(std::size_t n, std::mt19937_64& rng) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() % 4 == 0 ? 0 : rng());  // plenty of NUL bytes
  return s;
}

// Distinct keys of `width` bytes (0: variable, 1..255 bytes, short ones
// favoured), with near neighbours: a byte flipped, and for variable keys
// prefixes and extensions of other keys.
std::vector<std::string> key_pool(std::size_t width, std::size_t n, std::mt19937_64& rng) {
  std::set<std::string> seen;
  std::vector<std::string> pool;
  while (pool.size() < n) {
    std::string k;
    if (!pool.empty() && rng() % 4 == 0) {
      k = pool[rng() % pool.size()];
      if (width == 0 && rng() % 2 == 0) {
        if (k.size() > 1 && rng() % 2 == 0) {
          k.pop_back();
        } else if (k.size() < IdSpace::kMaxVariableKey) {
          k.push_back('\0');
        }
      } else {
        k[rng() % k.size()] ^= static_cast<char>(1 + rng() % 255);
      }
    } else {
      std::size_t len = width;
      if (width == 0) len = rng() % 3 == 0 ? 1 + rng() % IdSpace::kMaxVariableKey : 1 + rng() % 40;
      k = random_bytes(len, rng);
    }
    if (seen.insert(k).second) pool.push_back(std::move(k));
  }
  return pool;
}

std::vector<std::string> keys_of(const IdSpace& s, Ordinal o) {
  std::vector<std::string> out;
  s.for_each_key(o, [&](std::string_view k) { out.emplace_back(k); });
  return out;
}

void expect_matches(const IdSpace& s, const Model& m, const std::vector<std::string>& pool,
                    const std::vector<Ordinal>& ordinals) {
  ASSERT_EQ(s.size(), m.owner.size());
  for (const auto& k : pool) {
    const auto it = m.owner.find(k);
    const std::optional<Ordinal> want = it == m.owner.end() ? std::nullopt : std::optional<Ordinal>(it->second);
    ASSERT_EQ(s.find(k), want) << "key of " << k.size() << " bytes";
  }
  for (const Ordinal o : ordinals) {
    const auto it = m.keys.find(o);
    const std::vector<std::string> want = it == m.keys.end() ? std::vector<std::string>{} : it->second;
    ASSERT_EQ(keys_of(s, o), want) << "ordinal " << o;
    ASSERT_EQ(s.has_key(o), !want.empty()) << "ordinal " << o;
  }
  std::vector<std::pair<Ordinal, std::string>> all, want;
  s.for_each([&](Ordinal o, std::string_view k) { all.emplace_back(o, std::string(k)); });
  for (const auto& [o, ks] : m.keys) {
    for (const auto& k : ks) want.emplace_back(o, k);
  }
  ASSERT_EQ(all, want);
}

// What the threads of a concurrency test saw go wrong: how often, and the
// first case in words.
class Failures {
 public:
  void add(const std::string& what) {
    if (count_.fetch_add(1) == 0) {
      std::lock_guard lock(mutex_);
      first_ = what;
    }
  }
  [[nodiscard]] std::size_t count() const { return count_.load(); }
  [[nodiscard]] std::string first() {
    std::lock_guard lock(mutex_);
    return first_;
  }

 private:
  std::atomic<std::size_t> count_{0};
  std::mutex mutex_;
  std::string first_;
};

class IdSpaceWidths : public ::testing::TestWithParam<std::size_t> {};

TEST_P(IdSpaceWidths, RandomOperationsMatchTheModel) {
  const std::size_t width = GetParam();
  std::mt19937_64 rng(1000 + width);
  const auto pool = key_pool(width, 3000, rng);
  // Small ordinals collide a lot; a few far ones live in other head chunks.
  std::vector<Ordinal> ordinals;
  for (Ordinal o = 0; o < 300; ++o) ordinals.push_back(o);
  for (const Ordinal o : {Ordinal{1} << 18, (Ordinal{1} << 18) + 7, Ordinal{0xfffffffe}, Ordinal{0xffffffff}}) {
    ordinals.push_back(o);
  }
  IdSpace s(width);
  ASSERT_EQ(s.key_bytes(), width);
  Model m;
  for (int step = 0; step < 24'000; ++step) {
    const Ordinal o = ordinals[rng() % ordinals.size()];
    const unsigned op = static_cast<unsigned>(rng() % 100);
    if (op < 80) {
      const auto& k = pool[rng() % pool.size()];
      ASSERT_EQ(s.link(k, o), m.link(k, o)) << "step " << step;
    } else if (op < 90) {
      ASSERT_EQ(s.unlink_all(o), m.unlink_all(o)) << "step " << step;
    } else {
      const Ordinal to = rng() % 8 == 0 ? o : ordinals[rng() % ordinals.size()];
      ASSERT_EQ(s.relink_all(o, to), m.relink_all(o, to)) << "step " << step;
    }
    if (step % 400 == 399) {
      ASSERT_NO_FATAL_FAILURE(expect_matches(s, m, pool, ordinals)) << "step " << step;
    }
  }
}

TEST_P(IdSpaceWidths, RefusalsChangeNothing) {
  const std::size_t width = GetParam();
  std::mt19937_64 rng(7 + width);
  const auto pool = key_pool(width, 50, rng);
  IdSpace s(width);
  Model m;
  for (std::size_t i = 0; i < pool.size(); ++i) ASSERT_TRUE(s.link(pool[i], static_cast<Ordinal>(i % 10)));
  for (std::size_t i = 0; i < pool.size(); ++i) m.link(pool[i], static_cast<Ordinal>(i % 10));
  std::vector<Ordinal> ordinals;
  for (Ordinal o = 0; o < 12; ++o) ordinals.push_back(o);
  const std::size_t memory = s.memory_bytes();

  // Already linked to the same ordinal: true, nothing added.
  EXPECT_TRUE(s.link(pool[3], 3));
  // A key of another user.
  EXPECT_FALSE(s.link(pool[3], 4));
  EXPECT_FALSE(s.link(pool[3], 11));
  // Wrong lengths.
  std::vector<std::string> wrong;
  if (width == 0) {
    wrong = {std::string(), std::string(IdSpace::kMaxVariableKey + 1, 'x'), std::string(1000, '\0')};
  } else {
    wrong = {std::string(), std::string(width - 1, 'x'), std::string(width + 1, 'x'), pool[0] + '\0',
             pool[0].substr(0, width - 1)};
  }
  for (const auto& k : wrong) {
    EXPECT_FALSE(s.link(k, 5)) << k.size() << " bytes";
    EXPECT_FALSE(s.find(k).has_value()) << k.size() << " bytes";
  }
  // Unlinking or merging ordinals without keys, and an ordinal into itself.
  EXPECT_EQ(s.unlink_all(11), 0u);
  EXPECT_EQ(s.relink_all(11, 3), 0u);
  EXPECT_EQ(s.relink_all(3, 3), 0u);
  ASSERT_NO_FATAL_FAILURE(expect_matches(s, m, pool, ordinals));
  EXPECT_EQ(s.memory_bytes(), memory);
}

TEST_P(IdSpaceWidths, GrowthThroughManyRebuilds) {
  const std::size_t width = GetParam();
  std::mt19937_64 rng(99 + width);
  // 200k keys from 64 buckets: a dozen rebuilds. Absent keys stay absent.
  std::vector<std::string> keys;
  std::unordered_set<std::string> seen;
  while (keys.size() < 220'000) {
    std::string k = random_bytes(width == 0 ? 1 + rng() % 60 : width, rng);
    if (seen.insert(k).second) keys.push_back(std::move(k));
  }
  const std::size_t n = 200'000;
  IdSpace s(width);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(s.link(keys[i], static_cast<Ordinal>(i / 2)));
    if (i % 20'000 == 0) {
      for (std::size_t j = 0; j <= i; j += 97) ASSERT_EQ(s.find(keys[j]), static_cast<Ordinal>(j / 2));
    }
  }
  ASSERT_EQ(s.size(), n);
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(s.find(keys[i]), static_cast<Ordinal>(i / 2));
  for (std::size_t i = n; i < keys.size(); ++i) ASSERT_FALSE(s.find(keys[i]).has_value());
  for (Ordinal o = 0; o < 100; ++o) ASSERT_EQ(keys_of(s, o), (std::vector<std::string>{keys[2 * o], keys[2 * o + 1]}));
  // Views stay valid across rebuilds: the records never move.
  std::string_view first;
  s.for_each_key(0, [&](std::string_view k) {
    if (first.empty()) first = k;
  });
  // Erase every odd ordinal, merge each even one into the next even one.
  for (Ordinal o = 1; o < n / 2; o += 2) ASSERT_EQ(s.unlink_all(o), 2u);
  for (Ordinal o = 0; o + 2 < n / 2; o += 4) ASSERT_EQ(s.relink_all(o, o + 2), 2u);
  EXPECT_EQ(first, keys[0]);
  ASSERT_EQ(s.size(), n / 2);
  for (std::size_t i = 0; i < n; ++i) {
    const auto o = static_cast<Ordinal>(i / 2);
    std::optional<Ordinal> want;
    if (o % 2 == 0) want = o % 4 == 0 && o + 2 < n / 2 ? o + 2 : o;
    ASSERT_EQ(s.find(keys[i]), want) << i;
  }
  EXPECT_EQ(keys_of(s, 2), (std::vector<std::string>{keys[4], keys[5], keys[0], keys[1]}));
  EXPECT_FALSE(s.has_key(0));
}

TEST_P(IdSpaceWidths, TombstonesArePurged) {
  const std::size_t width = GetParam();
  std::mt19937_64 rng(5 + width);
  IdSpace s(width);
  // Link and erase 4,000 fresh keys, 100 times: the hash must stay the size
  // for ~4,000 keys. Only the abandoned records (bytes in the arena) grow.
  const std::size_t record = 4 + (width == 0 ? 16 : (width + 3) / 4 * 4);  // variable: 1 + 8..15 bytes
  std::size_t memory_after_10 = 0;
  uint64_t serial = 0;
  const auto fresh_key = [&] {
    // Distinct: the serial's bytes, then random ones.
    std::string k = random_bytes(width == 0 ? 8 + rng() % 8 : std::max<std::size_t>(width, 8), rng);
    for (int b = 0; b < 8; ++b) k[b] = static_cast<char>(serial >> (8 * b));
    ++serial;
    if (width != 0) k.resize(width);
    return k;
  };
  for (int round = 0; round < 100; ++round) {
    for (Ordinal o = 0; o < 4000; ++o) ASSERT_TRUE(s.link(fresh_key(), o));
    ASSERT_EQ(s.size(), 4000u);
    const std::string kept = keys_of(s, 1234).front();
    ASSERT_EQ(s.find(kept), 1234u);
    for (Ordinal o = 0; o < 4000; ++o) ASSERT_EQ(s.unlink_all(o), 1u);
    ASSERT_FALSE(s.find(kept).has_value());
    if (round == 9) memory_after_10 = s.memory_bytes();
  }
  EXPECT_EQ(s.size(), 0u);
  EXPECT_LE(s.memory_bytes(), memory_after_10 + 90 * 4000 * record + (std::size_t{2} << 20));
}

// find_many against find, key by key: batches of every size around the
// group size, mixing hits (users with one to three keys), misses, near
// misses and keys of wrong lengths, on an empty space, while the hash grows
// through rebuilds, and after erasures (tombstones) and merges.
void expect_find_many_matches_find(const IdSpace& s, const std::vector<std::string>& queries, std::mt19937_64& rng) {
  std::vector<std::string_view> views(queries.begin(), queries.end());
  std::shuffle(views.begin(), views.end(), rng);
  const std::size_t g = IdSpace::kFindManyGroup;
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{2}, g - 1, g, g + 1, 2 * g + 5, views.size()}) {
    const std::size_t len = std::min(n, views.size());
    const std::span<const std::string_view> batch(views.data(), len);
    std::vector<std::optional<Ordinal>> got(len, Ordinal{12345});
    s.find_many(batch, got);
    for (std::size_t i = 0; i < len; ++i) {
      ASSERT_EQ(got[i], s.find(batch[i])) << "batch of " << len << ", key " << i << " of " << batch[i].size() << " bytes";
    }
  }
}

std::vector<std::string> wrong_lengths(std::size_t width, const std::vector<std::string>& pool) {
  if (width == 0) return {std::string(), std::string(IdSpace::kMaxVariableKey + 1, 'x'), std::string(1000, '\0')};
  return {std::string(), std::string(width - 1, 'x'), std::string(width + 1, 'x'), pool[0] + '\0',
          pool[0].substr(0, width - 1)};
}

TEST_P(IdSpaceWidths, FindManyMatchesFind) {
  const std::size_t width = GetParam();
  std::mt19937_64 rng(31 + width);
  const auto pool = key_pool(width, 24'000, rng);
  // Queries: every key of the pool (half of them linked by the end), keys of
  // wrong lengths, each a few times over.
  std::vector<std::string> queries = pool;
  for (const auto& k : wrong_lengths(width, pool)) queries.push_back(k);
  for (std::size_t i = 0; i < 500; ++i) queries.push_back(pool[rng() % pool.size()]);

  IdSpace s(width);
  ASSERT_NO_FATAL_FAILURE(expect_find_many_matches_find(s, queries, rng));  // no table yet
  // Growth: 12k keys from an empty hash, checked every 1,500 links (several
  // rebuilds in between); users hold 3 keys.
  const std::size_t linked = pool.size() / 2;
  for (std::size_t i = 0; i < linked; ++i) {
    ASSERT_TRUE(s.link(pool[i], static_cast<Ordinal>(i / 3)));
    if (i % 1500 == 0) {
      ASSERT_NO_FATAL_FAILURE(expect_find_many_matches_find(s, queries, rng)) << i;
    }
  }
  ASSERT_NO_FATAL_FAILURE(expect_find_many_matches_find(s, queries, rng));
  std::size_t hits = 0;
  for (const auto& k : queries) hits += s.find(k).has_value() ? 1 : 0;
  EXPECT_GE(hits, linked);
  // Erasures and merges: tombstones, moved keys, users of 6 keys.
  for (Ordinal o = 0; o < linked / 3; o += 5) s.unlink_all(o);
  for (Ordinal o = 1; o + 1 < linked / 3; o += 5) s.relink_all(o, o + 1);
  ASSERT_NO_FATAL_FAILURE(expect_find_many_matches_find(s, queries, rng));
  // A rebuild to a larger table (the snapshot-restore path), then again.
  s.reserve(4 * pool.size(), 0);
  ASSERT_NO_FATAL_FAILURE(expect_find_many_matches_find(s, queries, rng));
}

TEST(IdSpace, FindManyRefusesOutOfAnotherSize) {
  IdSpace s(8);
  ASSERT_TRUE(s.link("abcdefgh", 3));
  const std::string_view keys[2] = {"abcdefgh", "abcdefgi"};
  std::optional<Ordinal> out[3];
  EXPECT_THROW(s.find_many(keys, std::span(out, 1)), std::invalid_argument);
  EXPECT_THROW(s.find_many(keys, std::span(out, 3)), std::invalid_argument);
  s.find_many(keys, std::span(out, 2));
  EXPECT_EQ(out[0], std::optional<Ordinal>(3));
  EXPECT_EQ(out[1], std::nullopt);
}

std::string width_name(const ::testing::TestParamInfo<std::size_t>& param) {
  return param.param == 0 ? std::string("variable") : "fixed" + std::to_string(param.param);
}
INSTANTIATE_TEST_SUITE_P(Widths, IdSpaceWidths, ::testing::Values(0, 8, 16, 32, 5), width_name);

TEST(IdSpace, RejectsAFixedWidthAbove255) {
  EXPECT_THROW(IdSpace(256), std::invalid_argument);
  EXPECT_NO_THROW(IdSpace(255));
}

TEST(IdSpace, EmptySpace) {
  IdSpace s(0);
  EXPECT_FALSE(s.find("abc").has_value());
  EXPECT_FALSE(s.has_key(0));
  EXPECT_FALSE(s.has_key(0xffffffff));
  EXPECT_TRUE(keys_of(s, 7).empty());
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.unlink_all(3), 0u);
  EXPECT_EQ(s.relink_all(3, 4), 0u);
  int calls = 0;
  s.for_each([&](Ordinal, std::string_view) { ++calls; });
  EXPECT_EQ(calls, 0);
  s.reserve(1000, 36'000);
  EXPECT_TRUE(s.link("abc", 3));
  EXPECT_EQ(s.find("abc"), 3u);
}

// The budget: 1.3 x the key bytes + 16 bytes a key, everything counted, one
// key per ordinal (OAIDs: 36-character strings).
TEST(IdSpace, MemoryWithinBudgetAtOneMillionKeys) {
  for (const std::size_t width : {32, 16, 8, 0}) {
    SCOPED_TRACE(width);
    const std::size_t n = 1'000'000;
    const std::size_t key = width == 0 ? 36 : width;
    IdSpace s(width);
    std::string k(key, '\0');
    for (std::size_t i = 0; i < n; ++i) {
      uint64_t x = i * 0x9e3779b97f4a7c15ULL + 12345;
      for (std::size_t b = 0; b < key; ++b) {
        if (b % 8 == 0) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        k[b] = static_cast<char>(x >> (b % 8 * 8));
      }
      ASSERT_TRUE(s.link(k, static_cast<Ordinal>(i)));
    }
    const double budget = 1.3 * static_cast<double>(key * n) + 16.0 * static_cast<double>(n);
    EXPECT_LE(static_cast<double>(s.memory_bytes()), budget)
        << static_cast<double>(s.memory_bytes()) / static_cast<double>(n) << " bytes a key";
  }
}

// ---- One writer, two readers.
//
// The writer's whole history is computed first on the model, so readers know,
// for every key, every ordinal it will ever be linked to, and for every
// ordinal every key it will ever hold. Stable keys are linked before the
// threads start and only move between stable ordinals (relink_all), never
// unlinked: a reader must always find them. Churn keys come and go.
struct History {
  std::vector<std::string> keys;
  std::unordered_map<std::string, std::size_t> index;
  std::vector<std::vector<Ordinal>> owners;            // per key: every ordinal it is ever linked to
  std::vector<std::unordered_set<std::size_t>> holds;  // per ordinal: every key it ever holds
  std::size_t stable = 0;                              // keys [0, stable) are stable

  struct Op {
    enum Kind { kLink, kUnlink, kRelink } kind;
    std::size_t key;
    Ordinal o, to;
    std::size_t expect;
  };
  std::vector<Op> ops;
};

// Tens of thousands of ordinals, so that merges leave users a few keys each
// (a find walks its owner's key list).
constexpr Ordinal kStableOrdinals = 40'000, kOrdinals = 60'000;

History make_history(std::size_t width, std::size_t stable, std::size_t churn, std::size_t ops, Model& model) {
  std::mt19937_64 rng(2024 + width);
  History h;
  h.keys = key_pool(width, stable + churn, rng);
  h.stable = stable;
  h.owners.resize(h.keys.size());
  h.holds.resize(kOrdinals);
  for (std::size_t i = 0; i < h.keys.size(); ++i) h.index.emplace(h.keys[i], i);
  const auto note = [&](std::size_t k, Ordinal o) {
    auto& owners = h.owners[k];
    if (std::find(owners.begin(), owners.end(), o) == owners.end()) owners.push_back(o);
    h.holds[o].insert(k);
  };
  // Half the stable keys before the threads start, the rest linked by the writer.
  for (std::size_t k = 0; k < stable / 2; ++k) {
    const auto o = static_cast<Ordinal>(rng() % kStableOrdinals);
    model.link(h.keys[k], o);
    note(k, o);
  }
  std::size_t next_stable = stable / 2;
  for (std::size_t i = 0; i < ops; ++i) {
    const unsigned op = static_cast<unsigned>(rng() % 100);
    History::Op x{History::Op::kLink, 0, 0, 0, 0};
    if (op < 30 && next_stable < stable) {
      x = {History::Op::kLink, next_stable++, static_cast<Ordinal>(rng() % kStableOrdinals), 0, 1};
    } else if (op < 36) {
      x.kind = History::Op::kRelink;
      x.o = static_cast<Ordinal>(rng() % kStableOrdinals);
      x.to = static_cast<Ordinal>(rng() % kStableOrdinals);
    } else if (op < 85) {
      x = {History::Op::kLink, stable + rng() % churn,
           static_cast<Ordinal>(kStableOrdinals + rng() % (kOrdinals - kStableOrdinals)), 0, 0};
    } else if (op < 95) {
      x.kind = History::Op::kUnlink;
      x.o = static_cast<Ordinal>(kStableOrdinals + rng() % (kOrdinals - kStableOrdinals));
    } else {
      x.kind = History::Op::kRelink;
      x.o = static_cast<Ordinal>(kStableOrdinals + rng() % (kOrdinals - kStableOrdinals));
      x.to = static_cast<Ordinal>(kStableOrdinals + rng() % (kOrdinals - kStableOrdinals));
    }
    switch (x.kind) {
      case History::Op::kLink:
        x.expect = model.link(h.keys[x.key], x.o) ? 1 : 0;
        if (x.expect != 0) note(x.key, x.o);
        break;
      case History::Op::kUnlink:
        x.expect = model.unlink_all(x.o);
        break;
      case History::Op::kRelink:
        if (const auto it = model.keys.find(x.o); it != model.keys.end() && x.o != x.to) {
          for (const auto& k : it->second) note(h.index.at(k), x.to);
        }
        x.expect = model.relink_all(x.o, x.to);
        break;
    }
    h.ops.push_back(x);
  }
  return h;
}

void concurrent_readers_see_only_allowed_answers(std::size_t width) {
  Model model;
  const History h = make_history(width, 40'000, 100'000, 300'000, model);
  IdSpace s(width);
  // The links made before the threads start: each stable key's first owner.
  for (std::size_t k = 0; k < h.stable / 2; ++k) ASSERT_TRUE(s.link(h.keys[k], h.owners[k].front()));
  std::atomic<bool> done{false};
  Failures failures;
  const auto fail = [&](const std::string& what) { failures.add(what); };

  std::thread writer([&] {
    std::size_t i = 0;
    for (const auto& op : h.ops) {
      std::size_t got = 0;
      switch (op.kind) {
        case History::Op::kLink:
          got = s.link(h.keys[op.key], op.o) ? 1 : 0;
          break;
        case History::Op::kUnlink:
          got = s.unlink_all(op.o);
          break;
        case History::Op::kRelink:
          got = s.relink_all(op.o, op.to);
          break;
      }
      if (got != op.expect) fail("writer: op " + std::to_string(i) + " returned " + std::to_string(got));
      ++i;
    }
    done.store(true);
  });

  const auto reader = [&](uint64_t seed, std::size_t& rounds) {
    std::mt19937_64 rng(seed);
    std::vector<std::size_t> seen;
    // At least a few rounds even if the writer is done first.
    for (rounds = 0; !done.load() || rounds < 1000; ++rounds) {
      // A key: stable ones linked before the start must always be found.
      const std::size_t k = rng() % 4 == 0 ? rng() % (h.stable / 2) : rng() % h.keys.size();
      const auto o = s.find(h.keys[k]);
      const auto& owners = h.owners[k];
      if (o.has_value()) {
        if (std::find(owners.begin(), owners.end(), *o) == owners.end()) {
          fail("find: key " + std::to_string(k) + " read as ordinal " + std::to_string(*o) + ", never its owner");
        }
      } else if (k < h.stable / 2) {
        fail("find: stable key " + std::to_string(k) + " not found");
      }
      // An ordinal: every key seen is a whole key it held at some point, once.
      const auto ord = static_cast<Ordinal>(rng() % kOrdinals);
      seen.clear();
      s.for_each_key(ord, [&](std::string_view key) {
        const auto it = h.index.find(std::string(key));
        if (it == h.index.end()) {
          fail("for_each_key: ordinal " + std::to_string(ord) + " yields bytes that are no key");
        } else if (h.holds[ord].count(it->second) == 0) {
          fail("for_each_key: ordinal " + std::to_string(ord) + " yields key " + std::to_string(it->second) +
               ", never its own");
        } else {
          seen.push_back(it->second);
        }
      });
      std::sort(seen.begin(), seen.end());
      if (std::adjacent_find(seen.begin(), seen.end()) != seen.end()) {
        fail("for_each_key: ordinal " + std::to_string(ord) + " yields a key twice");
      }
    }
  };
  std::size_t rounds[2] = {0, 0};
  std::thread r0(reader, 1, std::ref(rounds[0]));
  std::thread r1(reader, 2, std::ref(rounds[1]));
  writer.join();
  r0.join();
  r1.join();
  EXPECT_EQ(failures.count(), 0u) << failures.first();
  EXPECT_GE(rounds[0], 1000u);
  EXPECT_GE(rounds[1], 1000u);
  // The end state is the model's.
  std::vector<Ordinal> ordinals;
  for (Ordinal o = 0; o < kOrdinals; ++o) ordinals.push_back(o);
  ASSERT_NO_FATAL_FAILURE(expect_matches(s, model, h.keys, ordinals));
}

TEST(IdSpaceConcurrency, ReadersSeeOnlyAllowedAnswersVariableKeys) { concurrent_readers_see_only_allowed_answers(0); }
TEST(IdSpaceConcurrency, ReadersSeeOnlyAllowedAnswersFixedKeys) { concurrent_readers_see_only_allowed_answers(16); }

// The writer of the hot-key tests: 4000 rounds, each moving every hot key
// on to the next of its four ordinals, then linking and erasing 200 churn
// keys (pool[hot...]).
template <class Fail>
void churn_hot_keys(IdSpace& s, const std::vector<std::string>& pool, Ordinal hot, Ordinal churn_base,
                    const Fail& fail) {
  for (int round = 0; round < 4000; ++round) {
    for (Ordinal i = 0; i < hot; ++i) {
      const Ordinal from = i + hot * static_cast<Ordinal>(round % 4), to = i + hot * static_cast<Ordinal>((round + 1) % 4);
      if (s.relink_all(from, to) != 1) fail("writer: relink of hot key " + std::to_string(i));
    }
    for (Ordinal k = 0; k < 200; ++k) {
      if (!s.link(pool[hot + k], churn_base + k)) fail("writer: churn link");
    }
    for (Ordinal k = 0; k < 200; ++k) s.unlink_all(churn_base + k);
  }
}

// The narrow windows, hammered: 64 hot keys, one a user, each moved round
// after round through its 4 ordinals (key i: i, i + 64, i + 128, i + 192)
// while churn keys are linked and erased fast enough that the small hash is
// purged (rebuilt, the old table retired) every couple of rounds. Readers
// must always find a hot key at one of its ordinals, and an ordinal's keys
// must be its hot key or nothing.
void hot_keys_are_always_found(std::size_t width) {
  constexpr Ordinal kHot = 64, kChurnBase = 1'000'000;
  std::mt19937_64 rng(77 + width);
  const auto pool = key_pool(width, kHot + 200, rng);
  IdSpace s(width);
  for (Ordinal i = 0; i < kHot; ++i) ASSERT_TRUE(s.link(pool[i], i));
  std::atomic<bool> done{false};
  Failures failures;
  const auto fail = [&](const std::string& what) { failures.add(what); };
  std::thread writer([&] {
    churn_hot_keys(s, pool, kHot, kChurnBase, fail);
    done.store(true);
  });
  const auto reader = [&](uint64_t seed) {
    std::mt19937_64 r(seed);
    while (!done.load()) {
      const auto i = static_cast<Ordinal>(r() % kHot);
      const auto o = s.find(pool[i]);
      if (!o.has_value()) {
        fail("hot key " + std::to_string(i) + " not found");
      } else if (*o % kHot != i || *o >= 4 * kHot) {
        fail("hot key " + std::to_string(i) + " read as ordinal " + std::to_string(*o));
      }
      const auto ord = static_cast<Ordinal>(r() % (4 * kHot));
      s.for_each_key(ord, [&](std::string_view k) {
        if (k != pool[ord % kHot]) fail("ordinal " + std::to_string(ord) + " yields a key not its own");
      });
    }
  };
  std::thread r0(reader, 1), r1(reader, 2);
  writer.join();
  r0.join();
  r1.join();
  EXPECT_EQ(failures.count(), 0u) << failures.first();
  EXPECT_EQ(s.size(), std::size_t{kHot});
}

// The merge windows through find_many: readers ask for the hot keys and
// the churn keys at once, a random number in a random order, so a group's
// probes run while the writer moves keys between users and links and erases
// others (the retirement of tables is the next test's).
void hot_keys_are_always_found_in_batches(std::size_t width) {
  constexpr Ordinal kHot = 64, kChurnBase = 1'000'000;
  std::mt19937_64 rng(78 + width);
  const auto pool = key_pool(width, kHot + 200, rng);
  IdSpace s(width);
  for (Ordinal i = 0; i < kHot; ++i) ASSERT_TRUE(s.link(pool[i], i));
  std::atomic<bool> done{false};
  Failures failures;
  const auto fail = [&](const std::string& what) { failures.add(what); };
  std::thread writer([&] {
    churn_hot_keys(s, pool, kHot, kChurnBase, fail);
    done.store(true);
  });
  const auto reader = [&](uint64_t seed) {
    std::mt19937_64 r(seed);
    std::vector<std::size_t> order(pool.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::vector<std::string_view> keys(pool.size());
    std::vector<std::optional<Ordinal>> out(pool.size());
    while (!done.load()) {
      std::shuffle(order.begin(), order.end(), r);
      const std::size_t n = 1 + r() % order.size();
      for (std::size_t i = 0; i < n; ++i) keys[i] = pool[order[i]];
      s.find_many(std::span(keys.data(), n), std::span(out.data(), n));
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t k = order[i];
        if (k < kHot) {
          if (!out[i].has_value()) {
            fail("hot key " + std::to_string(k) + " not found");
          } else if (*out[i] % kHot != k || *out[i] >= 4 * kHot) {
            fail("hot key " + std::to_string(k) + " read as ordinal " + std::to_string(*out[i]));
          }
        } else if (out[i].has_value() && *out[i] != kChurnBase + (k - kHot)) {
          fail("churn key " + std::to_string(k) + " read as ordinal " + std::to_string(*out[i]));
        }
      }
    }
  };
  std::thread r0(reader, 1), r1(reader, 2);
  writer.join();
  r0.join();
  r1.join();
  EXPECT_EQ(failures.count(), 0u) << failures.first();
  EXPECT_EQ(s.size(), std::size_t{kHot});
}

TEST(IdSpaceConcurrency, HotKeysAreAlwaysFoundInBatchesVariableKeys) { hot_keys_are_always_found_in_batches(0); }
TEST(IdSpaceConcurrency, HotKeysAreAlwaysFoundInBatchesFixedKeys) { hot_keys_are_always_found_in_batches(32); }

// Tables retired under a batch: 64 keys that never move, and a writer that
// links 600 fresh keys and erases them, round after round. So many at once
// overflow the small hash's tombstones: it is rebuilt (grown or purged, the
// old table given back to the kernel and read as zeros) about twice a
// round. A group probed in a retired table misses every key; those misses
// must be asked again, never reported.
void stable_keys_survive_retirements_in_batches(std::size_t width) {
  constexpr Ordinal kStable = 64, kChurn = 600, kChurnBase = 1'000'000;
  std::mt19937_64 rng(79 + width);
  const auto pool = key_pool(width, kStable, rng);
  IdSpace s(width);
  for (Ordinal i = 0; i < kStable; ++i) ASSERT_TRUE(s.link(pool[i], i));
  std::atomic<bool> done{false};
  std::atomic<std::size_t> misses{0}, wrong{0}, batches{0};
  std::thread writer([&] {
    // Fresh keys: 9+ bytes, distinct from the stable ones (a serial and a tag byte).
    std::string k(width == 0 ? 12 : width, '\0');
    uint64_t serial = 0;
    for (int round = 0; round < 400; ++round) {
      for (Ordinal c = 0; c < kChurn; ++c) {
        for (auto& b : k) b = static_cast<char>(rng());
        for (std::size_t b = 0; b < 8 && b < k.size(); ++b) k[b] = static_cast<char>(serial >> (8 * b));
        ++serial;
        s.link(k, kChurnBase + c);
      }
      for (Ordinal c = 0; c < kChurn; ++c) s.unlink_all(kChurnBase + c);
    }
    done.store(true);
  });
  const auto reader = [&](uint64_t seed) {
    std::mt19937_64 r(seed);
    std::vector<Ordinal> order(kStable);
    for (Ordinal i = 0; i < kStable; ++i) order[i] = i;
    std::vector<std::string_view> keys(kStable);
    std::vector<std::optional<Ordinal>> out(kStable);
    while (!done.load()) {
      std::shuffle(order.begin(), order.end(), r);
      for (Ordinal i = 0; i < kStable; ++i) keys[i] = pool[order[i]];
      s.find_many(keys, out);
      for (Ordinal i = 0; i < kStable; ++i) {
        if (!out[i].has_value()) {
          misses.fetch_add(1);
        } else if (*out[i] != order[i]) {
          wrong.fetch_add(1);
        }
      }
      batches.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::thread r0(reader, 1), r1(reader, 2);
  writer.join();
  r0.join();
  r1.join();
  EXPECT_EQ(misses.load(), 0u) << "of " << batches.load() << " batches";
  EXPECT_EQ(wrong.load(), 0u);
}

TEST(IdSpaceConcurrency, StableKeysSurviveRetirementsInBatchesVariableKeys) {
  stable_keys_survive_retirements_in_batches(0);
}
TEST(IdSpaceConcurrency, StableKeysSurviveRetirementsInBatchesFixedKeys) {
  stable_keys_survive_retirements_in_batches(16);
}

TEST(IdSpaceConcurrency, HotKeysAreAlwaysFoundVariableKeys) { hot_keys_are_always_found(0); }
TEST(IdSpaceConcurrency, HotKeysAreAlwaysFoundFixedKeys) { hot_keys_are_always_found(8); }

// The ABA of a merge: one key moved back and forth between two users as fast
// as the writer can. A reader who read the key's slot (owner A), then found
// A's list empty, may re-read A in the slot after the key went to B and back:
// it must not conclude that the key is absent.
void ping_pong_key_is_always_found(std::size_t width) {
  std::mt19937_64 rng(3 + width);
  const auto pool = key_pool(width, 1, rng);
  IdSpace s(width);
  ASSERT_TRUE(s.link(pool[0], 0));
  std::atomic<bool> done{false};
  std::atomic<std::size_t> misses{0}, wrong{0}, reads{0};
  std::thread writer([&] {
    for (Ordinal round = 0; round < 1'000'000; ++round) s.relink_all(round % 2, (round + 1) % 2);
    done.store(true);
  });
  const auto reader = [&] {
    while (!done.load()) {
      const auto o = s.find(pool[0]);
      if (!o.has_value()) {
        misses.fetch_add(1);
      } else if (*o > 1) {
        wrong.fetch_add(1);
      }
      reads.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::thread r0(reader), r1(reader);
  writer.join();
  r0.join();
  r1.join();
  EXPECT_EQ(misses.load(), 0u) << "of " << reads.load() << " reads";
  EXPECT_EQ(wrong.load(), 0u);
}

TEST(IdSpaceConcurrency, PingPongKeyIsAlwaysFoundVariableKeys) { ping_pong_key_is_always_found(0); }
TEST(IdSpaceConcurrency, PingPongKeyIsAlwaysFoundFixedKeys) { ping_pong_key_is_always_found(32); }

}  // namespace
}  // namespace crowd
