// Lookalike expansion (人群放大): the N users outside a seed crowd that look
// most like it, with the tags that made them look alike.
//
// Method: Bernoulli naive Bayes over tag presence, seed against candidates.
// For each user-visible tag t (optionally only tags of some fields):
//   p_t = seed share, smoothed toward q_t:  (a_t + m·q_t) / (S + m)
//   q_t = candidate share, smoothed:        (b_t + 0.5) / (C + 1)
//   w_t = logit(p_t) − logit(q_t), clipped to ±max_weight
// where a_t, b_t are the tag's members in the seed and among the candidates,
// S and C their sizes, m the prior strength. Under naive Bayes a user's log
// likelihood ratio (seed vs candidates) is Σ w_t over the tags the user has
// plus a constant (the "lacks t" terms fold into it), so only members of a
// tag are ever touched. Tags are ranked by information value
// IV_t = (p_t − q_t)·w_t (the symmetric KL divergence of the tag between the
// two groups: large for tags that are both over- or under-represented and
// common enough to matter) and the top max_features are kept.
//
// Why naive Bayes and not a logistic regression: its weights come from two
// counts per tag (one and_cardinality each; the candidate side is free as
// |t| − a_t when the candidates are the default), so learning costs no pass
// over users, and scoring is a sum over the kept tags' bitmaps. Its known
// weakness, double counting of correlated tags (cat:X:pv and cat:X:buy), is
// bounded by the weight clip; bench/lookalike_quality_main.cc measures the
// result against the synthetic population's hidden personas.
//
// Tags that define the seed (seed = member:brand_x AND cat:1:buy: both tags
// have p = 1) are kept as features with their full weight (about
// log(S/m) − logit(q), 5-8 nats): a candidate holding one of them does share
// part of what the seed is, and when the seed is a sample of a wider segment
// (the usual case: buyers so far, to find the next ones) the defining tags
// are the strongest signal there is. Measured on the synthetic population
// (bench/lookalike_quality_main.cc, seed = 10% of "persona AND tag", 1M
// users): capping weights at 3 nats to damp the defining tag lowered mean
// precision on those segments from 0.68 to 0.62 and did not help on whole
// personas (0.97 either way); the default cap of 8 nats only bounds
// degenerate tags. A marketer who wants the definition out of the ranking
// restricts `candidates` (NOT member:brand_x) or `fields`.
//
// Scoring: weights are quantised to int16 points (the sum of all |points|
// stays under 30,000, so no score overflows), and scores are accumulated one
// 2^16-ordinal chunk at a time into a 128 KiB slice (L2-resident) of an int16
// array over the universe: bitset containers by AVX2 (16 users per
// instruction group, whatever their density), arrays by scatter, runs by
// range. A histogram of candidates' scores gives the threshold (a counting
// sort, no sort of users), and one pass builds the result's containers
// directly from compare masks.
//
// Cost (10M users, bench/lookalike_quality_main.cc --speed): see
// LookalikeTimings; memory: 2 bytes per ordinal of the universe's chunks for
// the scores (20 MB at 10M users), freed on return.
#pragma once

#include <roaring/roaring.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "index/bitmap.h"
#include "index/ids.h"
#include "index/index_view.h"

namespace crowd::query {

// The model's knobs; the defaults are what the API uses (chosen with
// bench/lookalike_quality_main.cc).
struct LookalikeTuning {
  // m: how many pseudo-users of candidate behaviour the seed share is shrunk
  // with, so a tag seen on 2 seed users of 1,000 does not get a large weight.
  double prior_strength = 20;
  // |w| cap in nats (e^8 ≈ 3,000x the odds): bounds degenerate tags (held
  // by the whole seed and almost no candidate) without damping real ones.
  double max_weight = 8.0;
  // At most this many tags score users: each costs one pass over its bitmap.
  std::size_t max_features = 200;
  // Tags with less information value than this are not worth their pass.
  double min_information = 1e-4;
  // Screening (choosing the features) counts every tag on at most this many
  // 2^16-user chunks, spread evenly (0: all); the kept features are then
  // counted exactly. A larger seed thins the screened chunks further, down
  // to count_sample seed (and candidate) users.
  std::size_t count_chunks = 16;
  uint64_t count_sample = 20'000;
};

struct LookalikeOptions {
  uint64_t size = 0;                             // N
  const roaring_bitmap_t* candidates = nullptr;  // null: the universe minus the seed
  std::vector<std::string> fields;               // empty: every user-visible tag's field
  LookalikeTuning tuning;
};

struct LookalikeFeature {
  TagId tag;
  double weight;  // w_t in nats, after the clip
  double lift;    // seed share / candidate share (the latter smoothed, so never infinite)
  // weight and information come from the screening counts (a sample of
  // chunks past tuning.count_chunks); lift and the shares are always exact.
  // Added for explanation and tests:
  double seed_share = 0;       // a_t / S
  double candidate_share = 0;  // b_t / C
  double information = 0;      // IV_t, the ranking key
  int32_t points = 0;          // the quantised weight that scoring adds
};

// Where the time went, microseconds.
struct LookalikeTimings {
  uint64_t weights_us = 0;    // counts per tag, weights, selection, quantisation
  uint64_t screen_us = 0;     // of which: the sample's masks and every tag's counts
  uint64_t scoring_us = 0;    // score accumulation, candidate mask, histogram
  uint64_t threshold_us = 0;  // the walk down the histogram
  uint64_t result_us = 0;     // building the result bitmap
};

struct LookalikeResult {
  Bitmap users;           // ordinals, never in the seed, exactly min(size, candidates) users
  double threshold = 0;   // lowest score taken (points / scale, in nats above the constant)
  std::vector<LookalikeFeature> features;  // most informative first
  // Added:
  uint64_t seed_size = 0;        // S
  uint64_t candidate_count = 0;  // C: candidates outside the seed
  double scale = 0;              // points per nat: score = points / scale
  std::size_t count_stride = 1;  // screening counted every count_stride-th chunk (1: exact)
  LookalikeTimings timings;
};

// The N candidates with the highest score; among equal scores the lowest
// ordinals. Preconditions: `seed` and `candidates` hold ordinals of `view`
// (anything outside the universe is ignored). An empty seed, or size 0,
// gives an empty result. Fields that no tag has simply select nothing (use
// unknown_lookalike_field to reject them first).
// Cost: two counts per eligible tag (one when candidates is null), then one
// pass over the kept tags' containers, the candidates' and seed's containers,
// and 2 bytes per ordinal; see the header comment.
// Throws nothing but std::bad_alloc.
[[nodiscard]] LookalikeResult lookalike(const IndexView& view, const roaring_bitmap_t* seed,
                                        const LookalikeOptions& options);

// The first name in `fields` that is not the field of any user-visible tag
// of `view`, or nothing when all are known. O(tags + fields).
[[nodiscard]] std::optional<std::string> unknown_lookalike_field(const IndexView& view,
                                                                 std::span<const std::string> fields);

}  // namespace crowd::query
