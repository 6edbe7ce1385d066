// split_by_shard (router/write_split.h): a write cut into stream messages
// per shard. Replaying every message, shard by shard, does to each user
// exactly what the whole write does; every user lands on the shard its
// partition maps to; no message is over the size limit, and the cut
// happens where the limit says.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>

#include "cluster/partition.h"
#include "cluster/shard_map.h"
#include "router/write_split.h"

namespace crowd::router {
namespace {

// What a batch does to users, replayed in order: tags and values per user.
struct Users {
  std::map<UserId, std::set<std::string>> tags;
  std::map<UserId, std::map<std::string, int64_t>> values;

  void replay(const WriteBatch& b) {
    using Kind = WriteBatch::Kind;
    for (const auto& op : b.ops()) {
      const auto names = b.tags_of(op);
      switch (op.kind) {
        case Kind::kAdd:
          for (const uint32_t t : names) tags[op.user].insert(b.names()[t]);
          break;
        case Kind::kRemove:
          for (const uint32_t t : names) tags[op.user].erase(b.names()[t]);
          break;
        case Kind::kErase:
          tags.erase(op.user);
          values.erase(op.user);
          break;
        case Kind::kSetValue: values[op.user][b.names()[names[0]]] = op.value; break;
        case Kind::kClearValue: values[op.user].erase(b.names()[names[0]]); break;
        default: FAIL() << "unexpected op";
      }
    }
  }
  bool operator==(const Users&) const = default;
};

WriteBatch random_write(uint64_t seed, std::size_t ops) {
  std::mt19937_64 rng(seed);
  WriteBatch b;
  for (std::size_t i = 0; i < ops; ++i) {
    const UserId user = rng() % 500;
    std::string name = "tag:" + std::to_string(rng() % 40);
    const uint32_t t = b.intern(name);
    const uint32_t one[] = {t};
    switch (rng() % 6) {
      case 0: b.remove(user, one); break;
      case 1:
        if (rng() % 8 == 0) b.erase(user);
        break;
      case 2: b.set_value(user, b.intern("spend"), static_cast<int64_t>(rng() % 1000) - 500); break;
      case 3: b.clear_value(user, b.intern("spend")); break;
      default: {
        const uint32_t two[] = {t, b.intern("w")};
        b.add(user, two);
      }
    }
  }
  return b;
}

TEST(WriteSplit, MessagesReplayToTheWholeWriteOnTheRightShards) {
  const cluster::ShardMap map = cluster::ShardMap::initial(4);
  for (const std::size_t limit : {std::size_t{160}, std::size_t{1000}, std::size_t{1} << 20}) {
    const WriteBatch whole = random_write(limit, 3000);
    std::string error;
    const auto parts = split_by_shard(whole, map, limit, error);
    ASSERT_TRUE(parts) << error;
    ASSERT_EQ(parts->size(), 4u);
    Users expected;
    expected.replay(whole);
    Users got;
    std::size_t messages = 0;
    for (uint32_t k = 0; k < 4; ++k) {
      for (const WriteBatch& m : (*parts)[k]) {
        ++messages;
        std::string bytes;
        m.encode(bytes);
        EXPECT_LE(bytes.size(), limit);
        WriteBatch decoded;
        ASSERT_TRUE(decoded.decode(bytes));
        for (const auto& op : decoded.ops()) EXPECT_EQ(map.shard_of(cluster::uid_partition(op.user)), k);
        // Shards hold disjoint users, so their order among shards does not matter.
        got.replay(decoded);
      }
    }
    EXPECT_EQ(got, expected) << "limit " << limit;
    if (limit == 160) {
      EXPECT_GT(messages, 100u) << "small limits cut into many messages";
    }
    if (limit == std::size_t{1} << 20) {
      EXPECT_EQ(messages, 4u) << "one message per shard when it fits";
    }
  }
}

TEST(WriteSplit, RefusesWhatItCannotPlace) {
  const cluster::ShardMap map = cluster::ShardMap::initial(2);
  std::string error;
  WriteBatch wide;
  std::vector<uint32_t> many;
  for (int i = 0; i < 100; ++i) many.push_back(wide.intern("a-rather-long-tag-name-" + std::to_string(i)));
  wide.add(7, many);
  EXPECT_FALSE(split_by_shard(wide, map, 1000, error));
  EXPECT_NE(error.find("more than a stream message"), std::string::npos) << error;

  WriteBatch clear;
  clear.clear_tag(clear.intern("x"));
  EXPECT_FALSE(split_by_shard(clear, map, 1 << 20, error));
  EXPECT_NE(error.find("only writes of users"), std::string::npos) << error;

  const auto none = split_by_shard(WriteBatch{}, map, 1 << 20, error);
  ASSERT_TRUE(none);
  EXPECT_TRUE((*none)[0].empty() && (*none)[1].empty());
}

}  // namespace
}  // namespace crowd::router
