// Helpers of the index persistence tests (index_*_test.cc): temporary
// directories, a seeded random workload checked against a naive model, and
// exact comparison of two index views.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "index/durability.h"
#include "index/index_view.h"
#include "index/write_batch.h"

namespace crowd {

// Parameterised tests print the policy by name.
inline void PrintTo(FsyncPolicy p, std::ostream* os) { *os << fsync_policy_name(p); }

}  // namespace crowd

namespace crowd::test {

// The whole content of a file, and writing one, for corrupting files in tests.
inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
inline void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// One-operation batches, named for readability.
// prefix followed by n in decimal. Appended rather than "lit" + to_string(n),
// on which GCC 12 warns falsely (-Wrestrict).
inline std::string numbered(std::string_view prefix, uint64_t n) {
  std::string out(prefix);
  out += std::to_string(n);
  return out;
}

inline WriteBatch add_batch(UserId user, const std::vector<std::string>& tags) {
  WriteBatch b;
  std::vector<uint32_t> local;
  for (const auto& t : tags) local.push_back(b.intern(t));
  b.add(user, local);
  return b;
}
inline WriteBatch remove_batch(UserId user, const std::vector<std::string>& tags) {
  WriteBatch b;
  std::vector<uint32_t> local;
  for (const auto& t : tags) local.push_back(b.intern(t));
  b.remove(user, local);
  return b;
}

// A fresh directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/crowd-index-test-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// The naive model of the index: each user in the universe and their tags.
class Model {
 public:
  void apply(const WriteBatch& b) {
    for (const auto& op : b.ops()) {
      switch (op.kind) {
        case WriteBatch::Kind::kAdd: {
          auto& tags = users_[op.user];
          for (const uint32_t t : b.tags_of(op)) tags.insert(b.names()[t]);
          break;
        }
        case WriteBatch::Kind::kRemove: {
          const auto it = users_.find(op.user);
          if (it == users_.end()) break;
          for (const uint32_t t : b.tags_of(op)) it->second.erase(b.names()[t]);
          break;
        }
        case WriteBatch::Kind::kErase:
          users_.erase(op.user);
          break;
        default:  // values, whole-tag and entry operations: not in this model's workloads
          break;
      }
    }
  }

  // Empty when `view` holds exactly the model's users and assignments, else
  // the first difference.
  [[nodiscard]] std::string diff(const IndexView& view) const {
    std::set<UserId> universe;
    roaring_uint32_iterator_t* it = roaring_create_iterator(view.universe().bits.get());
    for (; it->has_value; roaring_advance_uint32_iterator(it)) universe.insert(view.external(it->current_value));
    roaring_free_uint32_iterator(it);
    std::set<UserId> expected_universe;
    for (const auto& [user, tags] : users_) expected_universe.insert(user);
    if (universe != expected_universe) {
      return "universe has " + std::to_string(universe.size()) + " users, model " +
             std::to_string(expected_universe.size());
    }
    std::map<std::string, std::set<UserId>> by_tag;
    for (const auto& [user, tags] : users_) {
      for (const auto& t : tags) by_tag[t].insert(user);
    }
    for (const auto& [tag, users] : by_tag) {
      if (!view.dictionary().find(tag)) return "tag '" + tag + "' missing";
    }
    for (TagId id = 0; id < view.tag_count(); ++id) {
      std::set<UserId> got;
      roaring_uint32_iterator_t* t = roaring_create_iterator(view.tag(id).bits.get());
      for (; t->has_value; roaring_advance_uint32_iterator(t)) got.insert(view.external(t->current_value));
      roaring_free_uint32_iterator(t);
      const auto want = by_tag.find(view.dictionary().name(id));
      const std::set<UserId> none;
      if (got != (want == by_tag.end() ? none : want->second)) {
        return "tag '" + view.dictionary().name(id) + "' has " + std::to_string(got.size()) + " users, model " +
               std::to_string(want == by_tag.end() ? 0 : want->second.size());
      }
    }
    return {};
  }

  [[nodiscard]] std::size_t users() const { return users_.size(); }

 private:
  std::map<UserId, std::set<std::string>> users_;
};

// Empty when the two views are the same index down to TagIds and ordinals,
// else the first difference.
inline std::string same_index(const IndexView& a, const IndexView& b) {
  if (a.ordinal_count() != b.ordinal_count()) {
    return "ordinal counts " + std::to_string(a.ordinal_count()) + " vs " + std::to_string(b.ordinal_count());
  }
  // Erased users' IDs do not survive a snapshot (they are written as 0):
  // only members of the universe must map to the same user.
  for (Ordinal o = 0; o < a.ordinal_count(); ++o) {
    if (a.universe().bits.contains(o) && a.external(o) != b.external(o)) {
      return "ordinal " + std::to_string(o) + " maps to different users";
    }
  }
  if (a.tag_count() != b.tag_count()) {
    return "tag counts " + std::to_string(a.tag_count()) + " vs " + std::to_string(b.tag_count());
  }
  for (TagId id = 0; id < a.tag_count(); ++id) {
    if (a.dictionary().name(id) != b.dictionary().name(id)) return "TagId " + std::to_string(id) + " names differ";
    if (!roaring_bitmap_equals(a.tag(id).bits.get(), b.tag(id).bits.get())) {
      return "bitmaps of '" + a.dictionary().name(id) + "' differ";
    }
  }
  if (!roaring_bitmap_equals(a.universe().bits.get(), b.universe().bits.get())) return "universes differ";
  return {};
}

// Seeded random write batches over users and tags chosen to hit the edges:
// IDs near 2^64 and around 2^53, CJK and emoji tags, many colons, the empty
// tag; adds, removes and erasures (so deleted users come back).
class Workload {
 public:
  explicit Workload(uint64_t seed, std::size_t user_pool = 500, std::size_t tag_pool = 60) : rng_(seed) {
    const UserId edges[] = {
        0,         1, 2, (UserId{1} << 53) - 1, UserId{1} << 53, (UserId{1} << 53) + 1, UserId{1} << 63, UINT64_MAX - 1,
        UINT64_MAX};
    users_.assign(std::begin(edges), std::end(edges));
    std::uniform_int_distribution<UserId> any;
    while (users_.size() < user_pool) users_.push_back(users_.size() % 2 ? any(rng_) : users_.size() * 7919);
    const char* edges_tags[] = {"gender:female", "城市:杭州",  "emoji:😀🎉",          "cat:2520377:buy", "a:b:c:d", "",
                                "AND",           "with space", "quote\"back\\slash"};
    tags_.assign(std::begin(edges_tags), std::end(edges_tags));
    while (tags_.size() < tag_pool)
      tags_.push_back("field" + std::to_string(tags_.size() % 7) + ":v" + std::to_string(tags_.size()));
  }

  WriteBatch batch(std::size_t max_ops = 8) {
    WriteBatch b;
    const std::size_t ops = 1 + pick(max_ops);
    for (std::size_t i = 0; i < ops; ++i) {
      const UserId user = users_[pick(users_.size())];
      const std::size_t roll = pick(100);
      if (roll < 8) {
        b.erase(user);
        continue;
      }
      std::vector<uint32_t> tags;
      const std::size_t n = roll < 75 ? pick(5) : 1 + pick(3);
      for (std::size_t k = 0; k < n; ++k) tags.push_back(b.intern(tags_[pick(tags_.size())]));
      if (roll < 75) {
        b.add(user, tags);
      } else {
        b.remove(user, tags);
      }
    }
    return b;
  }

  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }

 private:
  std::mt19937_64 rng_;
  std::vector<UserId> users_;
  std::vector<std::string> tags_;
};

}  // namespace crowd::test
