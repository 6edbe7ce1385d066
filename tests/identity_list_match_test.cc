// identity/list_match.h against a naive model: the index's keys in a
// std::map, hex decoded and phones hashed here (OpenSSL's one-shot SHA256(),
// not the codec), each count recomputed from its definition. Hits, misses,
// duplicates in other letter cases, invalid lines of every kind, ordinals
// outside the universe or past the limit, a space that does not exist yet,
// plain phones, string and u64 types, and lists of every length around the
// batch size.
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <cctype>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "identity/list_match.h"
#include "index/bitmap.h"
#include "index/id_space.h"

namespace crowd::identity {
namespace {

const IdType kSha{"email_sha256", IdKind::kSha256, Normalization::kNone, 0, ""};
const IdType kShaPhone{"phone_sha256", IdKind::kSha256, Normalization::kPhone, 0, "86"};
const IdType kOaid{"oaid", IdKind::kString, Normalization::kNone, 256, ""};
const IdType kDevice{"device", IdKind::kU64, Normalization::kNone, 0, ""};

std::string sha256_of(std::string_view s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return {reinterpret_cast<const char*>(d), sizeof d};
}

std::string hex_of(std::string_view bytes, bool upper = false) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    out.push_back(digits[static_cast<unsigned char>(c) >> 4]);
    out.push_back(digits[static_cast<unsigned char>(c) & 15]);
  }
  return out;
}

// The model's own reading of a SHA-256 ID: 64 hex digits, either case.
std::optional<std::string> model_key(std::string_view text) {
  if (text.size() != 64) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < 64; i += 2) {
    int v = 0;
    for (std::size_t j = i; j < i + 2; ++j) {
      const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(text[j])));
      if (c >= '0' && c <= '9') {
        v = v * 16 + (c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v = v * 16 + (c - 'a' + 10);
      } else {
        return std::nullopt;
      }
    }
    out.push_back(static_cast<char>(v));
  }
  return out;
}

// The index as the model sees it, and the view's bounds.
struct World {
  std::map<std::string, Ordinal> owner;
  Ordinal limit = 0;
  Bitmap universe;
  [[nodiscard]] bool user(Ordinal o) const { return o < limit && universe.contains(o); }
};

struct Expected {
  uint64_t submitted = 0, valid = 0, invalid = 0, duplicates = 0, matched = 0;
  std::vector<uint64_t> invalid_lines;  // every one
  std::set<Ordinal> users;
};

// The counts by their definitions, from the model (keys by `key_of`).
template <class KeyOf>
Expected expect(const World& w, const std::vector<std::pair<uint64_t, std::string>>& list, const KeyOf& key_of) {
  Expected e;
  std::set<std::string> seen;
  for (const auto& [line, text] : list) {
    ++e.submitted;
    const std::optional<std::string> key = key_of(text);
    if (!key) {
      ++e.invalid;
      e.invalid_lines.push_back(line);
      continue;
    }
    ++e.valid;
    if (!seen.insert(*key).second) {
      ++e.duplicates;
      continue;
    }
    const auto it = w.owner.find(*key);
    if (it != w.owner.end() && w.user(it->second)) {
      ++e.matched;
      e.users.insert(it->second);
    }
  }
  return e;
}

std::set<Ordinal> set_of(const Bitmap& b) {
  std::vector<uint32_t> values(b.cardinality());
  roaring_bitmap_to_uint32_array(b.get(), values.data());
  return {values.begin(), values.end()};
}

void expect_result(const ListMatchResult& r, const Expected& e,
                   const std::vector<std::pair<uint64_t, std::string>>& list) {
  EXPECT_EQ(r.submitted, e.submitted);
  EXPECT_EQ(r.valid, e.valid);
  EXPECT_EQ(r.invalid, e.invalid);
  EXPECT_EQ(r.duplicates, e.duplicates);
  EXPECT_EQ(r.distinct(), e.valid - e.duplicates);
  EXPECT_EQ(r.matched, e.matched);
  EXPECT_EQ(set_of(r.users), e.users);
  EXPECT_EQ(r.users.cardinality(), e.users.size());
  const double rate = e.valid == e.duplicates ? 0.0
                                              : static_cast<double>(e.matched) / static_cast<double>(e.valid - e.duplicates);
  EXPECT_DOUBLE_EQ(r.match_rate(), rate);
  ASSERT_EQ(r.first_invalid.size(), std::min<std::size_t>(e.invalid_lines.size(), kMaxInvalidReported));
  std::map<uint64_t, std::string> text_at;
  for (const auto& [line, text] : list) text_at[line] = text;
  for (std::size_t i = 0; i < r.first_invalid.size(); ++i) {
    EXPECT_EQ(r.first_invalid[i].line, e.invalid_lines[i]);
    EXPECT_FALSE(r.first_invalid[i].reason.empty());
    // Never the ID itself.
    const std::string& text = text_at[r.first_invalid[i].line];
    if (text.size() >= 6) {
      EXPECT_EQ(r.first_invalid[i].reason.find(text), std::string::npos) << text;
    }
  }
}

// A world of `users` ordinals with random 32-byte keys (every 7th user has
// two), ordinals past `limit` linked too (users newer than the view), and
// every 5th ordinal outside the universe (erased).
World make_world(IdSpace& space, Ordinal users, Ordinal limit, std::mt19937_64& rng, std::vector<std::string>& keys) {
  World w;
  w.limit = limit;
  for (Ordinal o = 0; o < users; ++o) {
    for (int k = 0; k < (o % 7 == 0 ? 2 : 1); ++k) {
      std::string key(32, '\0');
      for (auto& c : key) c = static_cast<char>(rng());
      EXPECT_TRUE(space.link(key, o));
      w.owner.emplace(key, o);
      keys.push_back(key);
    }
    if (o % 5 != 3) w.universe.add(o);
  }
  return w;
}

// A random hex list over the world: hits (either case), misses, repeats and
// invalid lines, numbered with gaps.
std::vector<std::pair<uint64_t, std::string>> random_list(std::size_t n, const std::vector<std::string>& keys,
                                                          std::mt19937_64& rng) {
  std::vector<std::pair<uint64_t, std::string>> list;
  uint64_t line = 0;
  for (std::size_t i = 0; i < n; ++i) {
    line += 1 + rng() % 3;
    std::string text;
    const unsigned kind = static_cast<unsigned>(rng() % 100);
    if (kind < 45) {
      text = hex_of(keys[rng() % keys.size()], rng() % 4 == 0);
    } else if (kind < 75) {
      std::string key(32, '\0');
      for (auto& c : key) c = static_cast<char>(rng());
      text = hex_of(key);
    } else if (kind < 88 && !list.empty()) {
      text = list[rng() % list.size()].second;  // a repeat: valid or not
      if (rng() % 2 == 0) {
        for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
    } else {
      text = hex_of(keys[rng() % keys.size()]);
      switch (rng() % 5) {
        case 0:
          text.pop_back();  // 63
          break;
        case 1:
          text.push_back('a');  // 65
          break;
        case 2:
          text[rng() % 64] = 'g';  // not hex
          break;
        case 3:
          text.clear();
          break;
        default:
          text = "+86 138-0013-8" + std::to_string(100 + rng() % 900);  // plain where a digest is due
      }
    }
    list.emplace_back(line, std::move(text));
  }
  return list;
}

ListMatchResult run(const IdType& type, const IdSpace* space, const World& w, bool plain,
                    const std::vector<std::pair<uint64_t, std::string>>& list) {
  ListMatcher m(type, space, w.limit, &w.universe, plain);
  for (const auto& [line, text] : list) m.add(line, text);
  EXPECT_EQ(m.submitted(), list.size());
  return m.finish();
}

TEST(ListMatcher, HexListsOfEveryLengthMatchTheModel) {
  std::mt19937_64 rng(15);
  IdSpace space(32);
  std::vector<std::string> keys;
  const World w = make_world(space, 3000, 2600, rng, keys);
  const std::size_t b = ListMatcher::kBatch;
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{5}, b - 1, b, b + 1, 3 * b + 17,
                              std::size_t{5000}}) {
    SCOPED_TRACE(n);
    const auto list = random_list(n, keys, rng);
    const Expected e = expect(w, list, model_key);
    const ListMatchResult r = run(kSha, &space, w, false, list);
    ASSERT_NO_FATAL_FAILURE(expect_result(r, e, list));
    if (n == 5000) {
      // The list exercises what it claims to.
      EXPECT_GT(e.matched, 1000u);
      EXPECT_GT(e.duplicates, 300u);
      EXPECT_GT(e.invalid, 300u);
      EXPECT_LT(e.users.size(), e.matched);  // two keys of one user
    }
  }
}

TEST(ListMatcher, InvalidLinesSayWhyWithoutTheId) {
  IdSpace space(32);
  World w;
  w.limit = 10;
  w.universe.add(1);
  const std::string key = sha256_of("8613800138000");
  ASSERT_TRUE(space.link(key, 1));
  const std::string hex = hex_of(key);
  const std::vector<std::pair<uint64_t, std::string>> list = {
      {1, hex.substr(0, 63)},
      {2, hex + "0"},
      {3, hex.substr(0, 63) + "z"},
      {4, ""},
      {5, "+86 138-0013-8000"},
      {6, hex},
  };
  const ListMatchResult r = run(kShaPhone, &space, w, false, list);
  ASSERT_EQ(r.first_invalid.size(), 5u);
  const std::string advice = "; plain values are hashed here only when the request says \"hash\"";
  EXPECT_EQ(r.first_invalid[0], (InvalidLine{1, "expected 64 hex characters (a SHA-256 digest), got 63 characters" + advice}));
  EXPECT_EQ(r.first_invalid[1], (InvalidLine{2, "expected 64 hex characters (a SHA-256 digest), got 65 characters" + advice}));
  EXPECT_EQ(r.first_invalid[2],
            (InvalidLine{3, "expected 64 hex characters (a SHA-256 digest), got a character other than 0-9, a-f, A-F" +
                                advice}));
  EXPECT_EQ(r.first_invalid[3], (InvalidLine{4, "ID is empty"}));
  EXPECT_EQ(r.first_invalid[4], (InvalidLine{5, "expected 64 hex characters (a SHA-256 digest), got 17 characters" + advice}));
  EXPECT_EQ(r.invalid, 5u);
  EXPECT_EQ(r.valid, 1u);
  EXPECT_EQ(r.matched, 1u);
  EXPECT_DOUBLE_EQ(r.match_rate(), 1.0);
}

TEST(ListMatcher, OnlyTheFirstTenInvalidLinesAreNamed) {
  IdSpace space(32);
  World w;
  std::vector<std::pair<uint64_t, std::string>> list;
  for (uint64_t line = 1; line <= 25; ++line) list.emplace_back(line * 10, "xyz");
  const ListMatchResult r = run(kSha, &space, w, false, list);
  EXPECT_EQ(r.invalid, 25u);
  ASSERT_EQ(r.first_invalid.size(), kMaxInvalidReported);
  for (std::size_t i = 0; i < kMaxInvalidReported; ++i) EXPECT_EQ(r.first_invalid[i].line, (i + 1) * 10);
  EXPECT_EQ(r.distinct(), 0u);
  EXPECT_EQ(r.match_rate(), 0.0);
}

// Plain phones: written every which way, normalised to one value, hashed.
// The test vector is SHA-256("8613800138000") from OpenSSL here.
TEST(ListMatcher, PlainPhonesAreNormalisedAndHashed) {
  IdSpace space(32);
  World w;
  w.limit = 100;
  for (Ordinal o = 0; o < 100; ++o) w.universe.add(o);
  const std::map<std::string, Ordinal> phones = {
      {"8613800138000", 7}, {"8613900139000", 8}, {"442079460958", 9}, {"8615000000000", 99}};
  for (const auto& [phone, o] : phones) {
    ASSERT_TRUE(space.link(sha256_of(phone), o));
    w.owner.emplace(sha256_of(phone), o);
  }
  EXPECT_EQ(hex_of(sha256_of("8613800138000")), hex_of(*model_key(hex_of(sha256_of("8613800138000")))));
  const std::vector<std::pair<uint64_t, std::string>> list = {
      {1, "+86 138-0013-8000"},    // 8613800138000
      {2, "13800138000"},          // national: the same, a duplicate
      {3, "008613800138000"},      // 00 + country code: the same
      {4, "(139) 0013 9000"},      // 8613900139000
      {5, "+44 (0)20 7946 0958"},  // 442079460958
      {6, "+1 415 555 0100"},      // not in the index
      {7, "abc"},                  // nothing to normalise
      {8, ""},                     // empty
      {9, "15000000000"},          // 8615000000000
  };
  const std::map<std::string, std::string> normalised = {
      {"+86 138-0013-8000", "8613800138000"}, {"13800138000", "8613800138000"},
      {"008613800138000", "8613800138000"},   {"(139) 0013 9000", "8613900139000"},
      {"+44 (0)20 7946 0958", "442079460958"}, {"+1 415 555 0100", "14155550100"},
      {"15000000000", "8615000000000"}};
  const Expected e = expect(w, list, [&](const std::string& text) -> std::optional<std::string> {
    const auto it = normalised.find(text);
    if (it == normalised.end()) return std::nullopt;
    return sha256_of(it->second);
  });
  const ListMatchResult r = run(kShaPhone, &space, w, true, list);
  ASSERT_NO_FATAL_FAILURE(expect_result(r, e, list));
  EXPECT_EQ(r.valid, 7u);
  EXPECT_EQ(r.duplicates, 2u);
  EXPECT_EQ(r.matched, 4u);
  EXPECT_EQ(set_of(r.users), (std::set<Ordinal>{7, 8, 9, 99}));
  EXPECT_DOUBLE_EQ(r.match_rate(), 4.0 / 5.0);
  ASSERT_EQ(r.first_invalid.size(), 2u);
  EXPECT_EQ(r.first_invalid[0].line, 7u);
  EXPECT_EQ(r.first_invalid[1].line, 8u);
}

// The reader's view: an ordinal outside the universe (an erased user) or at
// or past the limit (linked after the view was taken) is not matched, though
// its key is found; the key still counts as distinct and valid.
TEST(ListMatcher, OnlyUsersOfTheViewMatch) {
  IdSpace space(32);
  World w;
  w.limit = 20;
  for (const Ordinal o : {1, 2, 3, 25}) w.universe.add(o);  // 25: past the limit
  std::vector<std::pair<uint64_t, std::string>> list;
  for (const Ordinal o : {1, 2, 4, 20, 25, 1000}) {
    const std::string key = sha256_of("user " + std::to_string(o));
    ASSERT_TRUE(space.link(key, o));
    w.owner.emplace(key, o);
    list.emplace_back(list.size() + 1, hex_of(key));
  }
  const Expected e = expect(w, list, model_key);
  const ListMatchResult r = run(kSha, &space, w, false, list);
  ASSERT_NO_FATAL_FAILURE(expect_result(r, e, list));
  EXPECT_EQ(r.valid, 6u);
  EXPECT_EQ(r.matched, 2u);
  EXPECT_EQ(set_of(r.users), (std::set<Ordinal>{1, 2}));
  EXPECT_DOUBLE_EQ(r.match_rate(), 2.0 / 6.0);
}

// No ID of the type yet: every valid ID is unmatched, duplicates still count.
TEST(ListMatcher, NullSpaceMatchesNothing) {
  std::mt19937_64 rng(3);
  IdSpace other(32);
  std::vector<std::string> keys;
  World w = make_world(other, 200, 200, rng, keys);
  const auto list = random_list(1000, keys, rng);
  World empty;
  empty.limit = w.limit;
  empty.universe = w.universe.clone();
  const Expected e = expect(empty, list, model_key);
  const ListMatchResult r = run(kSha, nullptr, w, false, list);
  ASSERT_NO_FATAL_FAILURE(expect_result(r, e, list));
  EXPECT_EQ(r.matched, 0u);
  EXPECT_GT(r.duplicates, 0u);
  EXPECT_TRUE(r.users.empty());
  EXPECT_EQ(r.match_rate(), 0.0);
}

// Variable-width keys: strings up to 256 bytes (one more than an IdSpace
// key, so those are never found but still deduplicated), NUL-free UTF-8.
TEST(ListMatcher, StringIds) {
  IdSpace space(0);
  World w;
  w.limit = 1000;
  std::mt19937_64 rng(8);
  std::vector<std::string> ids;
  for (std::size_t len : {1, 2, 15, 36, 36, 64, 128, 200, 255, 256, 256}) {
    std::string id(len, 'a');
    for (auto& c : id) c = static_cast<char>('a' + rng() % 26);
    ids.push_back(id);
  }
  ids.push_back(ids[3] + "x");  // a longer neighbour
  ids.push_back(ids[3].substr(0, 35));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto o = static_cast<Ordinal>(i * 3);
    if (i % 2 == 0 && ids[i].size() <= IdSpace::kMaxVariableKey) {
      ASSERT_TRUE(space.link(ids[i], o));
      w.owner.emplace(ids[i], o);
    }
    w.universe.add(o);
  }
  std::vector<std::pair<uint64_t, std::string>> list;
  for (int round = 0; round < 3; ++round) {
    for (const auto& id : ids) list.emplace_back(list.size() + 1, id);
  }
  list.emplace_back(list.size() + 1, std::string(257, 'a'));  // over max_length
  list.emplace_back(list.size() + 1, "bad\x01id");            // a control character
  list.emplace_back(list.size() + 1, "");
  const Expected e = expect(w, list, [](const std::string& text) -> std::optional<std::string> {
    if (text.empty() || text.size() > 256) return std::nullopt;
    for (const char c : text) {
      if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
    }
    return text;
  });
  const ListMatchResult r = run(kOaid, &space, w, false, list);
  ASSERT_NO_FATAL_FAILURE(expect_result(r, e, list));
  EXPECT_EQ(r.invalid, 3u);
  EXPECT_EQ(r.distinct(), ids.size());
}

// Many long string IDs: the seen keys fill several 256 KiB chunks (a key
// never straddles two) and the seen set grows six times; every ID comes
// twice, the second time later on, in another batch.
TEST(ListMatcher, ManyLongStringIdsAcrossChunks) {
  IdSpace space(0);
  World w;
  w.limit = 1'000'000;
  std::mt19937_64 rng(21);
  std::vector<std::string> ids;
  std::set<std::string> distinct;
  while (ids.size() < 8000) {
    std::string id(1 + rng() % 256, 'a');
    for (auto& c : id) c = static_cast<char>('!' + rng() % 90);
    if (distinct.insert(id).second) ids.push_back(std::move(id));
  }
  for (std::size_t i = 0; i < ids.size(); i += 3) {
    if (ids[i].size() > IdSpace::kMaxVariableKey) continue;
    ASSERT_TRUE(space.link(ids[i], static_cast<Ordinal>(i)));
    w.owner.emplace(ids[i], static_cast<Ordinal>(i));
    if (i % 2 == 0) w.universe.add(static_cast<Ordinal>(i));
  }
  std::vector<std::pair<uint64_t, std::string>> list;
  for (const auto& id : ids) list.emplace_back(list.size() + 1, id);
  for (std::size_t i = ids.size(); i-- > 0;) list.emplace_back(list.size() + 1, ids[i]);
  const Expected e = expect(w, list, [](const std::string& text) -> std::optional<std::string> { return text; });
  const ListMatchResult r = run(kOaid, &space, w, false, list);
  ASSERT_NO_FATAL_FAILURE(expect_result(r, e, list));
  EXPECT_EQ(r.duplicates, ids.size());
  EXPECT_GT(r.matched, 1000u);
}

// 300k u64 IDs drawn from 200k (half of them users'), ~145k of them repeats:
// the seen set grows from 256 slots to 256k.
TEST(ListMatcher, LargeU64ListMatchesTheModel) {
  IdSpace space(8);
  World w;
  w.limit = 90'000;
  const auto key_of = [](uint64_t v) {
    std::string k(8, '\0');
    for (int b = 0; b < 8; ++b) k[b] = static_cast<char>(v >> (8 * b));
    return k;
  };
  for (Ordinal o = 0; o < 100'000; ++o) {
    const uint64_t id = uint64_t{o} * 2'654'435'761ULL + 17;
    ASSERT_TRUE(space.link(key_of(id), o));
    w.owner.emplace(key_of(id), o);
    if (o % 10 != 0) w.universe.add(o);
  }
  std::mt19937_64 rng(4);
  std::vector<std::pair<uint64_t, std::string>> list;
  for (std::size_t i = 0; i < 300'000; ++i) {
    const uint64_t o = rng() % 200'000;  // half of them no user
    list.emplace_back(i + 1, std::to_string(o * 2'654'435'761ULL + 17));
  }
  const Expected e = expect(w, list, [&](const std::string& text) -> std::optional<std::string> {
    return key_of(std::stoull(text));
  });
  const ListMatchResult r = run(kDevice, &space, w, false, list);
  ASSERT_NO_FATAL_FAILURE(expect_result(r, e, list));
  EXPECT_GT(r.duplicates, 50'000u);
  EXPECT_GT(r.matched, 50'000u);
}

TEST(ListMatcher, U64Ids) {
  IdSpace space(8);
  World w;
  w.limit = 100;
  const auto key_of = [](uint64_t v) {
    std::string k(8, '\0');
    for (int b = 0; b < 8; ++b) k[b] = static_cast<char>(v >> (8 * b));
    return k;
  };
  for (Ordinal o = 0; o < 50; ++o) {
    ASSERT_TRUE(space.link(key_of(1'000'000'007ULL * o), o));
    w.owner.emplace(key_of(1'000'000'007ULL * o), o);
    w.universe.add(o);
  }
  std::vector<std::pair<uint64_t, std::string>> list;
  for (uint64_t o = 0; o < 80; o += 3) list.emplace_back(list.size() + 1, std::to_string(1'000'000'007ULL * o));
  list.emplace_back(list.size() + 1, "0003000000021");  // leading zeros: the same as 3000000021 (o = 3)
  list.emplace_back(list.size() + 1, "-1");
  list.emplace_back(list.size() + 1, "18446744073709551616");
  const Expected e = expect(w, list, [&](const std::string& text) -> std::optional<std::string> {
    if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    if (text.size() == 20 && text > "18446744073709551615") return std::nullopt;
    return key_of(std::stoull(text));
  });
  const ListMatchResult r = run(kDevice, &space, w, false, list);
  ASSERT_NO_FATAL_FAILURE(expect_result(r, e, list));
  EXPECT_EQ(r.duplicates, 1u);
  EXPECT_EQ(r.invalid, 2u);
  EXPECT_EQ(r.matched, 17u);  // 0, 3, ..., 48
}

TEST(ListMatcher, RefusesMisuse) {
  IdSpace space32(32), space8(8);
  Bitmap universe;
  EXPECT_THROW(ListMatcher(kSha, &space32, 10, nullptr, false), std::invalid_argument);
  EXPECT_THROW(ListMatcher(kSha, &space8, 10, &universe, false), std::invalid_argument);
  EXPECT_THROW(ListMatcher(kOaid, &space32, 10, &universe, false), std::invalid_argument);
  ListMatcher m(kSha, &space32, 10, &universe, false);
  m.add(1, std::string(64, 'a'));
  EXPECT_GT(m.memory_bytes(), 0u);
  const ListMatchResult r = m.finish();
  EXPECT_EQ(r.valid, 1u);
  EXPECT_THROW(m.add(2, std::string(64, 'a')), std::logic_error);
  EXPECT_THROW((void)m.finish(), std::logic_error);
}

}  // namespace
}  // namespace crowd::identity
