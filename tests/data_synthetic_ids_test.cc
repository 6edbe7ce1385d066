// The demo population's IDs (data/synthetic_ids.h): their formats, rates and
// determinism, the phone digest against identity's codec, the CRM list's
// match share, and the links crowdd --demo makes, read back from an index.
// Expectations come from what the IDs mean (a UUID's shape, a mainland
// number, SHA-256 of the normalised phone as identity::encode_id makes it),
// not from the generator's code.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "data/synthetic_ids.h"
#include "data/synthetic_load.h"
#include "data/synthetic_population.h"
#include "data/synthetic_world.h"
#include "identity/digest.h"
#include "identity/id_codec.h"
#include "identity/id_types.h"
#include "index/bulk_loader.h"
#include "index/index.h"

namespace crowd::synth {
namespace {

constexpr uint64_t kUsers = 100'000;

std::string key_of(const std::array<uint8_t, 32>& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

bool is_hex(char c, bool upper) {
  return (c >= '0' && c <= '9') || (upper ? (c >= 'A' && c <= 'F') : (c >= 'a' && c <= 'f'));
}

// 8-4-4-4-12 hex digits of one case, dashes between.
bool uuid_shaped(std::string_view s, bool upper) {
  if (s.size() != 36) return false;
  for (std::size_t k = 0; k < s.size(); ++k) {
    const bool dash = k == 8 || k == 13 || k == 18 || k == 23;
    if (dash ? s[k] != '-' : !is_hex(s[k], upper)) return false;
  }
  return true;
}

bool mainland_mobile(std::string_view s) {
  return s.size() == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9' &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

identity::IdType demo_type(std::string_view name) {
  for (const auto& t : demo_id_types()) {
    if (t.name == name) return t;
  }
  ADD_FAILURE() << "no demo type " << name;
  return {};
}

// Every user's IDs and membership, from user()'s tags.
struct Drawn {
  std::vector<UserIds> ids;
  std::vector<bool> member;
};

const Drawn& drawn() {
  static const Drawn d = [] {
    const Population pop({.users = kUsers, .seed = 42});
    const SyntheticIds gen(pop);
    Drawn out;
    std::vector<uint32_t> tags;
    UserId uid = 0;
    for (uint64_t i = 0; i < kUsers; ++i) {
      pop.user(i, uid, tags);
      out.member.push_back(gen.member(tags));
      gen.user(i, tags, out.ids.emplace_back());
    }
    return out;
  }();
  return d;
}

bool same(const UserIds& a, const UserIds& b) {
  return std::ranges::equal(a.oaids(), b.oaids()) && std::ranges::equal(a.idfas(), b.idfas()) &&
         std::ranges::equal(a.phones(), b.phones());
}

TEST(SyntheticIds, DemoTypesAreTheThreeDocumentedOnes) {
  const auto types = demo_id_types();
  ASSERT_EQ(types.size(), 3u);
  EXPECT_EQ(types[0].name, "oaid");
  EXPECT_EQ(types[0].kind, identity::IdKind::kString);
  EXPECT_EQ(types[1].name, "idfa");
  EXPECT_EQ(types[1].kind, identity::IdKind::kString);
  EXPECT_EQ(types[2].name, "phone_sha256");
  EXPECT_EQ(types[2].kind, identity::IdKind::kSha256);
  EXPECT_EQ(types[2].normalization, identity::Normalization::kPhone);
  EXPECT_EQ(types[2].default_country_code, "86");
  for (auto t : types) {
    const auto copy = t;
    EXPECT_EQ(identity::complete_and_check(t), "") << t.name;
    EXPECT_EQ(t, copy) << t.name << " was not complete";
    EXPECT_EQ(identity::decode_id_type(t.name, identity::encode_id_type(t)), t);
  }
}

TEST(SyntheticIds, DeterministicAndAPrefixOfLargerPopulations) {
  const Population small({.users = 1'000, .seed = 42});
  const Population other_seed({.users = 1'000, .seed = 43});
  const SyntheticIds a(small), b(small), c(other_seed);
  const auto& d = drawn();
  uint64_t differ = 0;
  for (uint64_t i = 0; i < 1'000; ++i) {
    for (const bool m : {false, true}) {
      UserIds x, y, z;
      a.user(i, m, x);
      b.user(i, m, y);
      c.user(i, m, z);
      EXPECT_TRUE(same(x, y)) << i;
      differ += !same(x, z);
      if (m == d.member[i]) {
        EXPECT_TRUE(same(x, d.ids[i])) << i;  // 1,000 users are the first of 100,000
      }
    }
  }
  EXPECT_GT(differ, 1'800u);  // another seed, other IDs (most users have some)
  for (uint64_t j = 0; j < 100; ++j) EXPECT_EQ(a.unused_phone(j), b.unused_phone(j));
}

TEST(SyntheticIds, FormatsAreThoseOfRealIds) {
  for (const auto& ids : drawn().ids) {
    for (const auto& id : ids.oaids()) EXPECT_TRUE(uuid_shaped(as_text(id), false)) << as_text(id);
    for (const auto& id : ids.idfas()) {
      const auto s = as_text(id);
      EXPECT_TRUE(uuid_shaped(s, true)) << s;
      EXPECT_EQ(s[14], '4') << s;                                       // version 4
      EXPECT_NE(std::string_view("89AB").find(s[19]), std::string_view::npos) << s;  // variant 10xx
    }
    for (const auto& p : ids.phones()) EXPECT_TRUE(mainland_mobile(as_text(p))) << as_text(p);
    // Valid IDs of their types.
    for (const auto& id : ids.oaids()) EXPECT_TRUE(identity::encode_id(demo_type("oaid"), as_text(id), false).ok());
    for (const auto& id : ids.idfas()) EXPECT_TRUE(identity::encode_id(demo_type("idfa"), as_text(id), false).ok());
  }
}

TEST(SyntheticIds, RatesMatchTheModel) {
  const auto& d = drawn();
  double devices = 0, second_device = 0, android = 0, all_devices = 0;
  double members = 0, member_phones = 0, others = 0, other_phones = 0, holders = 0, second_phone = 0;
  std::vector<uint64_t> second_digit(10);
  for (uint64_t i = 0; i < kUsers; ++i) {
    const auto& ids = d.ids[i];
    const auto n = ids.oaid_count + ids.idfa_count;
    devices += n >= 1;
    second_device += n == 2;
    android += ids.oaid_count;
    all_devices += n;
    (d.member[i] ? members : others) += 1;
    (d.member[i] ? member_phones : other_phones) += ids.phone_count > 0;
    holders += ids.phone_count > 0;
    second_phone += ids.phone_count == 2;
    for (const auto& p : ids.phones()) ++second_digit[p[1] - '0'];
  }
  const double n = kUsers;
  EXPECT_NEAR(devices / n, kDeviceRate, 0.01);
  EXPECT_NEAR(second_device / n, kSecondDeviceRate, 0.005);
  EXPECT_NEAR(android / all_devices, kAndroidShare, 0.01);
  ASSERT_GT(members, 1'000);  // enough to judge a rate
  EXPECT_NEAR(member_phones / members, kMemberPhoneRate, 0.015);
  EXPECT_NEAR(other_phones / others, kOtherPhoneRate, 0.01);
  EXPECT_NEAR(second_phone / holders, kSecondPhoneRate, 0.004);
  // Numbers spread over 13x..19x alike.
  for (int digit = 3; digit <= 9; ++digit) {
    EXPECT_NEAR(static_cast<double>(second_digit[digit]) / (holders + second_phone), 1.0 / 7, 0.01) << digit;
  }
  std::cout << "members " << members / n << ", phone holders " << holders / n << ", IDs a user "
            << (all_devices + holders + second_phone) / n << "\n";
}

TEST(SyntheticIds, MembershipComesFromMemberTags) {
  const Population pop({.users = 2'000, .seed = 42});
  const SyntheticIds gen(pop);
  EXPECT_EQ(gen.member_tags().size(), world::brands().size());
  for (const uint32_t t : gen.member_tags()) EXPECT_TRUE(pop.vocabulary()[t].starts_with("member:"));
  std::vector<uint32_t> tags;
  UserId uid = 0;
  for (uint64_t i = 0; i < pop.users(); ++i) {
    pop.user(i, uid, tags);
    const bool any = std::any_of(tags.begin(), tags.end(),
                                 [&](uint32_t t) { return pop.vocabulary()[t].starts_with("member:"); });
    EXPECT_EQ(gen.member(tags), any) << i;
    UserIds x, y;
    gen.user(i, tags, x);
    gen.user(i, any, y);
    EXPECT_TRUE(same(x, y)) << i;
  }
}

// What a brand's CRM system uploads with "hash": true is the national
// number; the server normalises it to 86 + number and digests it. Ours must
// be the same bytes, and so must what a brand hashes itself.
TEST(SyntheticIds, PhoneKeyIsTheCodecsDigestOfTheNormalisedNumber) {
  const auto type = demo_type("phone_sha256");
  uint64_t checked = 0;
  for (const auto& ids : drawn().ids) {
    for (const auto& p : ids.phones()) {
      const auto key = key_of(phone_sha256(p));
      const auto plain = identity::encode_id(type, as_text(p), true);
      ASSERT_TRUE(plain.ok()) << plain.error;
      EXPECT_EQ(plain.key, key);
      // As a brand would write it, and as its hex.
      std::string international = "+86 ";
      international += as_text(p);
      EXPECT_EQ(identity::encode_id(type, international, true).key, key);
      const auto hex = identity::sha256_hex(std::string("86") + std::string(as_text(p)));
      EXPECT_EQ(identity::encode_id(type, hex, false).key, key);
      if (++checked == 2'000) return;
    }
  }
  FAIL() << "too few phones";
}

TEST(SyntheticIds, NoTwoUsersShareAnIdAndUnusedPhonesMatchNobody) {
  std::unordered_set<std::string> seen;
  uint64_t total = 0;
  for (const auto& ids : drawn().ids) {
    for (const auto& id : ids.oaids()) seen.emplace(as_text(id));
    for (const auto& id : ids.idfas()) seen.emplace(as_text(id));
    for (const auto& p : ids.phones()) seen.emplace(as_text(p));
    total += ids.count();
  }
  EXPECT_EQ(seen.size(), total);
  const Population pop({.users = 10, .seed = 42});
  const SyntheticIds gen(pop);
  std::unordered_set<std::string> unused;
  for (uint64_t j = 0; j < 50'000; ++j) {
    const auto p = gen.unused_phone(j);
    EXPECT_TRUE(mainland_mobile(as_text(p)));
    EXPECT_EQ(seen.count(std::string(as_text(p))), 0u) << j;
    unused.emplace(as_text(p));
  }
  EXPECT_EQ(unused.size(), 50'000u);
}

TEST(SyntheticIds, CrmListIsTheMembersPhonesAndAShareOfStrangers) {
  const Population pop({.users = kUsers, .seed = 42});
  const auto& d = drawn();
  // Phone -> user, over every user.
  std::unordered_map<std::string, uint64_t> owner;
  for (uint64_t i = 0; i < kUsers; ++i) {
    for (const auto& p : d.ids[i].phones()) owner.emplace(as_text(p), i);
  }
  EXPECT_FALSE(crm_list(pop, "no_such_brand").has_value());
  const auto brand = std::string(world::brands()[0].name);
  const auto list = crm_list(pop, brand, 0.3, 3);
  ASSERT_TRUE(list.has_value());

  // The members and their phones, independently.
  const auto tag = std::find(pop.vocabulary().begin(), pop.vocabulary().end(), "member:" + brand) -
                   pop.vocabulary().begin();
  std::vector<uint32_t> tags;
  UserId uid = 0;
  uint64_t members = 0;
  std::set<std::string> expected;
  for (uint64_t i = 0; i < kUsers; ++i) {
    pop.user(i, uid, tags);
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) continue;
    ++members;
    if (d.ids[i].phone_count > 0) expected.emplace(as_text(d.ids[i].phones()[0]));
  }
  ASSERT_GT(members, 500u);
  EXPECT_EQ(list->members, members);
  EXPECT_EQ(list->matching, expected.size());
  EXPECT_NEAR(static_cast<double>(list->matching) / members, kMemberPhoneRate, 0.03);
  EXPECT_EQ(list->phones.size(), list->matching + list->unmatched);

  uint64_t matched = 0;
  std::set<std::string> listed;
  for (const auto& p : list->phones) {
    const std::string s(as_text(p));
    EXPECT_TRUE(mainland_mobile(s));
    listed.insert(s);
    if (owner.count(s) != 0) {
      ++matched;
      EXPECT_EQ(expected.count(s), 1u) << "a phone of a non-member";
    }
  }
  EXPECT_EQ(listed.size(), list->phones.size()) << "duplicates";
  EXPECT_EQ(matched, list->matching);
  EXPECT_NEAR(static_cast<double>(matched) / static_cast<double>(list->phones.size()), 0.7, 0.002);
  // Shuffled: the strangers are not all at the end.
  const auto tail = std::count_if(list->phones.end() - static_cast<std::ptrdiff_t>(list->unmatched),
                                  list->phones.end(), [&](const PhoneNumber& p) {
                                    return owner.count(std::string(as_text(p))) == 0;
                                  });
  EXPECT_LT(static_cast<double>(tail), 0.5 * static_cast<double>(list->unmatched));

  // The same list whatever the thread count; other brands, other lists.
  const auto again = crm_list(pop, brand, 0.3, 1);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->phones, list->phones);
  const auto none = crm_list(pop, brand, 0.0, 2);
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->unmatched, 0u);
  EXPECT_EQ(none->phones.size(), none->matching);
}

// What crowdd --demo does after the bulk load, on 10,000 users: every key
// of every user is found in its space and owned by the user's ordinal.
TEST(SyntheticIds, LinkPopulationIdsLinksEveryUsersKeys) {
  const Population pop({.users = 10'000, .seed = 42});
  Index index;
  {
    BulkLoader loader(index);
    ASSERT_TRUE(load_population(pop, loader, 2).has_value());
    loader.finish();
  }
  IdLinkStats stats;
  std::string error;
  ASSERT_TRUE(link_population_ids(pop, index, stats, error, 3'000)) << error;  // 4 batches, the last short
  const auto view = index.view();

  // The types are defined as demo_id_types() says.
  const identity::IdTypes types(*view);
  ASSERT_EQ(types.all().size(), 3u);
  for (const auto& t : demo_id_types()) {
    const auto* defined = types.find(t.name);
    ASSERT_NE(defined, nullptr) << t.name;
    EXPECT_EQ(defined->type, t);
  }
  const IdSpace* oaid = view->id_spaces().find("oaid");
  const IdSpace* idfa = view->id_spaces().find("idfa");
  const IdSpace* phone = view->id_spaces().find("phone_sha256");
  ASSERT_TRUE(oaid && idfa && phone);
  EXPECT_EQ(oaid->size(), stats.oaids);
  EXPECT_EQ(idfa->size(), stats.idfas);
  EXPECT_EQ(phone->size(), stats.phones);
  EXPECT_GT(stats.users, 9'000u);

  const SyntheticIds gen(pop);
  std::vector<uint32_t> tags;
  UserId uid = 0;
  uint64_t keys = 0;
  for (uint64_t i = 0; i < pop.users(); ++i) {
    pop.user(i, uid, tags);
    const auto ordinal = index.users().find(uid);
    ASSERT_TRUE(ordinal.has_value()) << i;
    UserIds ids;
    gen.user(i, tags, ids);
    for (const auto& id : ids.oaids()) EXPECT_EQ(oaid->find(as_text(id)), ordinal) << i;
    for (const auto& id : ids.idfas()) EXPECT_EQ(idfa->find(as_text(id)), ordinal) << i;
    for (const auto& p : ids.phones()) EXPECT_EQ(phone->find(key_of(phone_sha256(p))), ordinal) << i;
    // And through the codec, as a request naming the ID would.
    for (const auto& id : ids.oaids()) {
      EXPECT_EQ(view->owner(*oaid, identity::encode_id(demo_type("oaid"), as_text(id), false).key), ordinal);
    }
    for (const auto& p : ids.phones()) {
      EXPECT_EQ(view->owner(*phone, identity::encode_id(demo_type("phone_sha256"), as_text(p), true).key), ordinal);
    }
    keys += ids.count();
  }
  EXPECT_EQ(keys, stats.ids());
  // Linking again (the same types, the same users' IDs) changes nothing.
  IdLinkStats again;
  EXPECT_TRUE(link_population_ids(pop, index, again, error)) << error;
  EXPECT_EQ(index.view()->id_spaces().find("oaid")->size(), stats.oaids);
}

}  // namespace
}  // namespace crowd::synth
