// Lookalike expansion: see lookalike.h for the model. This file is the
// engine: counts and weights per tag, then a chunk-at-a-time scoring pass over
// CRoaring's containers, a histogram threshold, and the result built
// container by container.
#include "query/lookalike.h"


#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <string_view>
#include <unordered_set>

#include "index/chunk_cursor.h"
#include "index/tag_dictionary.h"
#include "query/deadline.h"

namespace crowd::query {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kChunk = 1u << 16;
constexpr std::size_t kWords = kChunk / 64;
// Sum of |points| over all features: the score range is within ±kPointBudget
// (plus rounding, ≤ 0.5 a feature), so int16 never overflows and
// kNotCandidate sorts below every real score.
constexpr double kPointBudget = 30000;
constexpr int16_t kNotCandidate = INT16_MIN;

uint64_t micros(Clock::time_point from, Clock::time_point to) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(to - from).count());
}

double logit(double p) { return std::log(p) - std::log1p(-p); }

// ---- Containers --------------------------------------------------------------------------------

// Every chunk of `bits`, in key order: the universe's chunks are visited by
// index (every stride-th one), which a cursor does not do.
std::vector<Chunk> chunks_of(const roaring_bitmap_t* bits) {
  std::vector<Chunk> out;
  for (ChunkCursor c(bits); !c.done(); c.advance()) out.push_back(c.current());
  return out;
}

// A chunk as 1024 words: a bitset's own words (borrowed), or `scratch`
// filled from an array or run chunk (or zeroed when absent).
const uint64_t* words_of(const Chunk& c, uint64_t* scratch) {
  if (c.kind == ChunkKind::kBitset) return c.words();
  std::memset(scratch, 0, kWords * sizeof(uint64_t));
  if (c.kind == ChunkKind::kArray) {
    const uint16_t* v = c.values();
    for (int32_t i = 0; i < c.size; ++i) scratch[v[i] >> 6] |= uint64_t{1} << (v[i] & 63);
  } else if (c.kind == ChunkKind::kRun) {
    for (int32_t i = 0; i < c.size; ++i) set_run(scratch, c.runs()[i]);
  }
  return scratch;
}

// ---- Scoring kernels (one chunk: s has 2^16 entries) -------------------------------------------

#if defined(__AVX2__)
// Lane k of 16 holds bit k: ANDed with 16 bits broadcast to every lane, it
// tells each lane whether its user's bit is set.
inline __m256i lane_bits() {
  return _mm256_setr_epi16(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, static_cast<int16_t>(16384),
                           static_cast<int16_t>(-32768));
}
#endif

// s[i] += w for every set bit i of `words`. Density does not matter: 16
// users per AVX2 step (broadcast 16 bits, test each lane's bit, add w where
// set), so a 50% tag and a 7% tag cost the same ~4,096 steps a chunk; a zero
// word (4 steps) is skipped.
void add_bitset(int16_t* s, const uint64_t* words, int16_t w) {
#if defined(__AVX2__)
  const __m256i bit = lane_bits();
  const __m256i wv = _mm256_set1_epi16(w);
  for (std::size_t i = 0; i < kWords; ++i) {
    const uint64_t word = words[i];
    if (word == 0) continue;
    int16_t* out = s + i * 64;
    for (int g = 0; g < 4; ++g) {
      const __m256i b = _mm256_set1_epi16(static_cast<int16_t>(word >> (16 * g)));
      const __m256i set = _mm256_cmpeq_epi16(_mm256_and_si256(b, bit), bit);
      __m256i* p = reinterpret_cast<__m256i*>(out + 16 * g);
      _mm256_storeu_si256(p, _mm256_add_epi16(_mm256_loadu_si256(p), _mm256_and_si256(set, wv)));
    }
  }
#else
  for (std::size_t i = 0; i < kWords; ++i) {
    for (uint64_t word = words[i]; word != 0; word &= word - 1) {
      s[i * 64 + static_cast<std::size_t>(std::countr_zero(word))] += w;
    }
  }
#endif
}

// ~1 ns a member (a scatter into the L2-resident slice).
void add_array(int16_t* s, const Chunk& c, int16_t w) {
  const uint16_t* v = c.values();
  for (int32_t i = 0; i < c.size; ++i) s[v[i]] += w;
}

void add_runs(int16_t* s, const Chunk& c, int16_t w) {
  for (int32_t i = 0; i < c.size; ++i) {
    int16_t* p = s + c.runs()[i].value;
    const std::size_t n = std::size_t{c.runs()[i].length} + 1;
    for (std::size_t k = 0; k < n; ++k) p[k] += w;  // vectorised by the compiler
  }
}

void add_chunk(int16_t* s, const Chunk& c, int16_t w) {
  switch (c.kind) {
    case ChunkKind::kBitset:
      add_bitset(s, c.words(), w);
      break;
    case ChunkKind::kArray:
      add_array(s, c, w);
      break;
    case ChunkKind::kRun:
      add_runs(s, c, w);
      break;
    case ChunkKind::kNone:
      break;
  }
}

// Entries whose bit in `mask` is clear become kNotCandidate.
void mask_scores(int16_t* s, const uint64_t* mask) {
#if defined(__AVX2__)
  const __m256i bit = lane_bits();
  const __m256i none = _mm256_set1_epi16(kNotCandidate);
  for (std::size_t i = 0; i < kWords; ++i) {
    const uint64_t word = mask[i];
    if (word == ~uint64_t{0}) continue;
    int16_t* out = s + i * 64;
    for (int g = 0; g < 4; ++g) {
      const __m256i b = _mm256_set1_epi16(static_cast<int16_t>(word >> (16 * g)));
      const __m256i keep = _mm256_cmpeq_epi16(_mm256_and_si256(b, bit), bit);
      __m256i* p = reinterpret_cast<__m256i*>(out + 16 * g);
      _mm256_storeu_si256(p, _mm256_blendv_epi8(none, _mm256_loadu_si256(p), keep));
    }
  }
#else
  for (std::size_t i = 0; i < kChunk; ++i) {
    if (((mask[i >> 6] >> (i & 63)) & 1) == 0) s[i] = kNotCandidate;
  }
#endif
}

// The bits of 64 scores s[0..63] that are > t (gt) and == t (eq).
void compare64(const int16_t* s, int16_t t, uint64_t& gt, uint64_t& eq) {
#if defined(__AVX2__) && defined(__BMI2__)
  const __m256i tv = _mm256_set1_epi16(t);
  gt = 0;
  eq = 0;
  for (int g = 0; g < 4; ++g) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + 16 * g));
    // movemask gives 2 bits a 16-bit lane; pext keeps one of each pair.
    const auto m_gt = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpgt_epi16(v, tv)));
    const auto m_eq = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi16(v, tv)));
    gt |= uint64_t{_pext_u32(m_gt, 0x55555555u)} << (16 * g);
    eq |= uint64_t{_pext_u32(m_eq, 0x55555555u)} << (16 * g);
  }
#else
  gt = 0;
  eq = 0;
  for (int k = 0; k < 64; ++k) {
    gt |= uint64_t{s[k] > t} << k;
    eq |= uint64_t{s[k] == t} << k;
  }
#endif
}

// ---- Weights -----------------------------------------------------------------------------------

// Members of `c` whose bit is set in `words`. Arrays probe each member (the
// words are one chunk, 8 KiB, cache-resident: ~0.3 ns a member, against ~1 us
// for CRoaring's array-array merge per container pair at these sizes);
// bitsets AND and popcount 1,024 words.
uint64_t count_in(const Chunk& c, const uint64_t* words, uint64_t* scratch) {
  if (c.kind == ChunkKind::kArray) {
    const uint16_t* v = c.values();
    uint64_t n = 0;
    for (int32_t i = 0; i < c.size; ++i) n += (words[v[i] >> 6] >> (v[i] & 63)) & 1;
    return n;
  }
  const uint64_t* tw = words_of(c, scratch);  // bitset borrowed; a run expanded (rare)
  uint64_t n = 0;
  for (std::size_t i = 0; i < kWords; ++i) n += static_cast<uint64_t>(std::popcount(tw[i] & words[i]));
  return n;
}

// The seed and the candidates over some of the universe's chunks, as words,
// so that a tag's counts are probes (see count_in).
struct ChunkMasks {
  std::vector<uint16_t> keys;   // ascending
  std::vector<uint64_t> seed;   // kWords per key: seed AND universe
  std::vector<uint64_t> cand;   // kWords per key: candidates; empty for the default (universe − seed)
  uint64_t seed_members = 0;
  uint64_t cand_members = 0;
};

// Masks for every `stride`-th chunk of the universe (stride 1: all of them).
ChunkMasks make_masks(const std::vector<Chunk>& universe, const roaring_bitmap_t* seed,
                      const roaring_bitmap_t* candidates, std::size_t stride) {
  ChunkMasks m;
  const std::size_t chunks = universe.size();
  const std::size_t n = (chunks + stride - 1) / stride;
  m.keys.reserve(n);
  m.seed.resize(n * kWords);
  if (candidates != nullptr) m.cand.resize(n * kWords);
  std::vector<uint64_t> scratch(3 * kWords);
  ChunkCursor seed_cursor(seed);
  ChunkCursor cand_cursor = candidates != nullptr ? ChunkCursor(candidates) : ChunkCursor();
  DeadlineTicker<16> deadline;
  for (std::size_t ci = 0, k = 0; ci < chunks; ci += stride, ++k) {
    deadline.tick();
    const uint16_t key = universe[ci].key;
    m.keys.push_back(key);
    const uint64_t* uw = words_of(universe[ci], scratch.data());
    const uint64_t* sw = words_of(seed_cursor.seek(key), scratch.data() + kWords);
    uint64_t* so = m.seed.data() + k * kWords;
    for (std::size_t i = 0; i < kWords; ++i) {
      so[i] = sw[i] & uw[i];
      m.seed_members += static_cast<uint64_t>(std::popcount(so[i]));
    }
    if (candidates != nullptr) {
      const uint64_t* cw = words_of(cand_cursor.seek(key), scratch.data() + 2 * kWords);
      uint64_t* co = m.cand.data() + k * kWords;
      for (std::size_t i = 0; i < kWords; ++i) {
        co[i] = cw[i] & uw[i] & ~so[i];
        m.cand_members += static_cast<uint64_t>(std::popcount(co[i]));
      }
    } else {
      for (std::size_t i = 0; i < kWords; ++i) m.cand_members += static_cast<uint64_t>(std::popcount(uw[i] & ~so[i]));
    }
  }
  return m;
}

// Every tag's members in the seed (a[i]) and among the candidates (b[i]),
// over the masks' chunks. With default candidates b = |t ∩ chunk| − a (every
// tag is a subset of the universe).
//
// Chunk-outer, in three passes over the tags per chunk so that the cache
// misses of ~10k tags overlap instead of queueing: find every tag's
// container and prefetch its header, then read the headers and prefetch the
// data, then count. Tag-outer order with one tag's chain of dependent loads
// (bitmap, key array, container header, data) at a time measured ~3x slower
// at 10M users: latency, not bandwidth, bound.
void screen_counts(std::span<const roaring_bitmap_t* const> tags, const ChunkMasks& m, std::vector<uint64_t>& a,
                   std::vector<uint64_t>& b) {
  const std::size_t n = tags.size();
  a.assign(n, 0);
  b.assign(n, 0);
  std::vector<ChunkCursor> cursors(n);
  for (std::size_t i = 0; i < n; ++i) cursors[i] = ChunkCursor(tags[i]);
  std::vector<Chunk> at(n);
  std::vector<uint8_t> here(n);
  std::vector<uint64_t> scratch(kWords);
  for (std::size_t k = 0; k < m.keys.size(); ++k) {
    Deadline::check();  // a chunk against every tag: tens of microseconds
    const uint16_t key = m.keys[k];
    for (std::size_t i = 0; i < n; ++i) here[i] = cursors[i].prefetch(key) ? 1 : 0;
    for (std::size_t i = 0; i < n; ++i) {
      at[i] = here[i] != 0 ? cursors[i].seek(key) : Chunk{};
      if (at[i].kind == ChunkKind::kArray || at[i].kind == ChunkKind::kBitset) __builtin_prefetch(at[i].data);
    }
    const uint64_t* seed_words = m.seed.data() + k * kWords;
    const uint64_t* cand_words = m.cand.empty() ? nullptr : m.cand.data() + k * kWords;
    for (std::size_t i = 0; i < n; ++i) {
      if (!at[i].present()) continue;
      const uint64_t in_seed = count_in(at[i], seed_words, scratch.data());
      a[i] += in_seed;
      b[i] += cand_words == nullptr ? at[i].cardinality() - in_seed : count_in(at[i], cand_words, scratch.data());
    }
  }
}



struct Candidate {
  TagId tag;
  double weight;
  double lift;
  double seed_share;
  double candidate_share;
  double information;
};

}  // namespace

std::optional<std::string> unknown_lookalike_field(const IndexView& view, std::span<const std::string> fields) {
  if (fields.empty()) return std::nullopt;
  std::unordered_set<std::string_view> known;
  const TagDictionary& dict = view.dictionary();
  for (const TagId t : view.user_tags()) {
    known.insert(tag_field(dict.name(t)));
  }
  for (const auto& f : fields) {
    if (!known.contains(f)) return f;
  }
  return std::nullopt;
}

LookalikeResult lookalike(const IndexView& view, const roaring_bitmap_t* seed, const LookalikeOptions& options) {
  LookalikeResult out;
  const auto t0 = Clock::now();
  const roaring_bitmap_t* universe = view.universe().bits.get();
  const LookalikeTuning& tuning = options.tuning;

  // Candidates outside the seed. The default needs no bitmap: counts come
  // from |t| − a_t and the scoring mask from universe AND NOT seed per chunk.
  Bitmap own_candidates(nullptr);
  const roaring_bitmap_t* candidates = nullptr;  // null: universe − seed
  if (options.candidates != nullptr) {
    own_candidates = Bitmap(roaring_bitmap_andnot(options.candidates, seed));
    candidates = own_candidates.get();
  }
  const uint64_t seed_size = roaring_bitmap_and_cardinality(seed, universe);
  const uint64_t candidate_count = candidates == nullptr
                                       ? view.universe().cardinality - seed_size
                                       : roaring_bitmap_and_cardinality(candidates, universe);
  out.seed_size = seed_size;
  out.candidate_count = candidate_count;
  if (seed_size == 0 || options.size == 0 || candidate_count == 0) {
    out.timings.weights_us = micros(t0, Clock::now());
    return out;
  }

  // -- Weights. Tags are screened on every stride-th chunk (all of them up
  // to tuning.count_chunks chunks, i.e. 2M users by default): exact counts
  // of all ~10k tags would cost a probe per assignment, ~400M at 10M users.
  // The kept features are then counted exactly, so their weights, lifts and
  // shares are exact and only the choice among marginal tags saw a sample.
  const std::vector<Chunk> ura = chunks_of(universe);
  const std::size_t chunks = ura.size();
  std::size_t stride = 1;
  if (tuning.count_chunks > 0 && chunks > tuning.count_chunks) {
    stride = (chunks + tuning.count_chunks - 1) / tuning.count_chunks;
    if (tuning.count_sample > 0) {
      stride = std::max<std::size_t>(stride, std::min(seed_size, candidate_count) / tuning.count_sample);
    }
    stride = std::min(stride, chunks);
  }
  out.count_stride = stride;
  const auto t_screen = Clock::now();
  const ChunkMasks sample = make_masks(ura, seed, candidates, stride);

  std::unordered_set<std::string_view> fields(options.fields.begin(), options.fields.end());
  const double m = tuning.prior_strength;
  auto fill = [&](Candidate& c, uint64_t a, uint64_t b, double S, double C) {
    const double q = (static_cast<double>(b) + 0.5) / (C + 1);
    const double p = (static_cast<double>(a) + m * q) / (S + m);
    c.weight = std::clamp(logit(p) - logit(q), -tuning.max_weight, tuning.max_weight);
    c.information = (p - q) * c.weight;
    c.seed_share = static_cast<double>(a) / S;
    c.candidate_share = static_cast<double>(b) / C;
    c.lift = c.seed_share / q;
  };
  std::vector<Candidate> pool;
  {
    std::vector<TagId> eligible;
    std::vector<const roaring_bitmap_t*> bitmaps;
    const TagDictionary& dict = view.dictionary();
    for (const TagId t : view.user_tags()) {
      const std::string& name = dict.name(t);
      if (!fields.empty() && !fields.contains(tag_field(name))) continue;
      if (view.tag(t).cardinality == 0) continue;
      eligible.push_back(t);
      bitmaps.push_back(view.tag(t).bits.get());
    }
    std::vector<uint64_t> a, b;
    screen_counts(bitmaps, sample, a, b);
    const double S = static_cast<double>(sample.seed_members);
    const double C = static_cast<double>(sample.cand_members);
    for (std::size_t i = 0; i < eligible.size(); ++i) {
      if (a[i] == 0 && b[i] == 0) continue;
      Candidate c{eligible[i], 0, 0, 0, 0, 0};
      fill(c, a[i], b[i], S, C);
      if (!(c.information >= tuning.min_information)) continue;
      pool.push_back(c);
    }
  }
  // Most informative first; equal information keeps byte order of names.
  auto by_information = [](const Candidate& x, const Candidate& y) { return x.information > y.information; };
  std::stable_sort(pool.begin(), pool.end(), by_information);
  if (pool.size() > tuning.max_features) pool.resize(tuning.max_features);
  double total = 0;
  for (const auto& c : pool) total += std::abs(c.weight);
  const double scale = total > 0 ? kPointBudget / total : 1.0;
  out.scale = scale;
  int32_t min_score = 0;  // the lowest score any user can have: every negative point
  for (const auto& c : pool) {
    const auto points = static_cast<int32_t>(std::lround(c.weight * scale));
    if (points == 0) continue;
    out.features.push_back({c.tag, c.weight, c.lift, c.seed_share, c.candidate_share, c.information, points});
    if (points < 0) min_score += points;
  }
  const auto t1 = Clock::now();
  out.timings.weights_us = micros(t0, t1);
  out.timings.screen_us = micros(t_screen, t1);

  // -- Scoring, chunk by chunk over the universe's keys.
  std::unique_ptr<int16_t[]> scores(new int16_t[chunks * kChunk]);
  // Histogram of candidates' scores: bucket score − min_score + 1; bucket 0
  // collects kNotCandidate (clamped), ignored.
  const int32_t max_bucket = static_cast<int32_t>(kPointBudget) + static_cast<int32_t>(out.features.size()) + 2;
  std::vector<uint32_t> hist(static_cast<std::size_t>(max_bucket) + 1, 0);
  std::vector<ChunkCursor> cursors;
  cursors.reserve(out.features.size());
  for (const auto& f : out.features) cursors.emplace_back(view.tag(f.tag).bits.get());
  ChunkCursor seed_cursor(seed);
  ChunkCursor cand_cursor = candidates != nullptr ? ChunkCursor(candidates) : ChunkCursor();
  // Screened on a sample, the features' shares are counted exactly here,
  // where their containers are being read anyway.
  const bool recount = stride > 1;
  std::vector<uint64_t> exact_a(recount ? out.features.size() : 0, 0), exact_b(exact_a.size(), 0);
  auto buffers = std::make_unique<uint64_t[]>(kWords * 6);
  uint64_t* mask = buffers.get();         // candidates of the chunk
  uint64_t* seed_words = mask + kWords;   // seed AND universe
  uint64_t* scratch_u = mask + 2 * kWords;
  uint64_t* scratch_s = mask + 3 * kWords;
  uint64_t* scratch_c = mask + 4 * kWords;
  uint64_t* scratch_r = mask + 5 * kWords;

  DeadlineTicker<4> scoring_deadline;
  for (std::size_t ci = 0; ci < chunks; ++ci) {
    scoring_deadline.tick();
    const uint16_t key = ura[ci].key;
    const uint64_t* uw = words_of(ura[ci], scratch_u);
    const uint64_t* sw = words_of(seed_cursor.seek(key), scratch_s);
    for (std::size_t i = 0; i < kWords; ++i) seed_words[i] = sw[i] & uw[i];
    // Candidates: (universe or the given ones, within the universe) AND NOT seed.
    const uint64_t* base = candidates == nullptr ? uw : words_of(cand_cursor.seek(key), scratch_c);
    for (std::size_t i = 0; i < kWords; ++i) mask[i] = base[i] & uw[i] & ~seed_words[i];

    int16_t* s = scores.get() + ci * kChunk;
    std::memset(s, 0, kChunk * sizeof(int16_t));
    for (std::size_t f = 0; f < cursors.size(); ++f) {
      const Chunk c = cursors[f].seek(key);
      if (!c.present()) continue;
      add_chunk(s, c, static_cast<int16_t>(out.features[f].points));
      if (recount) {
        const uint64_t in_seed = count_in(c, seed_words, scratch_r);
        exact_a[f] += in_seed;
        exact_b[f] += candidates == nullptr ? c.cardinality() - in_seed : count_in(c, mask, scratch_r);
      }
    }
    mask_scores(s, mask);
    uint32_t* h = hist.data();
    for (std::size_t i = 0; i < kChunk; ++i) ++h[std::max<int32_t>(int32_t{s[i]} - min_score + 1, 0)];
  }
  if (recount) {
    const double S = static_cast<double>(seed_size);
    const double C = static_cast<double>(candidate_count);
    for (std::size_t f = 0; f < out.features.size(); ++f) {
      auto& x = out.features[f];
      x.seed_share = static_cast<double>(exact_a[f]) / S;
      x.candidate_share = static_cast<double>(exact_b[f]) / C;
      x.lift = x.seed_share / ((static_cast<double>(exact_b[f]) + 0.5) / (C + 1));
    }
  }
  const auto t2 = Clock::now();
  out.timings.scoring_us = micros(t1, t2);

  // -- Threshold: walk down from the top bucket until size users are covered.
  const uint64_t want = std::min<uint64_t>(options.size, candidate_count);
  uint64_t above = 0;  // candidates with a score above the threshold bucket
  int32_t bucket = max_bucket;
  for (; bucket > 0; --bucket) {
    if (above + hist[static_cast<std::size_t>(bucket)] >= want) break;
    above += hist[static_cast<std::size_t>(bucket)];
  }
  const auto threshold = static_cast<int16_t>(bucket - 1 + min_score);
  out.threshold = threshold / scale;
  uint64_t ties = want - above;  // users at the threshold to take, lowest ordinals first
  const auto t3 = Clock::now();
  out.timings.threshold_us = micros(t2, t3);

  // -- Result: one container per chunk, straight from compare masks.
  uint64_t* sel = mask;  // reused: the chunk's selected bits
  for (std::size_t ci = 0; ci < chunks; ++ci) {
    const int16_t* s = scores.get() + ci * kChunk;
    int32_t card = 0;
    for (std::size_t i = 0; i < kWords; ++i) {
      uint64_t gt = 0, eq = 0;
      compare64(s + i * 64, threshold, gt, eq);
      if (ties > 0 && eq != 0) {
        const auto n = static_cast<uint64_t>(std::popcount(eq));
        if (n <= ties) {
          ties -= n;
        } else {  // keep the lowest `ties` bits
          uint64_t keep = 0;
          for (; ties > 0; --ties) {
            const uint64_t low = eq & (~eq + 1);
            keep |= low;
            eq ^= low;
          }
          eq = keep;
        }
      } else {
        eq = 0;
      }
      sel[i] = gt | eq;
      card += std::popcount(sel[i]);
    }
    append_chunk(out.users.get(), ura[ci].key, sel, static_cast<uint64_t>(card));
  }
  out.timings.result_us = micros(t3, Clock::now());
  return out;
}

}  // namespace crowd::query
