#include "data/synthetic_ids.h"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <thread>

#include "data/synthetic_random.h"
#include "identity/digest.h"
#include "index/write_batch.h"

namespace crowd::synth {
namespace {

// Phone numbers: 1, then 3-9, then 9 digits: 7e9 numbers, indexed by a slot
// through a keyed permutation of [0, 7e9). Slots: user i's first phone is
// slot i (i < 2^32), its second 2^32 + i (users below 2^31 only; a larger
// population's later users have one phone at most), and the rest of the
// range numbers that no user holds (unused_phone).
constexpr uint64_t kPhoneNumbers = 7'000'000'000;
constexpr uint64_t kSecondPhoneSlots = uint64_t{1} << 32;
constexpr uint64_t kSecondPhoneUsers = uint64_t{1} << 31;
constexpr uint64_t kUnusedPhoneSlots = kSecondPhoneSlots + kSecondPhoneUsers;
static_assert(kUnusedPhoneSlots + SyntheticIds::kUnusedPhones == kPhoneNumbers);

// The permutation's domain: 2^34 >= 7e9 as two 17-bit halves. Cycle walking
// (permute again until the result is below 7e9) restricts it to [0, 7e9);
// 2^34 / 7e9 = 2.45 rounds of 4 Feistel steps on average, ~20 ns.
constexpr unsigned kHalfBits = 17;
constexpr uint64_t kHalfMask = (uint64_t{1} << kHalfBits) - 1;

uint64_t feistel(uint64_t key, uint64_t x) {
  uint64_t left = x >> kHalfBits, right = x & kHalfMask;
  for (uint64_t round = 0; round < 4; ++round) {
    const uint64_t f = mix64(key + (round << 40) + right) >> (64 - kHalfBits);
    const uint64_t next_right = left ^ f;
    left = right;
    right = next_right;
  }
  return (left << kHalfBits) | right;
}

// Lower- or upper-case hex of 128 random bits in UUID form.
void format_uuid(uint64_t hi, uint64_t lo, bool upper, DeviceId& out) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::size_t pos = 0;
  for (int nibble = 0; nibble < 32; ++nibble) {
    if (nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20) out[pos++] = '-';
    const uint64_t word = nibble < 16 ? hi : lo;
    out[pos++] = digits[(word >> (60 - 4 * (nibble % 16))) & 0xf];
  }
}

// An OAID: 128 random bits, lower case (vendors' OAIDs are UUID-shaped but
// not all version 4).
void draw_oaid(Rng& rng, DeviceId& out) {
  const uint64_t hi = rng.next();
  format_uuid(hi, rng.next(), false, out);
}

// An IDFA: an RFC 4122 version-4 UUID (version nibble 4, variant 10xx), upper
// case, as iOS's advertisingIdentifier.UUIDString prints it.
void draw_idfa(Rng& rng, DeviceId& out) {
  const uint64_t hi = (rng.next() & ~uint64_t{0xf000}) | 0x4000;
  const uint64_t lo = (rng.next() & ~(uint64_t{3} << 62)) | (uint64_t{2} << 62);
  format_uuid(hi, lo, true, out);
}

// Threshold of a conditional probability: P(second | first).
constexpr double kSecondDeviceGivenDevice = kSecondDeviceRate / kDeviceRate;

}  // namespace

std::vector<identity::IdType> demo_id_types() {
  std::vector<identity::IdType> types;
  types.push_back({.name = std::string(kOaidType), .kind = identity::IdKind::kString});
  types.push_back({.name = std::string(kIdfaType), .kind = identity::IdKind::kString});
  types.push_back({.name = std::string(kPhoneSha256Type),
                   .kind = identity::IdKind::kSha256,
                   .normalization = identity::Normalization::kPhone});
  for (auto& t : types) {
    if (const auto why = identity::complete_and_check(t); !why.empty()) throw std::logic_error(why);
  }
  return types;
}

std::array<uint8_t, 32> phone_sha256(const PhoneNumber& number) {
  std::array<char, 2 + std::tuple_size_v<PhoneNumber>> normalised{'8', '6'};
  std::copy(number.begin(), number.end(), normalised.begin() + 2);
  return identity::sha256(std::string_view(normalised.data(), normalised.size()));
}

SyntheticIds::SyntheticIds(const Population& population)
    : seed_(population.seed()),
      key_(mix64(population.seed() ^ 0x4944'5300'0000'0000ULL)),
      phone_key_(mix64(population.seed() ^ 0x5048'4f4e'4500'0000ULL)) {
  const auto& vocabulary = population.vocabulary();
  is_member_tag_.assign(vocabulary.size(), 0);
  for (uint32_t t = 0; t < vocabulary.size(); ++t) {
    if (vocabulary[t].starts_with("member:")) {
      is_member_tag_[t] = 1;
      member_tags_.push_back(t);
    }
  }
}

bool SyntheticIds::member(std::span<const uint32_t> tags) const {
  return std::any_of(tags.begin(), tags.end(), [this](uint32_t t) { return is_member_tag_[t] != 0; });
}

PhoneNumber SyntheticIds::phone(uint64_t slot) const {
  uint64_t p = feistel(phone_key_, slot);
  while (p >= kPhoneNumbers) p = feistel(phone_key_, p);
  PhoneNumber out;
  out[0] = '1';
  out[1] = static_cast<char>('3' + p / 1'000'000'000);
  uint64_t rest = p % 1'000'000'000;
  for (std::size_t k = out.size(); k-- > 2;) {
    out[k] = static_cast<char>('0' + rest % 10);
    rest /= 10;
  }
  return out;
}

PhoneNumber SyntheticIds::unused_phone(uint64_t j) const { return phone(kUnusedPhoneSlots + j % kUnusedPhones); }

void SyntheticIds::user(uint64_t i, bool is_member, UserIds& out) const {
  out.oaid_count = out.idfa_count = out.phone_count = 0;
  Rng rng(key_, i);
  // Four 16-bit coins from one number: device, second device, the two
  // devices' platforms; then two more: phone, second phone.
  const uint64_t coins = rng.next();
  const auto lane = [](uint64_t r, int k) { return static_cast<uint32_t>(r >> (16 * k)) & 0xffff; };
  if (lane(coins, 0) < threshold16(kDeviceRate)) {
    const int devices = lane(coins, 1) < threshold16(kSecondDeviceGivenDevice) ? 2 : 1;
    for (int d = 0; d < devices; ++d) {
      if (lane(coins, 2 + d) < threshold16(kAndroidShare)) {
        draw_oaid(rng, out.oaid_ids[out.oaid_count++]);
      } else {
        draw_idfa(rng, out.idfa_ids[out.idfa_count++]);
      }
    }
  }
  const uint64_t phone_coins = rng.next();
  if (lane(phone_coins, 0) < threshold16(is_member ? kMemberPhoneRate : kOtherPhoneRate)) {
    out.phone_numbers[out.phone_count++] = phone(i);
    if (i < kSecondPhoneUsers && lane(phone_coins, 1) < threshold16(kSecondPhoneRate)) {
      out.phone_numbers[out.phone_count++] = phone(kSecondPhoneSlots + i);
    }
  }
}

namespace {

// One batch of link_population_ids: the persons of users [first, end) that
// have IDs, and what they hold.
struct LinkBatch {
  WriteBatch batch;
  IdLinkStats stats;
};

void build_link_batch(const Population& population, const SyntheticIds& ids, const std::vector<bool>& member,
                      uint64_t first, uint64_t end, LinkBatch& out) {
  out.batch = WriteBatch();
  out.stats = {};
  WriteBatch& batch = out.batch;
  const uint32_t oaid = batch.intern_space(kOaidType);
  const uint32_t idfa = batch.intern_space(kIdfaType);
  const uint32_t phone = batch.intern_space(kPhoneSha256Type);
  UserIds user_ids;
  for (uint64_t i = first; i < end; ++i) {
    ids.user(i, member[i], user_ids);
    if (user_ids.count() == 0) continue;
    ++out.stats.users;
    (void)batch.add_person(population.id(i));
    for (const auto& id : user_ids.oaids()) batch.add_person_key(oaid, as_text(id));
    for (const auto& id : user_ids.idfas()) batch.add_person_key(idfa, as_text(id));
    for (const auto& number : user_ids.phones()) {
      const auto key = phone_sha256(number);
      batch.add_person_key(phone, std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
    }
    out.stats.oaids += user_ids.oaid_count;
    out.stats.idfas += user_ids.idfa_count;
    out.stats.phones += user_ids.phone_count;
  }
}

}  // namespace

bool link_population_ids(const Population& population, Index& index, IdLinkStats& stats, std::string& error,
                         uint64_t batch_users) {
  stats = {};
  batch_users = std::max<uint64_t>(batch_users, 1);
  const uint64_t n = population.users();
  const SyntheticIds ids(population);
  {
    WriteBatch define;
    for (const auto& type : demo_id_types()) {
      define.define_id_type(type.name, identity::fixed_key_bytes(type.kind), identity::encode_id_type(type));
    }
    WriteResult result;
    if (!index.apply(define, result)) {
      error = "defining the demo ID types: ";
      error += result.refusal;
      return false;
    }
  }

  // Who is a brand member, as the index holds it: user i's ordinal in the
  // union of the member tags. The loader hands out ordinals in user order,
  // so in an index that was empty before load_population user i is ordinal
  // i: one sequential read of the table's ordinal side instead of a hash
  // probe (a cache miss, ~0.3 us a user at 1M users); a probe when it is
  // not so. Done here, on the writer's thread, so the builder below never
  // touches the index.
  std::vector<bool> member(n);
  {
    const auto view = index.view();
    Bitmap members;
    for (const uint32_t t : ids.member_tags()) {
      if (const auto tag = view->find_tag(population.vocabulary()[t])) {
        roaring_bitmap_or_inplace(members.get(), view->tag(*tag).bits.get());
      }
    }
    const UserTable& users = index.users();
    for (uint64_t i = 0; i < n; ++i) {
      const UserId uid = population.id(i);
      std::optional<Ordinal> ordinal;
      if (i < users.size() && users.external(static_cast<Ordinal>(i)) == uid) {
        ordinal = static_cast<Ordinal>(i);
      } else {
        ordinal = users.find(uid);
      }
      if (!ordinal) {
        error = "demo user ";
        error += std::to_string(i);
        error += " is not in the index";
        return false;
      }
      member[i] = members.contains(*ordinal);
    }
  }

  // A worker builds the next batch (IDs, digests: ~0.4 us a user) while
  // this thread applies the current one (~2.5 us a person: resolving the
  // uid and every key, then linking), so building costs no time.
  std::array<LinkBatch, 2> batches;
  const auto build = [&](uint64_t first, LinkBatch& out) {
    build_link_batch(population, ids, member, first, std::min(n, first + batch_users), out);
  };
  std::thread builder;
  if (n > 0) build(0, batches[0]);
  bool ok = true;
  for (uint64_t first = 0, k = 0; first < n && ok; first += batch_users, ++k) {
    LinkBatch& current = batches[k % 2];
    if (first + batch_users < n) builder = std::thread(build, first + batch_users, std::ref(batches[(k + 1) % 2]));
    WriteResult result;
    if (index.apply(current.batch, result)) {
      stats.users += current.stats.users;
      stats.oaids += current.stats.oaids;
      stats.idfas += current.stats.idfas;
      stats.phones += current.stats.phones;
    } else {
      error = "linking the IDs of demo users from ";
      error += std::to_string(first);
      error += ": ";
      error += result.refusal.empty() ? std::string("the user table is full") : result.refusal;
      ok = false;
    }
    if (builder.joinable()) builder.join();
  }
  return ok;
}

std::optional<CrmList> crm_list(const Population& population, std::string_view brand, double unmatched_share,
                                unsigned threads) {
  std::string tag_name = "member:";
  tag_name += brand;
  const auto& vocabulary = population.vocabulary();
  const auto found = std::find(vocabulary.begin(), vocabulary.end(), tag_name);
  if (found == vocabulary.end()) return std::nullopt;
  const auto tag = static_cast<uint32_t>(found - vocabulary.begin());
  const SyntheticIds ids(population);

  // Each thread takes a contiguous range of users; concatenated in thread
  // order, the members' phones are in user order whatever the thread count.
  threads = std::max(1u, threads);
  struct Part {
    std::vector<PhoneNumber> phones;
    uint64_t members = 0;
  };
  std::vector<Part> parts(threads);
  const auto work = [&](unsigned t) {
    const uint64_t first = population.users() * t / threads;
    const uint64_t end = population.users() * (t + 1) / threads;
    std::vector<uint32_t> tags;
    UserId uid = 0;
    UserIds user_ids;
    for (uint64_t i = first; i < end; ++i) {
      population.user(i, uid, tags);
      if (std::find(tags.begin(), tags.end(), tag) == tags.end()) continue;
      ++parts[t].members;
      ids.user(i, true, user_ids);
      if (user_ids.phone_count > 0) parts[t].phones.push_back(user_ids.phone_numbers[0]);
    }
  };
  std::vector<std::thread> workers;
  for (unsigned t = 1; t < threads; ++t) workers.emplace_back(work, t);
  work(0);
  for (auto& w : workers) w.join();

  CrmList list;
  for (const auto& part : parts) {
    list.members += part.members;
    list.phones.insert(list.phones.end(), part.phones.begin(), part.phones.end());
  }
  list.matching = list.phones.size();
  unmatched_share = std::clamp(unmatched_share, 0.0, 0.99);
  const double extra = static_cast<double>(list.matching) * unmatched_share / (1.0 - unmatched_share);
  list.unmatched = std::min<uint64_t>(static_cast<uint64_t>(extra + 0.5), SyntheticIds::kUnusedPhones);
  // Which unused numbers, and the shuffle: a stream of (seed, brand).
  Rng rng(mix64(population.seed() ^ 0x4352'4d00'0000'0000ULL), tag);
  const uint64_t offset = rng.next() % (SyntheticIds::kUnusedPhones - list.unmatched + 1);
  for (uint64_t j = 0; j < list.unmatched; ++j) list.phones.push_back(ids.unused_phone(offset + j));
  for (std::size_t k = list.phones.size(); k > 1; --k) {  // Fisher-Yates
    const std::size_t pick = static_cast<std::size_t>(rng.next() % k);
    std::swap(list.phones[k - 1], list.phones[pick]);
  }
  return list;
}

}  // namespace crowd::synth
