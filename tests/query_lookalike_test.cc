// Lookalike expansion (query/lookalike.h) against an independent per-user
// computation: the data are plain std::set<int> of tags per user; the model
// recomputes every tag's counts, weight and lift from them with the
// documented formulas, scores every candidate user by user, and takes the
// top N by (score, ordinal). The engine must choose exactly those users.
// Also: the contract's invariants (never the seed, exact size, candidates and
// fields respected, deterministic ties) on data that spans several 2^16-user
// chunks with bitset, array and run containers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>


#include "index/bulk_loader.h"
#include "index/chunk_cursor.h"
#include "index/index.h"
#include "query/lookalike.h"

namespace crowd::query {
namespace {

// Users with hidden classes that shift their tags, so a seed drawn from a
// class has something to find. Tags by field: "a:" dense (bitsets), "b:"
// few-percent (arrays), "c:" clustered in ordinal ranges (runs), "d:" rare;
// plus one system tag held by a whole class (must never be a feature).
struct Data {
  std::unique_ptr<Index> index;
  std::vector<std::string> names;           // tag index -> name
  int system_tag = -1;                      // a system tag (a day tag of "class_one")
  std::vector<std::set<int>> tags;          // by user index: plain sets
  std::vector<int> cls;                     // by user index: hidden class
  std::vector<Ordinal> ordinal;             // by user index
  std::map<Ordinal, std::size_t> user_of;   // ordinal -> user index
};

Data make_data(std::size_t users, uint64_t seed) {
  Data d;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  struct Spec {
    std::string name;
    double base;
    double by_class[3];
    bool clustered;
  };
  std::vector<Spec> specs;
  for (int i = 0; i < 6; ++i) specs.push_back({"a:" + std::to_string(i), 0.3, {1.0, 1.6 - 0.2 * i, 0.5}, false});
  for (int i = 0; i < 10; ++i) specs.push_back({"b:" + std::to_string(i), 0.03, {1.0, i % 3 == 0 ? 4.0 : 1.0, 0.3}, false});
  for (int i = 0; i < 3; ++i) specs.push_back({"c:" + std::to_string(i), 0.9, {1.0, 1.0, 1.0}, true});
  for (int i = 0; i < 6; ++i) specs.push_back({"d:" + std::to_string(i), 0.0008, {1.0, 5.0, 1.0}, false});
  for (const auto& s : specs) d.names.push_back(s.name);
  const int system_tag = static_cast<int>(d.names.size());
  d.system_tag = system_tag;
  d.names.push_back("class_one");  // stored as its day tag, below

  d.tags.resize(users);
  d.cls.resize(users);
  for (std::size_t i = 0; i < users; ++i) {
    const double r = u(rng);
    d.cls[i] = r < 0.6 ? 0 : (r < 0.85 ? 1 : 2);
    for (std::size_t t = 0; t < specs.size(); ++t) {
      const auto& s = specs[t];
      if (s.clustered) {
        // Whole ranges of users (run containers after the bulk load), and
        // in the last chunk a few scattered class-1 users (arrays).
        const std::size_t lo = 20'000 + (30'000 * t) % 70'000;
        if ((i >= lo && i < lo + 25'000) || (i >= 131'072 && d.cls[i] == 1 && u(rng) < 0.05)) {
          d.tags[i].insert(static_cast<int>(t));
        }
      } else if (u(rng) < s.base * s.by_class[d.cls[i]]) {
        d.tags[i].insert(static_cast<int>(t));
      }
    }
    if (d.cls[i] == 1) d.tags[i].insert(system_tag);
    if (d.tags[i].empty()) d.tags[i].insert(0);
  }

  d.index = std::make_unique<Index>();
  BulkLoader loader(*d.index);
  std::vector<uint32_t> local(d.names.size());
  for (std::size_t t = 0; t < d.names.size(); ++t) {
    local[t] = static_cast<int>(t) == d.system_tag ? loader.day(d.names[t], 0) : loader.tag(d.names[t]);
  }
  std::vector<uint32_t> mine;
  for (std::size_t i = 0; i < users; ++i) {
    mine.clear();
    for (const int t : d.tags[i]) mine.push_back(local[static_cast<std::size_t>(t)]);
    EXPECT_TRUE(loader.add(1'000'000 + 13 * i, mine));
  }
  loader.finish();
  const auto view = d.index->view();
  std::map<UserId, Ordinal> by_id;
  for (Ordinal o = 0; o < view->ordinal_count(); ++o) by_id[view->external(o)] = o;
  d.ordinal.resize(users);
  for (std::size_t i = 0; i < users; ++i) {
    d.ordinal[i] = by_id.at(1'000'000 + 13 * i);
    d.user_of[d.ordinal[i]] = i;
  }
  return d;
}

Bitmap bitmap_of(const Data& d, const std::set<std::size_t>& users) {
  std::vector<uint32_t> v;
  for (const auto i : users) v.push_back(d.ordinal[i]);
  std::sort(v.begin(), v.end());
  Bitmap b;
  b.add_many(v);
  return b;
}

std::set<std::size_t> users_of(const Data& d, const Bitmap& b) {
  std::set<std::size_t> out;
  roaring_uint32_iterator_t* it = roaring_create_iterator(b.get());
  for (; it->has_value; roaring_advance_uint32_iterator(it)) out.insert(d.user_of.at(it->current_value));
  roaring_free_uint32_iterator(it);
  return out;
}

// The independent computation: per-user sets in, the expected features and
// users out.
struct Expected {
  std::vector<std::string> features;  // names, most informative first
  std::vector<double> weights, lifts;
  std::vector<int32_t> points;
  std::set<std::size_t> users;
  int64_t threshold_points = 0;
};

Expected naive(const Data& d, const std::set<std::size_t>& seed, const std::set<std::size_t>* candidates_in,
               uint64_t size, const std::vector<std::string>& fields, const LookalikeTuning& tuning) {
  std::set<std::size_t> candidates;
  for (std::size_t i = 0; i < d.tags.size(); ++i) {
    if (seed.contains(i)) continue;
    if (candidates_in != nullptr && !candidates_in->contains(i)) continue;
    candidates.insert(i);
  }
  const double S = static_cast<double>(seed.size());
  const double C = static_cast<double>(candidates.size());
  struct F {
    std::string name;
    int tag;
    double w, iv, lift;
  };
  std::vector<F> pool;
  for (std::size_t t = 0; t < d.names.size(); ++t) {
    const std::string& name = d.names[t];
    if (static_cast<int>(t) == d.system_tag) continue;
    if (!fields.empty() && std::find(fields.begin(), fields.end(), name.substr(0, name.find(':'))) == fields.end()) {
      continue;
    }
    double a = 0, b = 0;
    for (const auto i : seed) a += d.tags[i].contains(static_cast<int>(t));
    for (const auto i : candidates) b += d.tags[i].contains(static_cast<int>(t));
    if (a == 0 && b == 0) continue;
    const double q = (b + 0.5) / (C + 1);
    const double p = (a + tuning.prior_strength * q) / (S + tuning.prior_strength);
    const double raw = (std::log(p) - std::log1p(-p)) - (std::log(q) - std::log1p(-q));
    const double w = std::clamp(raw, -tuning.max_weight, tuning.max_weight);
    const double iv = (p - q) * w;
    if (!(iv >= tuning.min_information)) continue;
    pool.push_back({name, static_cast<int>(t), w, iv, (a / S) / q});
  }
  // Ties in information: byte order of names.
  std::sort(pool.begin(), pool.end(), [](const F& x, const F& y) {
    return x.iv != y.iv ? x.iv > y.iv : x.name < y.name;
  });
  if (pool.size() > tuning.max_features) pool.resize(tuning.max_features);
  double total = 0;
  for (const auto& f : pool) total += std::abs(f.w);
  const double scale = total > 0 ? 30000.0 / total : 1.0;
  Expected e;
  std::map<int, int32_t> points;
  for (const auto& f : pool) {
    const auto pt = static_cast<int32_t>(std::lround(f.w * scale));
    if (pt == 0) continue;
    e.features.push_back(f.name);
    e.weights.push_back(f.w);
    e.lifts.push_back(f.lift);
    e.points.push_back(pt);
    points[f.tag] = pt;
  }
  // Score user by user; best first, ties to the lowest ordinal.
  std::vector<std::pair<int64_t, Ordinal>> ranked;
  for (const auto i : candidates) {
    int64_t score = 0;
    for (const int t : d.tags[i]) {
      if (const auto it = points.find(t); it != points.end()) score += it->second;
    }
    ranked.emplace_back(-score, d.ordinal[i]);
  }
  std::sort(ranked.begin(), ranked.end());
  const std::size_t n = std::min<std::size_t>(size, ranked.size());
  for (std::size_t k = 0; k < n; ++k) e.users.insert(d.user_of.at(ranked[k].second));
  if (n > 0) e.threshold_points = -ranked[n - 1].first;
  return e;
}

class LookalikeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { data_ = new Data(make_data(150'000, 7)); }  // 3 chunks
  static void TearDownTestSuite() {
    delete data_;
    data_ = nullptr;
  }
  static std::set<std::size_t> sample_class(int cls, double share, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0, 1);
    std::set<std::size_t> out;
    for (std::size_t i = 0; i < data_->tags.size(); ++i) {
      if (data_->cls[i] == cls && u(rng) < share) out.insert(i);
    }
    return out;
  }
  static Data* data_;
};
Data* LookalikeTest::data_ = nullptr;

void expect_matches(const Data& d, const LookalikeResult& r, const Expected& e) {
  const auto view = d.index->view();
  ASSERT_EQ(r.features.size(), e.features.size());
  for (std::size_t k = 0; k < e.features.size(); ++k) {
    EXPECT_EQ(view->dictionary().name(r.features[k].tag), e.features[k]) << "feature " << k;
    EXPECT_NEAR(r.features[k].weight, e.weights[k], 1e-9) << e.features[k];
    EXPECT_NEAR(r.features[k].lift, e.lifts[k], 1e-9 * std::max(1.0, e.lifts[k])) << e.features[k];
    EXPECT_EQ(r.features[k].points, e.points[k]) << e.features[k];
  }
  const auto got = users_of(d, r.users);
  EXPECT_EQ(got.size(), e.users.size());
  EXPECT_TRUE(got == e.users) << "the chosen users differ from the naive top N";
  if (!e.users.empty()) {
    EXPECT_NEAR(r.threshold, static_cast<double>(e.threshold_points) / r.scale, 1e-9);
  }
}

// The data must exercise every scoring kernel: bitset, array and run
// containers, over more than one chunk.
TEST_F(LookalikeTest, DataHasEveryContainerKind) {
  const auto view = data_->index->view();
  int kinds[4] = {0, 0, 0, 0};
  for (TagId t = 0; t < view->tag_count(); ++t) {
    for (ChunkCursor c(view->tag(t).bits.get()); !c.done(); c.advance()) ++kinds[static_cast<int>(c.current().kind)];
  }
  EXPECT_GT(kinds[static_cast<int>(ChunkKind::kBitset)], 0);
  EXPECT_GT(kinds[static_cast<int>(ChunkKind::kArray)], 0);
  EXPECT_GT(kinds[static_cast<int>(ChunkKind::kRun)], 0);
  EXPECT_EQ(ChunkCursor(view->universe().bits.get()).chunks(), 3);
}

TEST_F(LookalikeTest, MatchesNaivePerUserScoring) {
  const auto view = data_->index->view();
  LookalikeTuning tuning;
  tuning.count_chunks = 0;  // exact screening (3 chunks are within the default anyway)
  int checked = 0;
  for (const uint64_t s : {1u, 2u, 3u}) {
    for (const int cls : {1, 2}) {
      const auto seed = sample_class(cls, 0.1, s * 10 + static_cast<uint64_t>(cls));
      const Bitmap seed_bits = bitmap_of(*data_, seed);
      for (const uint64_t size : {uint64_t{1}, uint64_t{777}, uint64_t{20'000}}) {
        LookalikeOptions options;
        options.size = size;
        options.tuning = tuning;
        const auto r = lookalike(*view, seed_bits.get(), options);
        expect_matches(*data_, r, naive(*data_, seed, nullptr, size, {}, tuning));
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 18);
}

TEST_F(LookalikeTest, MatchesNaiveWithCandidatesAndFields) {
  const auto view = data_->index->view();
  LookalikeTuning tuning;
  const auto seed = sample_class(1, 0.2, 99);
  // Candidates overlap the seed on purpose: the seed must be taken out.
  std::set<std::size_t> candidates;
  for (std::size_t i = 0; i < data_->tags.size(); i += 3) candidates.insert(i);
  const Bitmap seed_bits = bitmap_of(*data_, seed);
  const Bitmap cand_bits = bitmap_of(*data_, candidates);
  for (const auto& fields : {std::vector<std::string>{}, std::vector<std::string>{"b", "d"},
                             std::vector<std::string>{"c"}}) {
    LookalikeOptions options;
    options.size = 5'000;
    options.candidates = cand_bits.get();
    options.fields = fields;
    options.tuning = tuning;
    const auto r = lookalike(*view, seed_bits.get(), options);
    expect_matches(*data_, r, naive(*data_, seed, &candidates, 5'000, fields, tuning));
    for (const auto& f : r.features) {
      const std::string& name = view->dictionary().name(f.tag);
      if (!fields.empty()) {
        EXPECT_NE(std::find(fields.begin(), fields.end(), std::string(tag_field(name))), fields.end()) << name;
      }
    }
  }
}

TEST_F(LookalikeTest, NeverTheSeedAndExactlySize) {
  const auto view = data_->index->view();
  const auto seed = sample_class(2, 0.3, 5);
  const Bitmap seed_bits = bitmap_of(*data_, seed);
  const uint64_t candidates = view->universe().cardinality - seed.size();
  for (const uint64_t size : {uint64_t{1}, uint64_t{2}, uint64_t{65'537}, candidates - 1, candidates,
                              candidates + 1, uint64_t{1} << 40}) {
    LookalikeOptions options;
    options.size = size;
    const auto r = lookalike(*view, seed_bits.get(), options);
    EXPECT_EQ(r.users.cardinality(), std::min(size, candidates)) << size;
    EXPECT_FALSE(roaring_bitmap_intersect(r.users.get(), seed_bits.get())) << size;
    EXPECT_TRUE(roaring_bitmap_is_subset(r.users.get(), view->universe().bits.get())) << size;
    EXPECT_EQ(r.candidate_count, candidates);
    EXPECT_EQ(r.seed_size, seed.size());
  }
  // More asked than there are candidates: every candidate.
  LookalikeOptions all;
  all.size = candidates + 5;
  const auto r = lookalike(*view, seed_bits.get(), all);
  Bitmap expected(roaring_bitmap_andnot(view->universe().bits.get(), seed_bits.get()));
  EXPECT_TRUE(roaring_bitmap_equals(r.users.get(), expected.get()));
}

TEST_F(LookalikeTest, CandidatesRestrictionIsRespected) {
  const auto view = data_->index->view();
  const auto seed = sample_class(1, 0.1, 11);
  std::set<std::size_t> candidates;
  for (std::size_t i = 0; i < data_->tags.size(); i += 7) candidates.insert(i);
  for (const auto i : seed) candidates.insert(i);  // overlap
  const Bitmap seed_bits = bitmap_of(*data_, seed);
  const Bitmap cand_bits = bitmap_of(*data_, candidates);
  Bitmap allowed(roaring_bitmap_andnot(cand_bits.get(), seed_bits.get()));
  for (const uint64_t size : {uint64_t{10}, allowed.cardinality() - 1, allowed.cardinality() + 100}) {
    LookalikeOptions options;
    options.size = size;
    options.candidates = cand_bits.get();
    const auto r = lookalike(*view, seed_bits.get(), options);
    EXPECT_TRUE(roaring_bitmap_is_subset(r.users.get(), allowed.get())) << size;
    EXPECT_EQ(r.users.cardinality(), std::min(size, allowed.cardinality())) << size;
    EXPECT_EQ(r.candidate_count, allowed.cardinality());
  }
}

TEST_F(LookalikeTest, FieldsRestrictionAndSystemTags) {
  const auto view = data_->index->view();
  // The system tag holds exactly class 1: a perfect feature that must never be used.
  const auto seed = sample_class(1, 0.1, 12);
  const Bitmap seed_bits = bitmap_of(*data_, seed);
  LookalikeOptions options;
  options.size = 1000;
  const auto r = lookalike(*view, seed_bits.get(), options);
  ASSERT_FALSE(r.features.empty());
  for (const auto& f : r.features) EXPECT_FALSE(view->dictionary().is_system(f.tag));
  options.fields = {"d"};
  const auto only_d = lookalike(*view, seed_bits.get(), options);
  ASSERT_FALSE(only_d.features.empty());
  for (const auto& f : only_d.features) EXPECT_EQ(tag_field(view->dictionary().name(f.tag)), "d");
  EXPECT_EQ(only_d.users.cardinality(), 1000u);

  const std::vector<std::string> good = {"a", "d"}, bad = {"a", "zzz", "yyy"};
  EXPECT_EQ(unknown_lookalike_field(*view, good), std::nullopt);
  EXPECT_EQ(unknown_lookalike_field(*view, bad), std::optional<std::string>("zzz"));
  // A system tag's own name, as the index stores it, is no field.
  std::vector<std::string> system;
  for (TagId id = 0; id < view->dictionary().size() && system.empty(); ++id) {
    if (view->dictionary().is_system(id)) system.push_back(view->dictionary().name(id));
  }
  ASSERT_EQ(system.size(), 1u);
  EXPECT_NE(unknown_lookalike_field(*view, system), std::nullopt);
}

TEST_F(LookalikeTest, TiesGoToTheLowestOrdinalsAndRunsRepeat) {
  // Every user identical: every score ties, so the result is the lowest
  // ordinals outside the seed.
  Index index;
  {
    BulkLoader loader(index);
    const uint32_t x = loader.tag("x:1");
    for (uint64_t i = 0; i < 70'000; ++i) ASSERT_TRUE(loader.add(5 + i, std::vector<uint32_t>{x}));
    loader.finish();
  }
  const auto view = index.view();
  Bitmap seed;
  for (uint32_t o = 0; o < 70'000; o += 10) seed.add(o);
  LookalikeOptions options;
  options.size = 1234;
  const auto r1 = lookalike(*view, seed.get(), options);
  const auto r2 = lookalike(*view, seed.get(), options);
  EXPECT_TRUE(roaring_bitmap_equals(r1.users.get(), r2.users.get()));
  Bitmap expected;
  uint64_t n = 0;
  for (uint32_t o = 0; n < 1234; ++o) {
    if (o % 10 == 0) continue;
    expected.add(o);
    ++n;
  }
  EXPECT_TRUE(roaring_bitmap_equals(r1.users.get(), expected.get()));

  // On varied data too: the same call twice gives the same users.
  const auto big = data_->index->view();
  const auto s = sample_class(2, 0.05, 3);
  const Bitmap sb = bitmap_of(*data_, s);
  options.size = 30'000;
  const auto a = lookalike(*big, sb.get(), options);
  const auto b = lookalike(*big, sb.get(), options);
  EXPECT_TRUE(roaring_bitmap_equals(a.users.get(), b.users.get()));
  EXPECT_EQ(a.threshold, b.threshold);
}

TEST_F(LookalikeTest, SampledScreeningKeepsTheContractAndExactShares) {
  // Screening on every other chunk (count_chunks 1 of 3): features may be
  // chosen differently, but the result is still exact in size, never the
  // seed, and the reported shares are exact.
  const auto view = data_->index->view();
  const auto seed = sample_class(1, 0.5, 21);
  const Bitmap seed_bits = bitmap_of(*data_, seed);
  LookalikeOptions options;
  options.size = 12'345;
  options.tuning.count_chunks = 1;
  options.tuning.count_sample = 0;
  const auto r = lookalike(*view, seed_bits.get(), options);
  EXPECT_GT(r.count_stride, 1u);
  EXPECT_EQ(r.users.cardinality(), 12'345u);
  EXPECT_FALSE(roaring_bitmap_intersect(r.users.get(), seed_bits.get()));
  ASSERT_FALSE(r.features.empty());
  const double C = static_cast<double>(view->universe().cardinality - seed.size());
  for (const auto& f : r.features) {
    const std::string& name = view->dictionary().name(f.tag);
    const auto t = static_cast<int>(std::find(data_->names.begin(), data_->names.end(), name) - data_->names.begin());
    double a = 0, b = 0;
    for (std::size_t i = 0; i < data_->tags.size(); ++i) {
      if (!data_->tags[i].contains(t)) continue;
      (seed.contains(i) ? a : b) += 1;
    }
    EXPECT_NEAR(f.seed_share, a / static_cast<double>(seed.size()), 1e-12) << name;
    EXPECT_NEAR(f.candidate_share, b / C, 1e-12) << name;
  }
}

TEST_F(LookalikeTest, EmptySeedOrZeroSizeGivesNothing) {
  const auto view = data_->index->view();
  Bitmap empty;
  LookalikeOptions options;
  options.size = 10;
  const auto r = lookalike(*view, empty.get(), options);
  EXPECT_TRUE(r.users.empty());
  EXPECT_TRUE(r.features.empty());
  const auto seed = sample_class(1, 0.1, 1);
  const Bitmap sb = bitmap_of(*data_, seed);
  options.size = 0;
  EXPECT_TRUE(lookalike(*view, sb.get(), options).users.empty());
}

}  // namespace
}  // namespace crowd::query
