// write_decimal against std::to_chars: every power of ten and its
// neighbours, every digit-count boundary, and a million random values spread
// over all magnitudes.
#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "server/decimal.h"

namespace crowd::server {
namespace {

std::string reference(uint64_t v) {
  char buf[24];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

std::string formatted(uint64_t v) {
  char buf[48];
  std::memset(buf, '#', sizeof buf);
  const char* end = write_decimal(buf, v);
  // It may scribble past the end (up to 24 bytes), never further.
  for (std::size_t i = 24; i < sizeof buf; ++i) EXPECT_EQ(buf[i], '#') << "wrote past 24 bytes for " << v;
  return std::string(static_cast<const char*>(buf), end);
}

TEST(WriteDecimal, PowersOfTenAndNeighbours) {
  uint64_t p = 1;
  for (int digits = 1; digits <= 20; ++digits) {
    for (const uint64_t v : {p - 1, p, p + 1, p * 2 - 1}) EXPECT_EQ(formatted(v), reference(v));
    if (digits < 20) p *= 10;
  }
  for (const uint64_t v : {uint64_t{0}, uint64_t{9}, std::numeric_limits<uint64_t>::max(),
                           std::numeric_limits<uint64_t>::max() - 1, uint64_t{1} << 32, (uint64_t{1} << 53) + 1}) {
    EXPECT_EQ(formatted(v), reference(v));
  }
}

TEST(WriteDecimal, RandomValuesOfEveryMagnitude) {
  std::mt19937_64 rng(20261123);
  for (int i = 0; i < 1'000'000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    ASSERT_EQ(formatted(v), reference(v));
  }
}

}  // namespace
}  // namespace crowd::server
