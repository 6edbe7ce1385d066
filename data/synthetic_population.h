// Population: the synthetic DMP audience behind `crowdd --demo` and
// `crowd-gen`.
//
// Each user has demographics (gender, age band, city and its tier,
// purchasing power, shopping depth, student), platform traits, 兴趣
// interests, Taobao-style category behaviour tags (cat:<id>:pv|fav|cart|buy),
// shop follows, brand memberships and per-brand AIPL funnel states. Users
// belong to hidden personas that shift all of these at once, so lookalike
// expansion has a real signal to find; persona() is the ground truth.
//
// The model, in the order user() draws it:
//  - persona, then gender, age, city (tier follows from the city), power,
//    depth, student (by persona and age), platform
//    traits and 兴趣 (by persona);
//  - category touches: a number of draws set by depth, from the persona's
//    category distribution, a mix of global Zipf popularity (40%) and the
//    persona's own favoured categories in its favoured verticals (60%). Each
//    distinct category touched gets a pv tag, and fav / cart / buy tags with
//    probabilities 2.9/89.7, 5.5/89.7 and 2.0/89.7: so every cat tag stands
//    for at least one event of the Taobao log and the emitted tags follow the
//    log's event mix (pv 89.7%, cart 5.5%, fav 2.9%, buy 2.0%); a buy, cart
//    or fav always comes with the pv of its category;
//  - shop follows: from categories touched, more likely after a buy;
//  - per brand, from the deepest behaviour in the brand's vertical: P (bought
//    it; a share of them L, loyal), I (carted or faved the vertical), A
//    (browsed it, or saw an ad); members are mostly L and P users. The
//    persona's favourite brand converts three times as often.
//
// Besides its tags, a user has facts() (see UserFacts), from a second random
// stream of (seed, i), so adding them changed nothing user() returns:
//  - numeric values, for buyers only (a cat:*:buy tag): orders in the last
//    365 days (at least one per bought category, more for deeper shoppers),
//    the newest order's recency (the newest of that many days uniform over the
//    year), orders in the last 90 days (none when the newest is older),
//    spend_90d = those orders x an order value that is lognormal around a
//    median set by power:*, and clv = a year's orders x order value x a
//    retention factor falling with recency x loyalty (memberships, L states);
//  - dated AIPL snapshots aipl_daily:<brand>:<S> on world::kSnapshotDays: on
//    the later day exactly the user's aipl:<brand>:<S> state; on the earlier
//    day the state a month before, drawn given the current one (some users
//    were not in the funnel yet, most were in the same or an earlier stage, a
//    few in a later one: forward moves outnumber regressions ~3 to 1), and
//    for brands with no state now, a small share who were A or I then and
//    left (more of them among users who browse the brand's vertical);
//  - dated behaviour, from a third stream of (seed, i, tag) so the tags' order
//    does not matter: each cat tag of the 30 head categories on days within
//    the last 180 before an as-of day the consumer chooses (crowdd --demo
//    its today, crowd-gen --as-of). A buy is dated only when the user's
//    newest order (recency_days) is within those days: the lowest bought
//    category on exactly that day, other bought ones between it and 179 days
//    ago; pv on one to three days, fav and cart on one, uniform.
//
// Everything is a pure function of (seed, i): user(i) needs no other user, so
// tests regenerate any user and generation parallelises by blocks (a
// Population is immutable after construction: any thread may call its const
// methods). Tag names do not depend on the seed (see synthetic_world.h), and
// a smaller population is a prefix of a larger one with the same seed.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "data/synthetic_random.h"
#include "data/synthetic_world.h"
#include "index/ids.h"

namespace crowd::synth {

// A user's facts beyond its tags (Population::facts).
struct UserFacts {
  // Dated tag: an aipl_daily tag (a vocabulary index) held on
  // world::kSnapshotDays[snapshot].
  struct Event {
    uint32_t tag = 0;
    uint32_t snapshot = 0;
    bool operator==(const Event&) const = default;
  };
  // Buyers have every attribute, others none (then values is all zero).
  bool has_values = false;
  std::array<int64_t, world::kAttributes> values{};  // world::kAttributeNames order
  // Brand by brand, the earlier day's event before the later day's; a brand
  // has at most one of each.
  std::vector<Event> events;
  // Dated behaviour: a cat tag of a head category (world::kDatedCategories)
  // held on the day `days_ago` days before the day the consumer anchors the
  // population to (its as-of day; 0 .. world::kBehaviourDays - 1). Sorted by
  // tag, then days_ago; distinct.
  struct DatedBehaviour {
    uint32_t tag = 0;
    uint16_t days_ago = 0;
    bool operator==(const DatedBehaviour&) const = default;
    auto operator<=>(const DatedBehaviour&) const = default;
  };
  std::vector<DatedBehaviour> behaviour;
};

struct PopulationOptions {
  uint64_t users = 1'000'000;
  uint64_t seed = 42;
};

class Population {
 public:
  // At most 2^32-1 users: the index's ordinal limit, and the ID permutation's
  // domain. Throws std::invalid_argument beyond it. Builds its tables in a
  // few ms.
  explicit Population(const PopulationOptions& options);

  [[nodiscard]] uint64_t users() const { return options_.users; }
  [[nodiscard]] uint64_t seed() const { return options_.seed; }

  // Every tag name the generator can emit (~10,000); user() and facts()
  // return indices into it. Fixed for all seeds and sizes. The aipl_daily
  // tags, which only facts() emits, come last, so user()'s indices are those
  // of the vocabulary before they were added.
  [[nodiscard]] const std::vector<std::string>& vocabulary() const { return vocabulary_; }

  // User i (i < users()): its external ID and its tags (vocabulary indices,
  // distinct, in no particular order; `tags` is cleared first and reused, so
  // a caller looping over users allocates nothing after the first few).
  // O(tags): ~0.7 us on an idle core (~40 tags; 1.4M users/s).
  void user(uint64_t i, UserId& id, std::vector<uint32_t>& tags) const;

  // User i's facts (values and dated AIPL snapshots, see UserFacts).
  // `tags` must be user(i)'s tags (as user() returned them, in any order):
  // the facts follow them, and this overload spares regenerating them. `out`
  // is reused like user()'s `tags`. O(tags + brands): ~0.3 us (a scan of the
  // tags, a 16-bit coin a brand, and for buyers a log, a pow and three exps).
  void facts(uint64_t i, std::span<const uint32_t> tags, UserFacts& out) const;
  // The same from i alone (regenerates the user's tags first: ~0.8 us).
  void facts(uint64_t i, UserFacts& out) const;

  // User i's external ID. A bijection of i: the low 32 bits are a keyed
  // permutation of i, so IDs never collide. About 90% of IDs are below 2^32,
  // 10% in [2^32, 2^45), 0.2% above 2^53 (a few near 2^64), so clients meet
  // big IDs. O(1).
  [[nodiscard]] UserId id(uint64_t i) const;

  // User i's hidden persona (ground truth for lookalike evaluation). O(1).
  [[nodiscard]] uint32_t persona(uint64_t i) const;
  [[nodiscard]] static uint32_t persona_count();
  // The persona's name, e.g. "young_urban_beauty"; p < persona_count().
  [[nodiscard]] static const char* persona_name(uint32_t p);

  // Tags the persona is built to over-represent, chosen so that each is held
  // by a persona member at least 3 times as often as by an average user (its
  // primary 兴趣, its favourite brand's membership, and the pv tags of four of
  // its favoured categories that are not so popular that everyone has them).
  [[nodiscard]] std::span<const uint32_t> signature(uint32_t p) const { return signatures_[p]; }

  // The leaf categories by popularity rank (the head first), and each one's
  // vertical (world::verticals() index): for the tag library's tree.
  [[nodiscard]] std::span<const uint32_t> category_ids() const { return category_ids_; }
  [[nodiscard]] int category_vertical(std::size_t rank) const { return category_vertical_[rank]; }

 private:
  // Per brand, the 16-bit thresholds of one persona's AIPL transitions.
  struct BrandOdds {
    uint32_t buy = 0;       // P, given a buy in the brand's vertical
    uint32_t interest = 0;  // I, given a fav or cart there
    uint32_t aware = 0;     // A, given a pv there
    uint32_t ad = 0;        // A, with no behaviour there
    uint32_t member = 0;    // member:<brand> with no state
  };
  // One persona's distributions, ready to draw from.
  struct PersonaModel {
    AliasTable age, city, power, depth, categories;
    uint32_t female = 0;                // 16-bit thresholds from here on
    std::array<uint32_t, 2> student{};  // at 18-24 and 25-29
    std::array<uint32_t, world::kPlatformTraits> platform{};
    std::array<uint32_t, world::kVerticals> interest{};
    std::vector<BrandOdds> brands;
  };

  void build_vocabulary();
  void build_personas();
  // facts()' last part: `out.values` are already drawn.
  void dated_behaviour(uint64_t i, std::span<const uint32_t> tags, UserFacts& out) const;

  PopulationOptions options_;
  uint64_t key_;                         // the users' RNG key, from the seed
  uint64_t id_key_;                      // the ID permutation's keys, from the seed
  uint64_t values_key_;                  // facts(): the values' RNG key, from the seed
  uint64_t snapshot_key_;                // facts(): the snapshots' RNG key, from the seed
  uint64_t behaviour_key_;               // facts(): the dated behaviour's RNG key, from the seed
  std::vector<std::string> vocabulary_;  // see build_vocabulary() for the layout
  std::vector<std::vector<uint32_t>> signatures_;

  // The world, fixed for all seeds.
  std::vector<uint32_t> category_ids_;      // by popularity rank
  std::vector<uint8_t> category_vertical_;  // by rank
  std::vector<double> category_weight_;     // global Zipf popularity, sums to 1
  std::vector<uint32_t> shop_ids_;          // grouped by vertical
  std::vector<AliasTable> vertical_shops_;  // per vertical: index into its shop group
  std::vector<uint32_t> vertical_first_shop_;
  std::vector<uint8_t> city_tier_;
  std::vector<uint8_t> brand_vertical_;
  // Per brand, 16-bit thresholds of "has no state now and was A or I a
  // month ago" and of "... was A": for users who do not browse the brand's
  // vertical, then for those who do (4 a brand).
  std::vector<uint32_t> left_;
  uint32_t left_max_ = 0;  // the highest of them

  AliasTable persona_table_;
  std::vector<PersonaModel> personas_;

  // Vocabulary offsets, one per tag family.
  uint32_t gender_ = 0, age_ = 0, city_ = 0, tier_ = 0, power_ = 0, depth_ = 0, student_ = 0, platform_ = 0,
           interest_ = 0, cat_ = 0, shop_ = 0, member_ = 0, aipl_ = 0, aipl_daily_ = 0;
};

}  // namespace crowd::synth
