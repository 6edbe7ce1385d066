// Demo IDs: the device IDs and phones of the synthetic population's users
// (issue 15), so `crowdd --demo` and crowd-gen's files can be matched,
// looked up and exported in a channel's ID type.
//
// The model (rates are the constants below):
//  - devices: 85% of users have one, 8% of all users a second; each is an
//    Android phone (an OAID: a lower-case 36-character UUID) or an iPhone
//    (an IDFA: an upper-case version-4 UUID). The population has no device
//    signal among its tags (its platform:* tags are shopping traits), so a
//    device is Android with probability 65%, independently of the tags;
//  - phones: 95% of brand members (users with any member:<brand> tag: they
//    signed up with a phone) have one, 25% of other users; 3% of holders a
//    second. A phone is an 11-digit mainland mobile number 1[3-9]xxxxxxxxx,
//    stored as phone_sha256: SHA-256 of "86" + the number, exactly what
//    identity::encode_id makes of the number with the phone normalisation.
//
// Like Population::facts, everything comes from a random stream of its own
// keyed by (seed, i), so adding IDs changed nothing the population already
// returned, and a smaller population's IDs are a prefix of a larger one's.
// Phone numbers are a keyed permutation of the user (not drawn), so no two
// users ever share a number (a shared ID would make the two users one
// person, and a batch linking both would be refused); crm_list's numbers
// that match nobody come from a part of the permutation no user reaches.
//
// Also here, as the two clients of the model: link_population_ids (the
// demo's links, after load_population) and crm_list (a brand's CRM upload).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "data/synthetic_population.h"
#include "identity/id_type.h"
#include "index/index.h"

namespace crowd::synth {

// The demo's ID types, by name. demo_id_types() has their definitions.
inline constexpr std::string_view kOaidType = "oaid";
inline constexpr std::string_view kIdfaType = "idfa";
inline constexpr std::string_view kPhoneSha256Type = "phone_sha256";

// The three demo ID types, complete (identity::complete_and_check gives ""),
// in the order above: oaid and idfa strings (max_length 128, the default),
// phone_sha256 a sha256 with the phone normalisation (country code 86).
[[nodiscard]] std::vector<identity::IdType> demo_id_types();

// The rates of the model (probabilities, per user unless said).
inline constexpr double kDeviceRate = 0.85;        // at least one device
inline constexpr double kSecondDeviceRate = 0.08;  // a second device (a subset of the above)
inline constexpr double kAndroidShare = 0.65;      // of devices: Android (OAID), else iOS (IDFA)
inline constexpr double kMemberPhoneRate = 0.95;   // brand members with a phone
inline constexpr double kOtherPhoneRate = 0.25;    // other users with a phone
inline constexpr double kSecondPhoneRate = 0.03;   // of phone holders: a second phone

// A device ID in UUID form (8-4-4-4-12 hex digits with dashes).
using DeviceId = std::array<char, 36>;
// A mainland mobile number in national form: 1[3-9] and 9 more digits.
using PhoneNumber = std::array<char, 11>;

template <std::size_t N>
[[nodiscard]] std::string_view as_text(const std::array<char, N>& id) {
  return {id.data(), N};
}

// One user's IDs. Fixed-size, so a caller looping over users allocates
// nothing.
struct UserIds {
  static constexpr std::size_t kMax = 2;  // of devices in all, and of phones
  uint8_t oaid_count = 0;
  uint8_t idfa_count = 0;
  uint8_t phone_count = 0;
  std::array<DeviceId, kMax> oaid_ids{};
  std::array<DeviceId, kMax> idfa_ids{};
  std::array<PhoneNumber, kMax> phone_numbers{};

  [[nodiscard]] std::span<const DeviceId> oaids() const { return {oaid_ids.data(), oaid_count}; }
  [[nodiscard]] std::span<const DeviceId> idfas() const { return {idfa_ids.data(), idfa_count}; }
  [[nodiscard]] std::span<const PhoneNumber> phones() const { return {phone_numbers.data(), phone_count}; }
  [[nodiscard]] std::size_t count() const { return std::size_t{oaid_count} + idfa_count + phone_count; }
};

// The phone_sha256 key of a national number: the 32 bytes of SHA-256 of
// "86" + number (identity::encode_id(phone_sha256, number, plain = true)'s
// key). ~0.15 us. Its text is the lower-case hex of these bytes.
[[nodiscard]] std::array<uint8_t, 32> phone_sha256(const PhoneNumber& number);

class SyntheticIds {
 public:
  // Numbers crm_list and unused_phone may hand out that no user holds.
  static constexpr uint64_t kUnusedPhones = 557'549'056;

  // O(vocabulary): finds the member:<brand> tags. Keeps no reference to
  // `population`. Immutable: any thread may call the const methods.
  explicit SyntheticIds(const Population& population);

  // Whether user tags (vocabulary indices, as Population::user gives them)
  // make a brand member: any member:<brand> tag. O(tags).
  [[nodiscard]] bool member(std::span<const uint32_t> tags) const;
  // The vocabulary indices of the member:<brand> tags, in vocabulary order.
  [[nodiscard]] std::span<const uint32_t> member_tags() const { return member_tags_; }

  // User i's IDs, given whether it is a brand member (member(tags) of its
  // tags). A pure function of (seed, i, member). ~0.1 us; no allocation.
  void user(uint64_t i, bool is_member, UserIds& out) const;
  void user(uint64_t i, std::span<const uint32_t> tags, UserIds& out) const { user(i, member(tags), out); }

  // A number no user of a population with this seed holds, whatever its
  // size; distinct for distinct j < kUnusedPhones. O(1).
  [[nodiscard]] PhoneNumber unused_phone(uint64_t j) const;

  [[nodiscard]] uint64_t seed() const { return seed_; }

 private:
  [[nodiscard]] PhoneNumber phone(uint64_t slot) const;

  uint64_t seed_;
  uint64_t key_;        // the users' ID stream
  uint64_t phone_key_;  // the phone permutation
  std::vector<uint8_t> is_member_tag_;  // by vocabulary index
  std::vector<uint32_t> member_tags_;
};

// What link_population_ids linked.
struct IdLinkStats {
  uint64_t users = 0;  // users with at least one ID
  uint64_t oaids = 0;
  uint64_t idfas = 0;
  uint64_t phones = 0;
  [[nodiscard]] uint64_t ids() const { return oaids + idfas + phones; }
};

// Defines the demo ID types in `index` and links every user's IDs to it,
// with Index::apply in batches of `batch_users` persons (a person: the
// user's uid, population.id(i), and its keys; users without IDs are left
// out). The population must be loaded already (load_population): a user's
// membership is read from the index's member:<brand> tags, which are the
// ones user() draws from, so the IDs are those of user(i, tags). The
// caller's thread is the writer (serialise with other writers, as
// Store::bulk_load does); one more thread builds the next batch meanwhile.
// False with `error` when a user is not in the index or a batch is refused
// (the types defined otherwise already, an ID linked to another user);
// batches before it stay applied. Linking the same population again changes
// nothing. Cost: ~0.4 us a user to build the batches (off the writer's
// thread) and Index::apply's ~1.3-1.8 us a person (resolving the uid and
// every key, then linking), which bounds it: 1.3-1.8 s at 1M users (1.36M
// IDs, 912k persons).
[[nodiscard]] bool link_population_ids(const Population& population, Index& index, IdLinkStats& stats,
                                       std::string& error, uint64_t batch_users = 100'000);

// A brand's CRM upload: the first phone of every member of member:<brand>
// who has one, plus numbers that match nobody (unused_phone) so that they
// are `unmatched_share` of the list (0.3: a match rate of ~70%), shuffled by
// a stream of (seed, brand). Deterministic. Regenerates every user's tags
// (~0.7 us a user, over `threads` threads).
struct CrmList {
  std::vector<PhoneNumber> phones;
  uint64_t members = 0;    // users with the member tag
  uint64_t matching = 0;   // phones in the list that belong to a member
  uint64_t unmatched = 0;  // phones that match nobody
};
// nullopt when there is no brand `brand` (the name after "member:").
// unmatched_share is clamped to [0, 0.99].
[[nodiscard]] std::optional<CrmList> crm_list(const Population& population, std::string_view brand,
                                              double unmatched_share = 0.3, unsigned threads = 2);

}  // namespace crowd::synth
