// CRC-32C: the standard check value, resumption, and the hardware path
// against the portable one on random data of every small length and
// alignment.
#include "index/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace crowd {
namespace {

TEST(Crc32c, CheckValue) {
  // The check value of the CRC catalogue (CRC-32/ISCSI).
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(crc32c_portable("123456789", 9), 0xE3069283u);
}

TEST(Crc32c, KnownVectors) {
  // RFC 3720 (iSCSI) appendix B.4: 32 bytes of zeros, of 0xFF, ascending.
  std::vector<unsigned char> zeros(32, 0), ones(32, 0xFF), ascending(32);
  for (int i = 0; i < 32; ++i) ascending[i] = static_cast<unsigned char>(i);
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(crc32c(ascending.data(), ascending.size()), 0x46DD794Eu);
}

TEST(Crc32c, EmptyIsZeroAndIdentityForResume) {
  EXPECT_EQ(crc32c(nullptr, 0), 0u);
  EXPECT_EQ(crc32c("", 0, 0x12345678u), 0x12345678u);
  EXPECT_EQ(crc32c_portable("", 0, 0x12345678u), 0x12345678u);
}

TEST(Crc32c, ResumesAcrossPieces) {
  const std::string s = "The quick brown fox jumps over the lazy dog, twice over and again.";
  const uint32_t whole = crc32c(s.data(), s.size());
  for (std::size_t cut = 0; cut <= s.size(); ++cut) {
    EXPECT_EQ(crc32c(s.data() + cut, s.size() - cut, crc32c(s.data(), cut)), whole) << cut;
    EXPECT_EQ(crc32c_portable(s.data() + cut, s.size() - cut, crc32c_portable(s.data(), cut)), whole) << cut;
  }
}

TEST(Crc32c, HardwareMatchesPortableOnRandomData) {
  std::mt19937_64 rng(20240611);
  std::vector<unsigned char> data(1 << 16);
  for (auto& b : data) b = static_cast<unsigned char>(rng());
  // Every length up to 300 at every alignment up to 16: covers the 8-byte
  // loop, the byte tail and unaligned starts.
  for (std::size_t offset = 0; offset < 16; ++offset) {
    for (std::size_t n = 0; n < 300; ++n) {
      ASSERT_EQ(crc32c(data.data() + offset, n), crc32c_portable(data.data() + offset, n)) << offset << "+" << n;
    }
  }
  for (int i = 0; i < 50; ++i) {
    const std::size_t offset = rng() % 1000;
    const std::size_t n = rng() % (data.size() - offset);
    const uint32_t seed = static_cast<uint32_t>(rng());
    ASSERT_EQ(crc32c(data.data() + offset, n, seed), crc32c_portable(data.data() + offset, n, seed));
  }
}

TEST(Crc32c, DetectsEverySingleBitFlip) {
  std::mt19937_64 rng(7);
  std::vector<unsigned char> data(256);
  for (auto& b : data) b = static_cast<unsigned char>(rng());
  const uint32_t good = crc32c(data.data(), data.size());
  for (std::size_t bit = 0; bit < data.size() * 8; ++bit) {
    data[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
    ASSERT_NE(crc32c(data.data(), data.size()), good) << bit;
    data[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
  }
}

#if defined(__SSE4_2__)
TEST(Crc32c, UsesHardwareWhenBuiltForIt) { EXPECT_TRUE(crc32c_is_hardware()); }
#endif

}  // namespace
}  // namespace crowd
