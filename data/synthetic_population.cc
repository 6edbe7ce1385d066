#include "data/synthetic_population.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>
#include <unordered_set>

namespace crowd::synth {
namespace {

// The model's constants, each with its reason. Rates were tuned by measuring
// the output (see the test and crowd-gen --stats), aiming at ~40 tags a user
// and densities from ~50% down to ~0.001%.

// The world's own seed: the catalogue (category and shop ids, which category
// is in which vertical) is the same for every population seed.
constexpr uint64_t kWorldKey = 0x7461'6f62'616f'3137ULL;

// Leaf categories and shops. 2,000 categories x 4 behaviours plus shops,
// cities and brands make a vocabulary of ~9,900 tags.
constexpr uint32_t kCategories = 2000;
constexpr uint32_t kShops = 1300;

// Category popularity: Zipf-Mandelbrot 1/(rank + 20)^1.4. A plain Zipf (1/r)
// would give the top category 12% of all touches (everyone would have it);
// the offset flattens the head to ~2.4% while the tail still falls to ~4e-5
// of touches, so the rarest buy tags land near 0.001% of users (measured at
// 1M users: 0.0004% .. 51.9%).
constexpr double kCategoryZipfOffset = 20;
constexpr double kCategoryZipfExponent = 1.4;
// Shops within a vertical and cities within a tier: plain Zipf.
constexpr double kShopZipfExponent = 1.1;

// A persona draws this share of its touches from its favoured categories, the
// rest from global popularity: strong enough for lift >= 3 on its favoured
// tags, noisy enough that a persona is not a hard partition of the tags.
constexpr double kFocus = 0.6;
// Within a favoured vertical, each persona favours its own ~30% of the
// categories: personas sharing a vertical (female_student and
// white_collar_female both favour womenswear) still differ.
constexpr double kFavouredFraction = 0.3;

// Category draws by shopping depth 1..3 (the count is uniform in
// [base/2, 1.5 base]); distinct categories run a little lower (repeats).
constexpr std::array<uint32_t, world::kDepthLevels> kTouches = {10, 26, 56};
constexpr uint32_t kMaxTouches = kTouches.back() / 2 + kTouches.back() + 1;

// The Taobao UserBehavior event mix: pv 89.7%, cart 5.5%, fav 2.9%, buy 2.0%.
// Every touched category gets a pv, and fav/cart/buy each with share/89.7,
// so tag counts keep the log's proportions. 21-bit thresholds: three coins
// from one 64-bit draw.
enum Behaviour : uint32_t { kPv, kFav, kCart, kBuy };
// Dated behaviour: the share of dated pv tags seen on a second day, and on a
// third (percent).
constexpr uint32_t kPvSecondDayPct = 35;
constexpr uint32_t kPvThirdDayPct = 10;
constexpr std::array<const char*, 4> kBehaviourNames = {"pv", "fav", "cart", "buy"};
constexpr uint64_t kMask21 = (uint64_t{1} << 21) - 1;
constexpr uint64_t to21(double p) { return static_cast<uint64_t>(p * static_cast<double>(uint64_t{1} << 21)); }
constexpr uint64_t kFav21 = to21(2.9 / 89.7);
constexpr uint64_t kCart21 = to21(5.5 / 89.7);
constexpr uint64_t kBuy21 = to21(2.0 / 89.7);

// Until issue 17 a second data source labelled this share of users in
// cities with a Chinese name 城市:<汉字>, a tag that looked like an alias of
// city: but held 30% of it. The tag is gone (city:'s values carry Chinese
// labels in the tag library instead); its draw stays, so every other draw,
// and so the rest of the demo, is as before.
constexpr uint32_t kHanziCity16 = threshold16(0.30);

// 兴趣 (interest) rates by the vertical's place in the persona's favours, and
// for every other vertical.
constexpr std::array<double, 3> kInterestFavoured = {0.60, 0.25, 0.10};
constexpr double kInterestBackground = 0.02;

// Following a shop, per distinct category touched, by the deepest behaviour
// there (pv, fav/cart, buy): buyers follow the shop they bought from.
constexpr std::array<uint32_t, 3> kShopFan16 = {threshold16(0.05), threshold16(0.20), threshold16(0.35)};
constexpr uint32_t kMaxShops = kMaxTouches;

// Brands the user() loop is sized for, and so the most tags a user can get:
// 8 demographic, the platform traits, 兴趣, 4 per category, shops, and a state
// and a membership per brand.
constexpr std::size_t kMaxBrands = 64;
constexpr std::size_t kMaxTags =
    8 + world::kPlatformTraits + world::kVerticals + 4 * kMaxTouches + kMaxShops + 2 * kMaxBrands;

// AIPL and membership. A brand's share of its vertical scales its
// transitions; the persona's favourite brand converts 3x as often.
enum Aipl : uint32_t { kAware, kInterest, kPurchase, kLoyal };
constexpr std::array<const char*, 4> kAiplNames = {"A", "I", "P", "L"};
constexpr double kFavouriteBrand = 3.0;
constexpr double kInterestPerShare = 0.8, kAwarePerShare = 0.6, kAdAware = 0.01, kMemberNoState = 0.002;
constexpr uint32_t kLoyal16 = threshold16(0.40);  // P users who are loyal (L)
// member:<brand> by AIPL state (A, I, P, L): loyal customers join.
constexpr std::array<uint32_t, 4> kMember16 = {threshold16(0.01), threshold16(0.03), threshold16(0.25),
                                               threshold16(0.85)};

// facts(), values. Orders in the last 365 days: one per distinct bought
// category (each buy tag stands for at least one order) plus repeat orders,
// exponential with a mean by shopping depth (deeper shoppers reorder more)
// that grows a quarter with each further bought category; at most 100 (or
// the bought categories, if more). Mean orders a buyer come out at 2.7,
// 7.2 and 16.8 for depth 1, 2, 3 (seed 42), and the longest tails reach the
// cap.
constexpr std::array<double, world::kDepthLevels> kRepeatOrders = {2.0, 6.0, 14.0};
constexpr double kRepeatPerBuy = 0.25;
constexpr uint32_t kMaxOrders = 100;
// Order value in yuan: lognormal around a median set by power:low|mid|high
// (e-commerce order values are heavy-tailed; sigma 0.8 puts the 99th
// percentile at ~6.4 x the median).
constexpr std::array<double, world::kPowerLevels> kMedianOrderValue = {45, 110, 260};
constexpr double kOrderValueSigma = 0.8;
// clv = a year's orders x order value x retention x loyalty x noise.
// Retention falls from 3 (ordered today) to 0.62 (no order for a year):
// 0.5 + 2.5 e^(-recency / 120 days). Loyalty: +0.3 a brand membership
// (at most 5 count), +0.5 a brand the user is loyal (L) to (at most 4).
constexpr double kRetentionFloor = 0.5, kRetentionGain = 2.5, kRetentionDays = 120;
constexpr double kLoyaltyPerMember = 0.3, kLoyaltyPerLoyal = 0.5;
constexpr uint32_t kMaxLoyaltyMembers = 5, kMaxLoyaltyLoyal = 4;
constexpr double kClvSigma = 0.3;

// facts(), AIPL a month before the current state. Rows: current state A, I,
// P, L; columns: the earlier state none (new to the brand's funnel), A, I, P,
// L. The diagonal dominates. A holds most (user, brand) pairs, so its rate
// of regressions (from I, P, L) is kept low: over the population, forward
// moves (an earlier column) outnumber regressions (a later one) about 3 to 1.
constexpr std::array<std::array<double, 5>, 4> kEarlier = {{
    {0.25, 0.730, 0.015, 0.004, 0.001},  // A now: a quarter new
    {0.15, 0.270, 0.550, 0.025, 0.005},  // I now: a quarter came from A
    {0.10, 0.060, 0.160, 0.630, 0.050},  // P now
    {0.03, 0.010, 0.020, 0.220, 0.720},  // L now: mostly promoted from P
}};
// The same as 16-bit cumulative thresholds of none, A, I and P (L is the rest).
constexpr std::array<std::array<uint32_t, 4>, 4> earlier_thresholds() {
  std::array<std::array<uint32_t, 4>, 4> out{};
  for (std::size_t now = 0; now < 4; ++now) {
    double sum = 0;
    for (std::size_t before = 0; before < 4; ++before) {
      sum += kEarlier[now][before];
      out[now][before] = threshold16(sum);
    }
  }
  return out;
}
constexpr auto kEarlier16 = earlier_thresholds();
// Users with no state for a brand now who had one a month ago (left): per
// unit of the brand's share among users browsing its vertical (brand_x, share
// 0.3: 1.8% of them; its leavers come to ~7% of its A users), and flat for
// the others (ad reach); three in four of them were A, the rest I.
constexpr double kLeftPerShare = 0.06, kLeftOther = 0.002, kLeftAware = 0.75;

// Signature categories: a persona's favoured categories it touches with
// expected count at most this (more saturates: everyone has it, lift falls),
// and with an expected lift of at least kSignatureLift.
constexpr double kSignatureSaturation = 0.3;
constexpr double kSignatureLift = 4.0;
constexpr std::size_t kSignatureCategories = 4;

// Sixteen uniform 16-bit lanes from every four 64-bit draws: most of a user's
// coins are cheap Bernoullis and 1.5e-5 resolution is plenty for them.
class Lanes {
 public:
  explicit Lanes(Rng& rng) : rng_(rng) {}
  uint32_t next() {
    if (left_ == 0) {
      bits_ = rng_.next();
      left_ = 4;
    }
    --left_;
    const auto v = static_cast<uint32_t>(bits_ & 0xffff);
    bits_ >>= 16;
    return v;
  }

 private:
  Rng& rng_;
  uint64_t bits_ = 0;
  int left_ = 0;
};

// Uniform in [0, 1), 53 bits.
double uniform(Rng& rng) { return static_cast<double>(rng.next() >> 11) * 0x1p-53; }

// Roughly standard normal: the sum of eight uniform 16-bit lanes (Irwin-Hall),
// centred and scaled; tails end at +-4.9 sigma. Two draws, no log or sine.
double normal(Rng& rng) {
  uint64_t sum = 0;
  for (int k = 0; k < 2; ++k) {
    const uint64_t r = rng.next();
    sum += (r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48);
  }
  constexpr double kScale = 1.224744871391589;  // sqrt(12 / 8): unit variance
  return (static_cast<double>(sum) / 65536.0 - 4.0) * kScale;
}

// `count` distinct values in [lo, hi) not in `taken`, which they join.
std::vector<uint32_t> distinct_ids(Rng& rng, uint32_t count, uint32_t lo, uint32_t hi,
                                   std::unordered_set<uint32_t>& taken) {
  std::vector<uint32_t> out;
  out.reserve(count);
  while (out.size() < count) {
    const uint32_t v = lo + rng.below(hi - lo);
    if (taken.insert(v).second) out.push_back(v);
  }
  return out;
}

}  // namespace

Population::Population(const PopulationOptions& options)
    : options_(options),
      key_(mix64(options.seed ^ 0x5553'4552'5300'0000ULL)),
      id_key_(mix64(options.seed + kGolden)),
      values_key_(mix64(options.seed ^ 0x5641'4c55'4553'0000ULL)),
      snapshot_key_(mix64(options.seed ^ 0x4149'504c'4441'5900ULL)),
      behaviour_key_(mix64(options.seed ^ 0x4245'4841'5649'4f52ULL)) {
  if (options.users > 0xffffffffULL) throw std::invalid_argument("synthetic population: at most 2^32-1 users");
  if (world::brands().size() > kMaxBrands) throw std::logic_error("synthetic world: too many brands");
  if (world::head_categories().size() != world::kDatedCategories) {
    throw std::logic_error("synthetic world: the dated categories are the head categories");
  }
  const auto verticals = world::verticals();

  // Categories: the real head ids first, then distinct random 6-7 digit ids
  // below 5.2 million, like the log's.
  Rng catalogue(kWorldKey, 0);
  std::unordered_set<uint32_t> taken(world::head_categories().begin(), world::head_categories().end());
  category_ids_.assign(world::head_categories().begin(), world::head_categories().end());
  const auto tail =
      distinct_ids(catalogue, kCategories - static_cast<uint32_t>(category_ids_.size()), 100'000, 5'162'430, taken);
  category_ids_.insert(category_ids_.end(), tail.begin(), tail.end());

  std::vector<double> shares;
  for (const auto& v : verticals) shares.push_back(v.share);
  const AliasTable vertical_of(shares);
  double total = 0;
  for (uint32_t r = 0; r < kCategories; ++r) {
    category_vertical_.push_back(static_cast<uint8_t>(vertical_of.sample(catalogue)));
    category_weight_.push_back(std::pow(r + kCategoryZipfOffset, -kCategoryZipfExponent));
    total += category_weight_.back();
  }
  for (double& w : category_weight_) w /= total;

  // Shops, grouped by vertical in proportion to its size.
  std::unordered_set<uint32_t> taken_shops;
  for (const auto& v : verticals) {
    const auto n = static_cast<uint32_t>(std::lround(kShops * v.share));
    vertical_first_shop_.push_back(static_cast<uint32_t>(shop_ids_.size()));
    const auto ids = distinct_ids(catalogue, n, 1'000'000, 200'000'000, taken_shops);
    shop_ids_.insert(shop_ids_.end(), ids.begin(), ids.end());
    std::vector<double> weights;
    for (uint32_t r = 0; r < n; ++r) weights.push_back(std::pow(r + 1.0, -kShopZipfExponent));
    vertical_shops_.emplace_back(weights);
  }

  for (const auto& c : world::cities()) city_tier_.push_back(static_cast<uint8_t>(c.tier));
  for (const auto& b : world::brands()) {
    brand_vertical_.push_back(static_cast<uint8_t>(b.vertical));
    for (const double p : {kLeftOther, kLeftPerShare * b.share}) {
      left_.push_back(threshold16(p));
      left_.push_back(threshold16(p * kLeftAware));
      left_max_ = std::max(left_max_, left_.end()[-2]);
    }
  }

  build_vocabulary();
  build_personas();
}

void Population::build_vocabulary() {
  auto& v = vocabulary_;
  const auto add = [&v](std::string name) { v.push_back(std::move(name)); };
  gender_ = static_cast<uint32_t>(v.size());
  add("gender:male");
  add("gender:female");
  age_ = static_cast<uint32_t>(v.size());
  for (const auto band : world::kAgeBandNames) add("age:" + std::string(band));
  city_ = static_cast<uint32_t>(v.size());
  for (const auto& c : world::cities()) add("city:" + std::string(c.pinyin));
  tier_ = static_cast<uint32_t>(v.size());
  for (int t = 1; t <= world::kTiers; ++t) add("tier:" + std::to_string(t));
  power_ = static_cast<uint32_t>(v.size());
  for (const auto p : world::kPowerNames) add("power:" + std::string(p));
  depth_ = static_cast<uint32_t>(v.size());
  for (int d = 1; d <= world::kDepthLevels; ++d) add("depth:" + std::to_string(d));
  student_ = static_cast<uint32_t>(v.size());
  add("student:yes");
  platform_ = static_cast<uint32_t>(v.size());
  for (const auto p : world::kPlatformNames) add("platform:" + std::string(p));
  interest_ = static_cast<uint32_t>(v.size());
  for (const auto& vertical : world::verticals()) add("兴趣:" + std::string(vertical.interest));
  cat_ = static_cast<uint32_t>(v.size());
  for (const uint32_t id : category_ids_) {
    for (const char* b : kBehaviourNames) add("cat:" + std::to_string(id) + ":" + b);
  }
  shop_ = static_cast<uint32_t>(v.size());
  for (const uint32_t id : shop_ids_) add("shop:" + std::to_string(id) + ":fan");
  member_ = static_cast<uint32_t>(v.size());
  for (const auto& b : world::brands()) add("member:" + std::string(b.name));
  aipl_ = static_cast<uint32_t>(v.size());
  for (const auto& b : world::brands()) {
    for (const char* s : kAiplNames) add("aipl:" + std::string(b.name) + ":" + s);
  }
  // Last: facts() emits these, user() does not.
  aipl_daily_ = static_cast<uint32_t>(v.size());
  for (const auto& b : world::brands()) {
    for (const char* s : kAiplNames) add("aipl_daily:" + std::string(b.name) + ":" + s);
  }
}

void Population::build_personas() {
  const auto specs = world::personas();
  const auto cities = world::cities();
  const auto brands = world::brands();

  std::vector<double> weights;
  for (const auto& p : specs) weights.push_back(p.weight);
  persona_table_ = AliasTable(weights);

  // City weight within a tier: Zipf over the city's overall size rank,
  // normalised per tier so the persona's tier distribution holds exactly.
  std::array<double, world::kTiers> tier_mass{};
  for (std::size_t c = 0; c < cities.size(); ++c) tier_mass[cities[c].tier - 1] += 1.0 / (c + 1.0);

  // Category distribution per persona (kept for choosing signatures).
  std::vector<std::vector<double>> q(specs.size(), std::vector<double>(kCategories));
  std::vector<double> mean_touches(specs.size());
  for (std::size_t p = 0; p < specs.size(); ++p) {
    const auto& spec = specs[p];
    std::vector<bool> favoured(kCategories);
    for (uint32_t c = 0; c < kCategories; ++c) {
      favoured[c] = mix64(kWorldKey ^ (p << 32) ^ c) < threshold64(kFavouredFraction);
    }
    std::array<double, world::kVerticals> favoured_mass{};
    for (uint32_t c = 0; c < kCategories; ++c) {
      if (favoured[c]) favoured_mass[category_vertical_[c]] += category_weight_[c];
    }
    for (uint32_t c = 0; c < kCategories; ++c) {
      double w = (1 - kFocus) * category_weight_[c];
      for (const auto& f : spec.favours) {
        // (A favoured subset of a vertical is never empty in practice: 30%
        // of >= 60 categories; the mass check only keeps a bad catalogue
        // from dividing by zero.)
        if (favoured[c] && category_vertical_[c] == f.vertical && favoured_mass[f.vertical] > 0) {
          w += kFocus * f.weight * category_weight_[c] / favoured_mass[f.vertical];
        }
      }
      q[p][c] = w;
    }
    for (int d = 0; d < world::kDepthLevels; ++d) mean_touches[p] += spec.depth[d] * kTouches[d];
  }

  for (std::size_t p = 0; p < specs.size(); ++p) {
    const auto& spec = specs[p];
    PersonaModel m;
    m.age = AliasTable(spec.age);
    std::vector<double> city_weights;
    for (std::size_t c = 0; c < cities.size(); ++c) {
      const int t = cities[c].tier - 1;
      city_weights.push_back(spec.tier[t] / (c + 1.0) / tier_mass[t]);
    }
    m.city = AliasTable(city_weights);
    m.power = AliasTable(spec.power);
    m.depth = AliasTable(spec.depth);
    m.categories = AliasTable(q[p]);
    m.female = threshold16(spec.female);
    m.student = {threshold16(spec.student), threshold16(spec.student / 3)};
    for (int t = 0; t < world::kPlatformTraits; ++t) m.platform[t] = threshold16(spec.platform[t]);
    m.interest.fill(threshold16(kInterestBackground));
    for (std::size_t k = 0; k < spec.favours.size(); ++k) {
      m.interest[spec.favours[k].vertical] = threshold16(kInterestFavoured[k]);
    }
    for (const auto& b : brands) {
      const double a = b.name == spec.brand ? kFavouriteBrand : 1.0;
      const double s = b.share * a;
      m.brands.push_back(BrandOdds{threshold16(std::min(0.95, s)), threshold16(std::min(0.95, kInterestPerShare * s)),
                                   threshold16(std::min(0.95, kAwarePerShare * s)), threshold16(kAdAware * a),
                                   threshold16(kMemberNoState * a)});
    }
    personas_.push_back(std::move(m));
  }

  // Signatures. The population's category distribution is the persona mix.
  std::vector<double> mean_q(kCategories);
  for (std::size_t p = 0; p < specs.size(); ++p) {
    for (uint32_t c = 0; c < kCategories; ++c) mean_q[c] += specs[p].weight * q[p][c];
  }
  for (std::size_t p = 0; p < specs.size(); ++p) {
    const auto& spec = specs[p];
    std::vector<uint32_t> sig;
    sig.push_back(interest_ + static_cast<uint32_t>(spec.favours[0].vertical));
    for (std::size_t b = 0; b < brands.size(); ++b) {
      if (brands[b].name == spec.brand) sig.push_back(member_ + static_cast<uint32_t>(b));
    }
    std::vector<uint32_t> candidates;
    for (uint32_t c = 0; c < kCategories; ++c) {
      if (category_vertical_[c] == spec.favours[0].vertical && mean_touches[p] * q[p][c] <= kSignatureSaturation &&
          q[p][c] >= kSignatureLift * mean_q[c]) {
        candidates.push_back(c);
      }
    }
    std::sort(candidates.begin(), candidates.end(), [&](uint32_t a, uint32_t b) { return q[p][a] > q[p][b]; });
    candidates.resize(std::min(candidates.size(), kSignatureCategories));
    for (const uint32_t c : candidates) sig.push_back(cat_ + 4 * c + kPv);
    signatures_.push_back(std::move(sig));
  }
}

UserId Population::id(uint64_t i) const {
  // Low half: a 4-round Feistel network on i's two 16-bit halves, a
  // permutation of [0, 2^32) for any round function, so distinct users get
  // distinct low halves, and therefore distinct IDs whatever the high half.
  uint32_t left = static_cast<uint32_t>(i >> 16) & 0xffff, right = static_cast<uint32_t>(i) & 0xffff;
  for (uint64_t round = 0; round < 4; ++round) {
    const auto f = static_cast<uint32_t>(mix64(id_key_ + (round << 32) + right) >> 48);
    const uint32_t next_right = left ^ f;
    left = right;
    right = next_right;
  }
  const uint64_t low = (uint64_t{left} << 16) | right;
  // High half: mostly 0; a few users get big IDs so clients meet them.
  const uint64_t h = mix64(id_key_ ^ (i * kGolden));
  const uint64_t roll = (h >> 32) % 1000;
  uint64_t high = 0;
  if (roll == 0) {
    high = 0x0020'0000 | (h & 0xf'ffff);  // [2^53, 2^53 + 2^52): just past exact doubles
  } else if (roll == 1) {
    high = 0xffff'ffff - (h & 0xffff);  // near 2^64
  } else if (roll < 100) {
    high = 1 + (h & 0xfff);  // [2^32, 2^45)
  }
  return (high << 32) | low;
}

uint32_t Population::persona(uint64_t i) const {
  Rng rng(key_, i);
  return persona_table_.sample(rng);  // user()'s first draw
}

uint32_t Population::persona_count() { return static_cast<uint32_t>(world::personas().size()); }

const char* Population::persona_name(uint32_t p) { return world::personas()[p].name.data(); }

void Population::user(uint64_t i, UserId& id_out, std::vector<uint32_t>& tags) const {
  id_out = id(i);
  // Tags go to a stack buffer and are copied out once: push_back's capacity
  // check on each of ~40 tags cost ~8% of the time.
  std::array<uint32_t, kMaxTags> out;
  uint32_t* end = out.data();
  const auto emit = [&end](uint32_t tag) { *end++ = tag; };
  const auto emit_if = [&end](uint32_t tag, bool keep) {
    *end = tag;
    end += keep;
  };
  Rng rng(key_, i);
  const PersonaModel& m = personas_[persona_table_.sample(rng)];
  Lanes lanes(rng);

  // Demographics.
  emit(gender_ + (lanes.next() < m.female ? 1 : 0));
  const uint32_t age = m.age.sample(rng);
  emit(age_ + age);
  const uint32_t city = m.city.sample(rng);
  emit(city_ + city);
  emit(tier_ + city_tier_[city] - 1);
  if (!world::cities()[city].hanzi.empty()) (void)(lanes.next() < kHanziCity16);  // the old 城市 draw
  emit(power_ + m.power.sample(rng));
  const uint32_t depth = m.depth.sample(rng);
  emit(depth_ + depth);
  if (age < m.student.size() && lanes.next() < m.student[age]) emit(student_);
  for (uint32_t t = 0; t < world::kPlatformTraits; ++t) {
    if (lanes.next() < m.platform[t]) emit(platform_ + t);
  }
  for (uint32_t v = 0; v < world::kVerticals; ++v) {
    if (lanes.next() < m.interest[v]) emit(interest_ + v);
  }

  // Category touches, distinct, in draw order. A 2,000-bit set on the stack
  // dedups in O(1) a draw without sorting. The loops below write every
  // candidate tag and advance the end only when it is kept: these coins are
  // unpredictable by design, and a mispredicted branch each cost more than
  // the store it saves (branchy version: ~20% slower overall).
  const uint32_t base = kTouches[depth];
  const uint32_t draws = base / 2 + rng.below(base + 1);
  std::array<uint64_t, (kCategories + 63) / 64> seen{};
  std::array<uint16_t, kMaxTouches> touched;
  uint32_t touched_count = 0;
  for (uint32_t k = 0; k < draws; ++k) {
    const uint32_t c = m.categories.sample(rng);
    const uint64_t bit = uint64_t{1} << (c & 63);
    touched[touched_count] = static_cast<uint16_t>(c);
    touched_count += (seen[c >> 6] & bit) == 0;
    seen[c >> 6] |= bit;
  }

  // Behaviours per category, the deepest one per vertical, and shop follows.
  std::array<uint8_t, world::kVerticals> level{};  // 0 none, 1 pv, 2 fav/cart, 3 buy
  std::array<uint32_t, kMaxShops> shops;
  uint32_t shop_count = 0;
  for (uint32_t k = 0; k < touched_count; ++k) {
    const uint32_t c = touched[k];
    const uint32_t first = cat_ + 4 * c;
    const uint64_t r = rng.next();
    const bool fav = (r & kMask21) < kFav21, cart = ((r >> 21) & kMask21) < kCart21, buy = (r >> 43) < kBuy21;
    emit(first + kPv);
    emit_if(first + kFav, fav);
    emit_if(first + kCart, cart);
    emit_if(first + kBuy, buy);
    const uint8_t deepest = buy ? 3 : (fav | cart) ? 2 : 1;
    const uint32_t v = category_vertical_[c];
    level[v] = std::max(level[v], deepest);
    if (lanes.next() < kShopFan16[deepest - 1]) {
      const uint32_t s = shop_ + vertical_first_shop_[v] + vertical_shops_[v].sample(rng);
      if (std::find(shops.begin(), shops.begin() + shop_count, s) == shops.begin() + shop_count) {
        shops[shop_count++] = s;
        emit(s);
      }
    }
  }

  // Brands: at most one AIPL state each, from the deepest behaviour in the
  // brand's vertical; membership mostly follows P and L. Four 16-bit lanes
  // from one draw; on any path each lane decides one thing only.
  for (uint32_t b = 0; b < brand_vertical_.size(); ++b) {
    const BrandOdds& o = m.brands[b];
    const uint8_t deepest = level[brand_vertical_[b]];
    const uint64_t r = rng.next();
    const auto u0 = static_cast<uint32_t>(r & 0xffff), u1 = static_cast<uint32_t>((r >> 16) & 0xffff),
               u2 = static_cast<uint32_t>((r >> 32) & 0xffff), u3 = static_cast<uint32_t>(r >> 48);
    const bool bought = (deepest >= 3) & (u0 < o.buy);                                  // P, or L when loyal (u1)
    const bool interested = !bought & (deepest >= 2) & (u2 < o.interest);               // I
    const bool aware = !bought & !interested & (u3 < (deepest >= 1 ? o.aware : o.ad));  // A
    const uint32_t state = bought ? (u1 < kLoyal16 ? kLoyal : kPurchase) : interested ? kInterest : kAware;
    const bool any = bought | interested | aware;
    emit_if(aipl_ + 4 * b + state, any);
    emit_if(member_ + b, (bought ? u2 : u1) < (any ? kMember16[state] : o.member));
  }
  tags.assign(out.data(), end);
}

void Population::facts(uint64_t i, UserFacts& out) const {
  std::vector<uint32_t> tags;
  UserId id = 0;
  user(i, id, tags);
  facts(i, tags, out);
}

void Population::facts(uint64_t i, std::span<const uint32_t> tags, UserFacts& out) const {
  // What the tags say: power, depth, bought categories, verticals browsed,
  // memberships and AIPL states. Tag families are vocabulary ranges.
  std::array<uint8_t, kMaxBrands> state;  // valid where `held` has the brand's bit
  uint64_t held = 0;
  uint32_t power = 0, depth = 0, buys = 0, members = 0, loyal = 0, browsed = 0;
  for (const uint32_t t : tags) {
    if (t >= cat_ && t < shop_) {
      const uint32_t k = t - cat_;
      buys += (k & 3) == kBuy;
      browsed |= 1u << category_vertical_[k >> 2];
    } else if (t >= aipl_ && t < aipl_daily_) {
      const uint32_t k = t - aipl_;
      state[k >> 2] = static_cast<uint8_t>(k & 3);
      held |= uint64_t{1} << (k >> 2);
      loyal += (k & 3) == kLoyal;
    } else if (t >= member_ && t < aipl_) {
      ++members;
    } else if (t >= power_ && t < power_ + world::kPowerLevels) {
      power = t - power_;
    } else if (t >= depth_ && t < depth_ + world::kDepthLevels) {
      depth = t - depth_;
    }
  }

  // Values: buyers only.
  out.has_values = buys > 0;
  out.values.fill(0);
  if (out.has_values) {
    Rng rng(values_key_, i);
    const double repeat_mean = kRepeatOrders[depth] * (1.0 + kRepeatPerBuy * (buys - 1));
    const double repeats = -std::log1p(-uniform(rng)) * repeat_mean;
    const uint32_t orders =
        std::max(buys, static_cast<uint32_t>(std::min<double>(kMaxOrders, buys + std::floor(repeats))));
    // The newest of `orders` days uniform over the last 365: P(recency > r)
    // = (1 - r/365)^orders, so frequent buyers ordered recently.
    const double newest = 365.0 * (1.0 - std::pow(1.0 - uniform(rng), 1.0 / orders));
    const auto recency = std::min<uint32_t>(364, static_cast<uint32_t>(newest));
    // Orders in the last 90 days: the newest one, and each other order with
    // the chance that a day uniform in [recency, 365) is within 90 days
    // (the expectation, randomly rounded).
    uint32_t recent = 0;
    const double u = uniform(rng);
    if (recency < 90) {
      recent = 1 + static_cast<uint32_t>((orders - 1) * (90.0 - recency) / (365.0 - recency) + u);
    }
    const double order_value = kMedianOrderValue[power] * std::exp(kOrderValueSigma * normal(rng));
    const double retention = kRetentionFloor + kRetentionGain * std::exp(-static_cast<double>(recency) / kRetentionDays);
    const double loyalty = 1.0 + kLoyaltyPerMember * std::min(members, kMaxLoyaltyMembers) +
                           kLoyaltyPerLoyal * std::min(loyal, kMaxLoyaltyLoyal);
    const double clv = orders * order_value * retention * loyalty * std::exp(kClvSigma * normal(rng));
    out.values = {static_cast<int64_t>(orders), std::llround(recent * order_value), static_cast<int64_t>(recency),
                  std::llround(clv)};
  }

  // AIPL snapshots: one 16-bit coin a brand decides the earlier state. Only
  // brands with a state now, or whose coin is below the highest leaving
  // threshold, can have an event: a branch-free pass over the coins picks
  // those (~5 of 40), and only they take the full decision.
  const auto brands = static_cast<uint32_t>(brand_vertical_.size());
  std::array<uint16_t, kMaxBrands> coin;
  Rng rng(snapshot_key_, i);
  for (uint32_t b = 0; b < brands; b += 4) {
    const uint64_t r = rng.next();  // four coins, low bits first
    for (uint32_t j = 0; j < 4; ++j) coin[b + j] = static_cast<uint16_t>(r >> (16 * j));
  }
  uint64_t candidates = held;
  for (uint32_t b = 0; b < brands; ++b) candidates |= uint64_t{coin[b] < left_max_} << b;
  out.events.clear();
  for (; candidates != 0; candidates &= candidates - 1) {
    const auto b = static_cast<uint32_t>(std::countr_zero(candidates));
    const uint32_t u = coin[b];
    if ((held >> b & 1) != 0) {
      // The count of cumulative thresholds at or below u: 0 none (new to
      // the funnel), 1..4 A, I, P, L.
      const auto& t = kEarlier16[state[b]];
      const uint32_t before = (u >= t[0]) + (u >= t[1]) + (u >= t[2]) + (u >= t[3]);
      if (before != 0) out.events.push_back({aipl_daily_ + 4 * b + before - 1, 0});
      out.events.push_back({aipl_daily_ + 4 * b + state[b], 1});
    } else {
      // No state now: left, as A or I, or not in the funnel either day.
      const uint32_t* left = &left_[4 * b + 2 * (browsed >> brand_vertical_[b] & 1)];
      if (u < left[0]) out.events.push_back({aipl_daily_ + 4 * b + (u < left[1] ? kAware : kInterest), 0});
    }
  }
  dated_behaviour(i, tags, out);
}

void Population::dated_behaviour(uint64_t i, std::span<const uint32_t> tags, UserFacts& out) const {
  out.behaviour.clear();
  constexpr auto kDays = static_cast<uint32_t>(world::kBehaviourDays);
  const uint32_t dated_end = cat_ + 4 * world::kDatedCategories;
  // A buy is dated only when the newest order is inside the days; the lowest
  // bought tag carries it.
  const auto recency = static_cast<uint32_t>(out.values[2]);
  const bool recent_buyer = out.has_values && recency < kDays;
  uint32_t newest_buy = UINT32_MAX;
  for (const uint32_t t : tags) {
    if (t >= cat_ && t < dated_end && (t - cat_) % 4 == kBuy) newest_buy = std::min(newest_buy, t);
  }
  for (const uint32_t t : tags) {
    if (t < cat_ || t >= dated_end) continue;
    // One stream per (user, tag): the same days whatever the tags' order.
    Rng rng(behaviour_key_, (i << 14) | (t - cat_));
    const auto day = [&](uint32_t days_ago) {
      out.behaviour.push_back({t, static_cast<uint16_t>(days_ago)});
    };
    switch ((t - cat_) % 4) {
      case kBuy:
        if (!recent_buyer) break;
        day(t == newest_buy ? recency : recency + rng.below(kDays - recency));
        break;
      case kPv: {
        const uint32_t u = rng.below(100);
        const int n = 1 + (u < kPvSecondDayPct ? 1 : 0) + (u < kPvThirdDayPct ? 1 : 0);
        for (int k = 0; k < n; ++k) day(rng.below(kDays));
        break;
      }
      default:  // fav, cart
        day(rng.below(kDays));
        break;
    }
  }
  std::sort(out.behaviour.begin(), out.behaviour.end());
  out.behaviour.erase(std::unique(out.behaviour.begin(), out.behaviour.end()), out.behaviour.end());
}

}  // namespace crowd::synth
