// Partitions (cluster/partition.h): the hash is the documented one --
// checked against values computed outside this code (Python's hashlib) and
// against libcrypto's one-shot SHA256() -- spreads uids evenly, and the
// anchor of a record is chosen in the documented order.
#include <openssl/sha.h>

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "cluster/partition.h"

namespace crowd::cluster {
namespace {

// hashlib.sha256(type + b"\0" + key).digest()[:2], big-endian, mod 4096.
TEST(Partition, MatchesValuesComputedByAnotherImplementation) {
  EXPECT_EQ(uid_partition(1), 2269);
  EXPECT_EQ(uid_partition(42), 2758);
  EXPECT_EQ(uid_partition(UINT64_MAX), 2055);
  EXPECT_EQ(partition_of("oaid", "ABCD-1234"), 3354);
  std::string phone_digest(32, '\0');
  SHA256(reinterpret_cast<const unsigned char*>("8613800138000"), 13,
         reinterpret_cast<unsigned char*>(phone_digest.data()));
  EXPECT_EQ(partition_of("phone_sha256", phone_digest), 1717);
}

TEST(Partition, IsTheFirstTwoDigestBytesModTheCount) {
  for (uint64_t id = 0; id < 2000; id += 7) {
    const std::string input = std::string("uid") + '\0' + u64_key(id);
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), d);
    EXPECT_EQ(uid_partition(id), ((d[0] << 8) | d[1]) % kPartitions) << id;
  }
}

TEST(Partition, U64KeyIsBigEndian) {
  EXPECT_EQ(u64_key(0x0102030405060708ULL), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(u64_key(0), std::string(8, '\0'));
}

// 409,600 sequential uids over 4,096 partitions: 100 expected in each; a
// chi-square over 4,095 degrees of freedom stays within ~5 standard
// deviations (sqrt(2 * 4095) ~ 90) of its mean, and no partition is empty.
TEST(Partition, SpreadsSequentialIdsEvenly) {
  std::vector<uint32_t> counts(kPartitions, 0);
  constexpr uint64_t kIds = 409'600;
  for (uint64_t id = 1; id <= kIds; ++id) ++counts[uid_partition(id)];
  double chi2 = 0;
  for (const uint32_t c : counts) {
    EXPECT_GT(c, 0u);
    chi2 += (c - 100.0) * (c - 100.0) / 100.0;
  }
  EXPECT_LT(std::abs(chi2 - 4095), 5 * std::sqrt(2 * 4095.0)) << chi2;
}

TEST(Anchor, UidFirstThenTypeNameThenKey) {
  const std::vector<IdRef> ids = {{"oaid", "b"}, {"idfa", "z"}, {"uid", std::string_view("\0\0\0\0\0\0\0\x09", 8)}};
  EXPECT_EQ(anchor_of(ids), 2u);
  const std::vector<IdRef> no_uid = {{"oaid", "b"}, {"idfa", "z"}, {"idfa", "a"}};
  EXPECT_EQ(anchor_of(no_uid), 2u);
  const std::vector<IdRef> one = {{"oaid", "b"}};
  EXPECT_EQ(anchor_of(one), 0u);
}

}  // namespace
}  // namespace crowd::cluster
