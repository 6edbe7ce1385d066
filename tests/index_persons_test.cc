// Persons in a WriteBatch (issue 15): users named by their IDs in ID spaces,
// resolved, linked, refused on conflict and erased with every ID -- checked
// case by case and against an independent model on random batches.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "index/index.h"
#include "index/store.h"
#include "index/system_view.h"
#include "tests/support/index_test_util.h"

namespace crowd {
namespace {

// Two spaces: "dev" keys of 8 bytes, "oaid" keys of any length.
constexpr std::size_t kDevWidth = 8;

std::string dev(int n) {
  std::string k = test::numbered("dev", static_cast<uint64_t>(n));
  k.resize(kDevWidth, '.');
  return k;
}
std::string oaid(int n) { return test::numbered("oaid-", static_cast<uint64_t>(n)); }

struct PersonSpec {
  std::optional<UserId> uid;
  std::vector<std::pair<std::string, std::string>> keys;  // (space, key)
  std::vector<std::string> tags;                          // added; none and !erase: a remove of "x"
  bool erase = false;
};

WriteBatch batch_of(const std::vector<PersonSpec>& persons, bool define = true) {
  WriteBatch b;
  if (define) {
    b.define_space(b.intern_space("dev"), kDevWidth);
    b.define_space(b.intern_space("oaid"), 0);
  }
  for (const auto& spec : persons) {
    const auto p = b.add_person(spec.uid);
    for (const auto& [space, key] : spec.keys) b.add_person_key(b.intern_space(space), key);
    std::vector<uint32_t> tags;
    for (const auto& t : spec.tags) tags.push_back(b.intern(t));
    if (spec.erase) {
      b.erase(p);
    } else if (!tags.empty()) {
      b.add(p, tags);
    } else {
      const uint32_t x = b.intern("x");
      b.remove(p, std::span(&x, 1));
    }
  }
  return b;
}

std::optional<Ordinal> owner(const Index& index, std::string_view space, std::string_view key) {
  const auto v = index.view();
  const IdSpace* s = v->id_spaces().find(space);
  return s != nullptr ? v->owner(*s, key) : std::nullopt;
}

bool has_tag(const Index& index, Ordinal o, std::string_view tag) {
  const auto v = index.view();
  const auto id = v->find_tag(tag);
  return id && v->tag(*id).bits.contains(o);
}

WriteResult must_apply(Index& index, const WriteBatch& b) {
  WriteResult r;
  EXPECT_TRUE(index.apply(b, r)) << r.refusal;
  return r;
}

TEST(Persons, NewIdsMakeAUserWithoutUid) {
  Index index;
  const auto r = must_apply(index, batch_of({{std::nullopt, {{"dev", dev(1)}, {"oaid", oaid(1)}}, {"t"}}}));
  EXPECT_EQ(r.linked, 2u);
  const auto o = owner(index, "dev", dev(1));
  ASSERT_TRUE(o);
  EXPECT_EQ(owner(index, "oaid", oaid(1)), o);
  EXPECT_TRUE(index.view()->uidless().bits.contains(*o));
  EXPECT_TRUE(index.view()->universe().bits.contains(*o));
  EXPECT_TRUE(has_tag(index, *o, "t"));
  EXPECT_FALSE(index.users().find(0));  // a uid-less user is not uid 0
}

TEST(Persons, AUidAndIdsAreOneUser) {
  Index index;
  ASSERT_TRUE(index.apply(test::add_batch(42, {"a"}), *std::make_unique<WriteResult>()));
  must_apply(index, batch_of({{42, {{"oaid", oaid(1)}}, {"b"}}}));
  const auto o = owner(index, "oaid", oaid(1));
  ASSERT_TRUE(o);
  EXPECT_EQ(index.users().find(42), o);
  EXPECT_FALSE(index.view()->uidless().bits.contains(*o));
  EXPECT_TRUE(has_tag(index, *o, "a"));
  EXPECT_TRUE(has_tag(index, *o, "b"));
  EXPECT_EQ(index.view()->universe().cardinality, 1u);
}

TEST(Persons, AKnownIdLinksTheNewOnesAndAUserMayHoldTwoOfAType) {
  Index index;
  must_apply(index, batch_of({{std::nullopt, {{"dev", dev(1)}}, {"a"}}}));
  const auto r = must_apply(index, batch_of({{std::nullopt, {{"dev", dev(1)}, {"dev", dev(2)}, {"oaid", oaid(9)}}, {"b"}}}));
  EXPECT_EQ(r.linked, 2u);
  const auto o = owner(index, "dev", dev(1));
  EXPECT_EQ(owner(index, "dev", dev(2)), o);
  EXPECT_EQ(owner(index, "oaid", oaid(9)), o);
  EXPECT_EQ(index.view()->universe().cardinality, 1u);
  std::vector<std::string> keys;
  index.view()->id_spaces().find("dev")->for_each_key(*o, [&](std::string_view k) { keys.emplace_back(k); });
  EXPECT_EQ(keys, (std::vector<std::string>{dev(1), dev(2)}));
}

TEST(Persons, AUserWithoutUidIsGivenTheUidThatComesWithItsIds) {
  Index index;
  must_apply(index, batch_of({{std::nullopt, {{"oaid", oaid(1)}}, {"a"}}}));
  const auto o = owner(index, "oaid", oaid(1));
  must_apply(index, batch_of({{77, {{"oaid", oaid(1)}}, {"b"}}}));
  EXPECT_EQ(index.users().find(77), o);
  EXPECT_EQ(index.view()->external(*o), 77u);
  EXPECT_FALSE(index.view()->uidless().bits.contains(*o));
}

void expect_refused(Index& index, const WriteBatch& b, uint32_t person, std::string_view why_contains) {
  const auto before = index.view();
  const auto dev_size = before->id_spaces().find("dev") ? before->id_spaces().find("dev")->size() : 0;
  const auto users = index.users().size();
  WriteResult r;
  EXPECT_FALSE(index.apply(b, r));
  EXPECT_EQ(r.refused_person, person);
  EXPECT_NE(r.refusal.find(why_contains), std::string::npos) << r.refusal;
  EXPECT_EQ(index.view(), before);
  EXPECT_EQ(index.users().size(), users);
  if (const auto* s = before->id_spaces().find("dev")) {
    EXPECT_EQ(s->size(), dev_size);
  }
  WriteResult checked;
  EXPECT_FALSE(index.check(b, checked));
  EXPECT_EQ(checked.refusal, r.refusal);
}

TEST(Persons, IdsOfTwoUsersAreAConflictAndNothingChanges) {
  Index index;
  must_apply(index, batch_of({{std::nullopt, {{"dev", dev(1)}}, {"a"}}, {std::nullopt, {{"dev", dev(2)}}, {"a"}}}));
  // The first person is fine, the second joins the two users: all refused.
  expect_refused(index,
                 batch_of({{std::nullopt, {{"dev", dev(3)}}, {"b"}}, {std::nullopt, {{"dev", dev(1)}, {"dev", dev(2)}}, {"b"}}}),
                 1, "2 different users");
  EXPECT_FALSE(owner(index, "dev", dev(3)));
}

TEST(Persons, AUidOfOneUserAndAnIdOfAnotherConflict) {
  Index index;
  ASSERT_TRUE(index.apply(test::add_batch(5, {"a"}), *std::make_unique<WriteResult>()));
  must_apply(index, batch_of({{std::nullopt, {{"oaid", oaid(1)}}, {"a"}}}));
  expect_refused(index, batch_of({{5, {{"oaid", oaid(1)}}, {"b"}}}), 0, "different users");
}

TEST(Persons, AUserKeepsItsUid) {
  Index index;
  must_apply(index, batch_of({{5, {{"oaid", oaid(1)}}, {"a"}}}));
  expect_refused(index, batch_of({{6, {{"oaid", oaid(1)}}, {"b"}}}), 0, "another uid");
}

TEST(Persons, LinksEarlierInTheBatchCount) {
  Index index;
  // p0 and p1 are new users; p2 names an ID of each.
  expect_refused(index,
                 batch_of({{std::nullopt, {{"dev", dev(1)}}, {"a"}},
                           {std::nullopt, {{"dev", dev(2)}}, {"a"}},
                           {std::nullopt, {{"dev", dev(1)}, {"dev", dev(2)}}, {"a"}}}),
                 2, "different users");
  // p1 reaches p0's new user through dev(1) and gives it a uid.
  must_apply(index, batch_of({{std::nullopt, {{"dev", dev(1)}}, {"a"}}, {9, {{"dev", dev(1)}, {"oaid", oaid(1)}}, {"b"}}}));
  const auto o = owner(index, "oaid", oaid(1));
  EXPECT_EQ(owner(index, "dev", dev(1)), o);
  EXPECT_EQ(index.users().find(9), o);
  EXPECT_EQ(index.view()->universe().cardinality, 1u);
  EXPECT_TRUE(index.view()->uidless().bits.empty());
}

TEST(Persons, SpacesMustExistAndKeysFitThem) {
  Index index;
  expect_refused(index, batch_of({{std::nullopt, {{"imei", "x"}}, {"a"}}}), 0, "unknown ID space");
  expect_refused(index, batch_of({{std::nullopt, {{"dev", "short"}}, {"a"}}}), 0, "a key of 5 bytes");
  must_apply(index, batch_of({}));
  WriteBatch again;
  again.define_space(again.intern_space("dev"), kDevWidth);  // the same width: a no-op
  must_apply(index, again);
  WriteBatch wider;
  wider.define_space(wider.intern_space("dev"), 16);
  expect_refused(index, wider, 0, "exists with keys of 8 bytes");
}

TEST(Persons, ErasingAPersonUnlinksEveryIdAndForgetsTheUid) {
  Index index;
  must_apply(index, batch_of({{3, {{"dev", dev(1)}, {"oaid", oaid(1)}, {"oaid", oaid(2)}}, {"a"}}}));
  const auto o = *owner(index, "dev", dev(1));
  const auto r = must_apply(index, batch_of({{std::nullopt, {{"oaid", oaid(2)}}, {}, true}}));
  EXPECT_EQ(r.erased, 1u);
  EXPECT_FALSE(owner(index, "dev", dev(1)));
  EXPECT_FALSE(owner(index, "oaid", oaid(1)));
  EXPECT_EQ(index.view()->id_spaces().find("oaid")->size(), 0u);
  EXPECT_FALSE(index.users().find(3));
  EXPECT_FALSE(index.view()->universe().bits.contains(o));
  EXPECT_FALSE(has_tag(index, o, "a"));
  // The IDs come back as a new user.
  must_apply(index, batch_of({{std::nullopt, {{"dev", dev(1)}}, {"b"}}}));
  EXPECT_NE(owner(index, "dev", dev(1)), o);
}

TEST(Persons, ErasingByUidUnlinksTheIdsToo) {
  Index index;
  must_apply(index, batch_of({{3, {{"dev", dev(1)}}, {"a"}}}));
  WriteBatch gone;
  gone.erase(UserId{3});
  must_apply(index, gone);
  EXPECT_FALSE(owner(index, "dev", dev(1)));
  EXPECT_EQ(index.view()->id_spaces().find("dev")->size(), 0u);
}

TEST(Persons, ErasingSomeoneUnknownErasesNobody) {
  Index index;
  must_apply(index, batch_of({{std::nullopt, {{"dev", dev(1)}}, {"a"}}}));
  EXPECT_TRUE(index.erases_nobody(batch_of({{std::nullopt, {{"dev", dev(2)}}, {}, true}}, false)));
  EXPECT_FALSE(index.erases_nobody(batch_of({{std::nullopt, {{"dev", dev(1)}}, {}, true}}, false)));
  // A remove of an unknown person makes no user and links nothing.
  must_apply(index, batch_of({{std::nullopt, {{"dev", dev(5)}}, {}}}, false));
  EXPECT_FALSE(index.view()->id_spaces().find("dev")->find(dev(5)));
  EXPECT_EQ(index.users().size(), 1u);
}

TEST(Persons, EncodeDecodeKeepsPersonsAndSpaces) {
  const WriteBatch b = batch_of({{7, {{"dev", dev(1)}, {"oaid", oaid(1)}}, {"a", "b"}},
                                 {std::nullopt, {{"oaid", std::string("\0\x01z", 3)}}, {}, true}});
  std::string bytes;
  b.encode(bytes);
  WriteBatch back;
  ASSERT_TRUE(back.decode(bytes));
  std::string again;
  back.encode(again);
  EXPECT_EQ(again, bytes);
  ASSERT_EQ(back.persons().size(), 2u);
  EXPECT_TRUE(back.persons()[0].has_uid);
  EXPECT_EQ(back.persons()[0].uid, 7u);
  EXPECT_FALSE(back.persons()[1].has_uid);
  EXPECT_EQ(back.key(back.keys_of(back.persons()[1])[0]), std::string("\0\x01z", 3));
  EXPECT_EQ(back.ops()[2].person, 0u);
  // Every strict prefix is refused, never misread.
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    WriteBatch cut;
    EXPECT_FALSE(cut.decode(std::string_view(bytes).substr(0, n))) << n;
  }
}

// Results flowing back (issue 16) name users by their IDs but must never
// make one: an existing-only person that resolves to nobody does nothing.
TEST(Persons, AnExistingOnlyPersonNeverMakesAUser) {
  Index index;
  must_apply(index, batch_of({{std::nullopt, {{"oaid", oaid(1)}}, {"a"}}}));
  WriteBatch b;
  for (int n : {1, 2}) {
    const auto p = b.add_person(std::nullopt, /*existing_only=*/true);
    b.add_person_key(b.intern_space("oaid"), oaid(n));
    const uint32_t t = b.intern("click");
    b.add(p, std::span(&t, 1));
    b.set_value(p, b.intern("clicks"), 3);
  }
  const auto r = must_apply(index, b);
  EXPECT_EQ(r.linked, 0u);
  EXPECT_EQ(index.view()->universe().cardinality, 1u);
  EXPECT_FALSE(owner(index, "oaid", oaid(2)));
  const auto o = owner(index, "oaid", oaid(1));
  ASSERT_TRUE(o);
  EXPECT_TRUE(has_tag(index, *o, "click"));
  const auto clicks = index.view()->system().attribute("clicks");
  ASSERT_TRUE(clicks);
  EXPECT_EQ(clicks->exists->cardinality, 1u);
  // The flag survives the log.
  std::string bytes;
  b.encode(bytes);
  WriteBatch back;
  ASSERT_TRUE(back.decode(bytes));
  ASSERT_EQ(back.persons().size(), 2u);
  EXPECT_TRUE(back.persons()[0].existing_only);
  std::string again;
  back.encode(again);
  EXPECT_EQ(again, bytes);
}

TEST(Persons, ABatchWithoutPersonsEncodesAsBefore) {
  const WriteBatch b = test::add_batch(1, {"a"});
  std::string bytes;
  b.encode(bytes);
  // u32 names, u32 len, "a", u32 ops, u8 kind, u64 user, u32 count, u32 tag.
  EXPECT_EQ(bytes.size(), 4u + 4 + 1 + 4 + 1 + 8 + 4 + 4);
  // An empty persons section (no spaces, no persons) is never written, so a
  // record carrying one is not read either: every record has one spelling
  // (found by fuzz-wal).
  std::string padded = bytes;
  padded.append(8, '\0');
  WriteBatch back;
  EXPECT_FALSE(back.decode(padded));
  EXPECT_TRUE(back.decode(bytes));
}

TEST(Persons, AStoreRefusesAConflictBeforeTheLogAndReplaysLinks) {
  const test::TempDir dir;
  StoreOptions options;
  options.data_dir = dir.path();
  std::string error;
  {
    auto store = Store::open(options, error);
    ASSERT_TRUE(store) << error;
    WriteResult r;
    ASSERT_EQ(store->write(batch_of({{1, {{"dev", dev(1)}}, {"a"}}, {std::nullopt, {{"oaid", oaid(2)}}, {"a"}}}), r),
              WriteStatus::kOk);
    ASSERT_EQ(store->write(batch_of({{std::nullopt, {{"dev", dev(1)}, {"oaid", oaid(2)}}, {"b"}}}, false), r),
              WriteStatus::kConflict);
    EXPECT_EQ(r.refused_person, 0u);
    ASSERT_EQ(store->write(batch_of({{std::nullopt, {{"dev", dev(1)}, {"dev", dev(3)}}, {"b"}}}, false), r),
              WriteStatus::kOk);
  }
  auto store = Store::open(options, error);
  ASSERT_TRUE(store) << error;
  const auto v = store->view();
  const IdSpace* devs = v->id_spaces().find("dev");
  ASSERT_NE(devs, nullptr);
  const auto one = v->owner(*devs, dev(1));
  ASSERT_TRUE(one);
  EXPECT_EQ(v->owner(*devs, dev(3)), one);
  EXPECT_EQ(store->index().users().find(1), one);
  const auto two = v->owner(*v->id_spaces().find("oaid"), oaid(2));
  ASSERT_TRUE(two);
  EXPECT_NE(two, one);
  EXPECT_TRUE(v->uidless().bits.contains(*two));
  EXPECT_EQ(v->universe().cardinality, 2u);
}

// A merge batch: the users of `from`'s and `into`'s IDs become one.
WriteBatch merge_of(const std::pair<std::string, std::string>& from, const std::pair<std::string, std::string>& into) {
  WriteBatch b;
  const auto f = b.add_person(std::nullopt);
  b.add_person_key(b.intern_space(from.first), from.second);
  const auto i = b.add_person(std::nullopt);
  b.add_person_key(b.intern_space(into.first), into.second);
  b.merge(f, i);
  return b;
}

std::optional<int64_t> value_of(const Index& index, Ordinal o, std::string_view attribute) {
  const auto v = index.view();
  const auto slices = v->system().attribute(attribute);
  if (!slices || !slices->exists->bits.contains(o)) return std::nullopt;
  uint64_t bits = 0;
  for (int b = 0; b < AttributeSlices::kBits; ++b) {
    if (slices->bits[b] != nullptr && slices->bits[b]->bits.contains(o)) bits |= uint64_t{1} << b;
  }
  return AttributeSlices::from_offset_binary(bits);
}

TEST(Persons, MergeUnitesTagsValuesAndIds) {
  Index index;
  WriteBatch setup = batch_of({{std::nullopt, {{"dev", dev(1)}, {"oaid", oaid(1)}}, {"a", "shared"}},
                               {8, {{"oaid", oaid(2)}}, {"b", "shared"}}});
  const uint32_t spend = setup.intern("spend");
  const uint32_t age = setup.intern("age");
  setup.set_value(WriteBatch::PersonRef{0}, spend, 100);
  setup.set_value(WriteBatch::PersonRef{0}, age, -3);
  setup.set_value(WriteBatch::PersonRef{1}, spend, 7);
  must_apply(index, setup);
  const Ordinal from = *owner(index, "dev", dev(1));
  const Ordinal into = *owner(index, "oaid", oaid(2));
  const auto r = must_apply(index, merge_of({"oaid", oaid(1)}, {"oaid", oaid(2)}));
  EXPECT_EQ(r.linked, 2u);
  EXPECT_EQ(owner(index, "dev", dev(1)), into);
  EXPECT_EQ(owner(index, "oaid", oaid(1)), into);
  EXPECT_TRUE(has_tag(index, into, "a"));
  EXPECT_TRUE(has_tag(index, into, "b"));
  EXPECT_TRUE(has_tag(index, into, "shared"));
  EXPECT_FALSE(has_tag(index, from, "a"));
  EXPECT_FALSE(index.view()->universe().bits.contains(from));
  EXPECT_EQ(index.view()->universe().cardinality, 1u);
  EXPECT_EQ(value_of(index, into, "spend"), 7);  // into's own value stays
  EXPECT_EQ(value_of(index, into, "age"), -3);   // from's fills in
  EXPECT_FALSE(value_of(index, from, "spend"));
  EXPECT_EQ(index.users().find(8), into);
}

TEST(Persons, MergeMovesTheUidToAUserWithout) {
  Index index;
  must_apply(index, batch_of({{5, {{"dev", dev(1)}}, {"a"}}, {std::nullopt, {{"oaid", oaid(1)}}, {"b"}}}));
  const Ordinal into = *owner(index, "oaid", oaid(1));
  must_apply(index, merge_of({"dev", dev(1)}, {"oaid", oaid(1)}));
  EXPECT_EQ(index.users().find(5), into);
  EXPECT_EQ(index.view()->external(into), 5u);
  EXPECT_FALSE(index.view()->uidless().bits.contains(into));
  EXPECT_TRUE(index.view()->uidless().bits.empty());
}

TEST(Persons, MergingTwoUsersWithUidsIsRefused) {
  Index index;
  must_apply(index, batch_of({{5, {{"dev", dev(1)}}, {"a"}}, {6, {{"oaid", oaid(1)}}, {"b"}}}));
  expect_refused(index, merge_of({"dev", dev(1)}, {"oaid", oaid(1)}), 0, "both users have a uid");
}

TEST(Persons, MergeEncodesAndDecodes) {
  const WriteBatch b = merge_of({"dev", dev(1)}, {"oaid", oaid(1)});
  std::string bytes;
  b.encode(bytes);
  WriteBatch back;
  ASSERT_TRUE(back.decode(bytes));
  ASSERT_EQ(back.ops().size(), 1u);
  EXPECT_EQ(back.ops()[0].kind, WriteBatch::Kind::kMerge);
  EXPECT_EQ(back.ops()[0].person, 0u);
  EXPECT_EQ(back.ops()[0].value, 1);
}

// ---- An independent model: users as sets of IDs, resolved by the rules of
// person_resolver.h, on random batches over small pools of IDs.

struct ModelUser {
  std::optional<UserId> uid;
  std::set<std::pair<std::string, std::string>> keys;
  std::set<std::string> tags;
  bool alive = true;
};

struct Model {
  std::vector<ModelUser> users;
  std::map<std::pair<std::string, std::string>, std::size_t> key_owner;
  std::map<UserId, std::size_t> uid_owner;

  // Applies the batch's persons and ops; false (and unchanged) on conflict.
  bool apply(const std::vector<PersonSpec>& persons) {
    Model next = *this;
    std::vector<std::optional<std::size_t>> target(persons.size());
    for (std::size_t p = 0; p < persons.size(); ++p) {
      const auto& spec = persons[p];
      std::set<std::size_t> found;
      if (spec.uid) {
        if (const auto it = next.uid_owner.find(*spec.uid); it != next.uid_owner.end()) found.insert(it->second);
      }
      for (const auto& k : spec.keys) {
        if (const auto it = next.key_owner.find(k); it != next.key_owner.end()) found.insert(it->second);
      }
      if (found.size() > 1) return false;
      std::size_t u = 0;
      if (found.size() == 1) {
        u = *found.begin();
        if (spec.uid && next.users[u].uid && *next.users[u].uid != *spec.uid) return false;
      } else if (!spec.tags.empty()) {
        u = next.users.size();
        next.users.emplace_back();
      } else {
        continue;
      }
      target[p] = u;
      if (spec.uid) {
        next.users[u].uid = spec.uid;
        next.uid_owner[*spec.uid] = u;
      }
      for (const auto& k : spec.keys) {
        next.users[u].keys.insert(k);
        next.key_owner[k] = u;
      }
    }
    for (std::size_t p = 0; p < persons.size(); ++p) {
      if (!target[p]) continue;
      ModelUser& user = next.users[*target[p]];
      if (persons[p].erase) {
        if (!user.alive) continue;
        for (const auto& k : user.keys) next.key_owner.erase(k);
        if (user.uid) next.uid_owner.erase(*user.uid);
        user = ModelUser();
        user.alive = false;
      } else if (!persons[p].tags.empty()) {
        user.alive = true;
        user.tags.insert(persons[p].tags.begin(), persons[p].tags.end());
      }
    }
    *this = std::move(next);
    return true;
  }
};

TEST(Persons, RandomBatchesMatchTheModel) {
  std::mt19937_64 rng(20261207);
  Index index;
  ASSERT_TRUE(index.apply(batch_of({}), *std::make_unique<WriteResult>()));
  Model model;
  int refused = 0;
  for (int round = 0; round < 400; ++round) {
    std::vector<PersonSpec> persons(1 + rng() % 4);
    for (auto& spec : persons) {
      if (rng() % 3 == 0) spec.uid = rng() % 12;
      const auto keys = rng() % 3;
      for (uint64_t k = 0; k < keys; ++k) {
        const int n = static_cast<int>(rng() % 25);
        spec.keys.emplace_back(rng() % 2 ? std::pair<std::string, std::string>{"dev", dev(n)}
                                          : std::pair<std::string, std::string>{"oaid", oaid(n)});
      }
      if (rng() % 10 == 0) {
        spec.erase = true;
      } else if (rng() % 8 != 0) {
        spec.tags.push_back(test::numbered("t", rng() % 3));
      }
    }
    const bool model_ok = model.apply(persons);
    WriteResult r;
    const bool ok = index.apply(batch_of(persons, false), r);
    ASSERT_EQ(ok, model_ok) << "round " << round << ": " << r.refusal;
    if (!ok) ++refused;

    // Every key: owned in the index exactly when in the model, and the
    // model's users are distinct users of the index, with their uid and tags.
    const auto v = index.view();
    std::map<std::size_t, Ordinal> ordinal_of;
    std::set<Ordinal> seen;
    for (int n = 0; n < 25; ++n) {
      for (const auto& k : {std::pair<std::string, std::string>{"dev", dev(n)}, {"oaid", oaid(n)}}) {
        const auto o = v->owner(*v->id_spaces().find(k.first), k.second);
        const auto it = model.key_owner.find(k);
        ASSERT_EQ(o.has_value(), it != model.key_owner.end()) << "round " << round << " " << k.second;
        if (!o) continue;
        const auto [at, fresh] = ordinal_of.emplace(it->second, *o);
        ASSERT_EQ(at->second, *o) << "round " << round;
        if (fresh) {
          ASSERT_TRUE(seen.insert(*o).second) << "two model users share ordinal " << *o;
        }
      }
    }
    std::size_t alive = 0;
    for (std::size_t u = 0; u < model.users.size(); ++u) {
      const ModelUser& user = model.users[u];
      if (!user.alive) continue;
      ++alive;
      std::optional<Ordinal> o;
      if (const auto it = ordinal_of.find(u); it != ordinal_of.end()) o = it->second;
      if (user.uid) {
        const auto by_uid = index.users().find(*user.uid);
        ASSERT_TRUE(by_uid);
        if (o) {
          ASSERT_EQ(*by_uid, *o);
        }
        o = by_uid;
      }
      if (!o) continue;  // a user with neither IDs nor uid: counted only
      ASSERT_EQ(v->uidless().bits.contains(*o), !user.uid.has_value());
      for (int t = 0; t < 3; ++t) {
        const auto tag = test::numbered("t", static_cast<uint64_t>(t));
        ASSERT_EQ(has_tag(index, *o, tag), user.tags.contains(tag)) << "round " << round;
      }
    }
    ASSERT_EQ(v->universe().cardinality, alive) << "round " << round;
  }
  EXPECT_GT(refused, 10);  // conflicts were exercised
}

}  // namespace
}  // namespace crowd
