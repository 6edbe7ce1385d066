// identity/digest.h against published test vectors (RFC 1321's MD5 suite,
// FIPS 180-2's SHA-256 examples) and against an independent implementation:
// Python's hashlib, over random byte strings that include NULs and bytes
// that are not UTF-8. Hex is checked against a plain snprintf("%02x") here,
// not against the library's own encoder.
#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "identity/digest.h"

namespace crowd::identity {
namespace {

// Lower-case hex, written independently of append_hex.
template <typename Bytes>
std::string hex_of(const Bytes& bytes) {
  std::string out;
  for (const auto b : bytes) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", static_cast<unsigned>(static_cast<unsigned char>(b)));
    out += buf;
  }
  return out;
}

TEST(Digest, Md5MatchesTheRfc1321TestSuite) {
  // RFC 1321, appendix A.5.
  EXPECT_EQ(hex_of(md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(hex_of(md5("a")), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(hex_of(md5("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(hex_of(md5("message digest")), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(hex_of(md5("abcdefghijklmnopqrstuvwxyz")), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(hex_of(md5("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")),
            "d174ab98d277d9f5a5611c2c9f419d9f");
  EXPECT_EQ(hex_of(md5("12345678901234567890123456789012345678901234567890123456789012345678901234567890")),
            "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Digest, Sha256MatchesTheFips180Examples) {
  // FIPS 180-2, appendix B: one block, two blocks, one million 'a'.
  EXPECT_EQ(hex_of(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_of(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hex_of(sha256(std::string(1'000'000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(hex_of(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Digest, Sha256HexIsLowerCaseHexOfTheDigest) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(std::string("a\0b", 3)), hex_of(sha256(std::string("a\0b", 3))));
  EXPECT_NE(sha256_hex(std::string("a\0b", 3)), sha256_hex("a"));  // NUL does not end the input
}

bool have_python3() { return std::system("command -v python3 >/dev/null 2>&1") == 0; }

// Runs Python's hashlib over each input (sent as hex lines on stdin) and
// returns "md5hex sha256hex" per input.
std::vector<std::string> hashlib_digests(const std::vector<std::string>& inputs) {
  char path[] = "/tmp/crowd-identity-digest-XXXXXX";
  const int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  if (fd < 0) return {};
  std::string text;
  for (const auto& s : inputs) text += hex_of(s) + "\n";
  EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
  const std::string command =
      "python3 -c 'import sys, hashlib\n"
      "for line in sys.stdin:\n"
      "    b = bytes.fromhex(line.strip())\n"
      "    print(hashlib.md5(b).hexdigest(), hashlib.sha256(b).hexdigest())' < " +
      std::string(path);
  std::vector<std::string> out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, p) != nullptr) {
      std::string s(line);
      while (!s.empty() && s.back() == '\n') s.pop_back();
      out.push_back(s);
    }
    EXPECT_EQ(::pclose(p), 0);
  }
  ::unlink(path);
  return out;
}

TEST(Digest, AgreesWithPythonHashlibOnRandomBytes) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  std::mt19937_64 rng(15);
  std::vector<std::string> inputs = {"", std::string(1, '\0'), std::string(64, '\0'), "\xff\xfe\xc0\x80"};
  while (inputs.size() < 200) {
    // Lengths around the 64-byte block and its padding boundary (55/56) too.
    const std::size_t n = inputs.size() % 4 == 0 ? 50 + rng() % 20 : rng() % 300;
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng() % 4 == 0 ? 0 : rng() & 0xFF);
    inputs.push_back(std::move(s));
  }
  const auto expected = hashlib_digests(inputs);
  ASSERT_EQ(expected.size(), inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(hex_of(md5(inputs[i])) + " " + hex_of(sha256(inputs[i])), expected[i]) << "input " << i;
  }
}

TEST(Hex, AppendsLowerCaseAfterWhatIsThere) {
  std::array<uint8_t, 256> all;
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  std::string out = "x:";
  append_hex(all, out);
  EXPECT_EQ(out, "x:" + hex_of(all));
  std::string empty;
  append_hex({}, empty);
  EXPECT_EQ(empty, "");
}

TEST(Hex, ParsesEitherCaseBackToTheBytes) {
  std::array<uint8_t, 256> all;
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  const std::string lower = hex_of(all);
  std::string upper = lower;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::array<uint8_t, 256> back{};
  ASSERT_TRUE(parse_hex(lower, back));
  EXPECT_EQ(back, all);
  back = {};
  ASSERT_TRUE(parse_hex(upper, back));
  EXPECT_EQ(back, all);
  std::array<uint8_t, 2> two{};
  ASSERT_TRUE(parse_hex("aB0f", two));
  EXPECT_EQ(two[0], 0xAB);
  EXPECT_EQ(two[1], 0x0F);
  EXPECT_TRUE(parse_hex("", std::span<uint8_t>()));
}

TEST(Hex, RefusesWrongLengthsAndNonHexCharacters) {
  std::array<uint8_t, 4> out{};
  EXPECT_FALSE(parse_hex("", out));
  EXPECT_FALSE(parse_hex("0011223", out));
  EXPECT_FALSE(parse_hex("001122334", out));
  EXPECT_FALSE(parse_hex("0011223344", out));
  EXPECT_TRUE(parse_hex("00112233", out));
  // Every byte that is not a hex digit, at every position.
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) continue;
    for (std::size_t at = 0; at < 8; ++at) {
      std::string text = "00112233";
      text[at] = c;
      EXPECT_FALSE(parse_hex(text, out)) << "byte " << b << " at " << at;
    }
  }
  EXPECT_FALSE(parse_hex("0x112233", out));
  EXPECT_FALSE(parse_hex("+0112233", out));
  EXPECT_FALSE(parse_hex(" 0112233", out));
}

}  // namespace
}  // namespace crowd::identity
