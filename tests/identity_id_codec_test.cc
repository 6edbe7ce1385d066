// identity/id_codec.h: every way an ID's text can be wrong is refused with a
// reason that never repeats the ID, every valid ID comes back from its key
// in canonical form, and the UTF-8 check agrees with a naive decoder (the
// code point decoded bit by bit, then judged by RFC 3629's rules) on every
// 1- and 2-byte string, every 3-byte string with a 3-byte lead, and random
// 4-byte strings.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "identity/id_codec.h"

namespace crowd::identity {
namespace {

const IdType kUid{"uid", IdKind::kU64, Normalization::kNone, 0, ""};
const IdType kOaid{"oaid", IdKind::kString, Normalization::kNone, 64, ""};
const IdType kIdfa{"idfa", IdKind::kString, Normalization::kNone, 128, ""};
const IdType kMd5Id{"imei_md5", IdKind::kMd5, Normalization::kNone, 0, ""};
const IdType kShaId{"email_sha256", IdKind::kSha256, Normalization::kNone, 0, ""};
const IdType kShaPhone{"phone_sha256", IdKind::kSha256, Normalization::kPhone, 0, "86"};

std::string error_of(const IdType& type, std::string_view text, bool plain = false) {
  const EncodedId r = encode_id(type, text, plain);
  EXPECT_FALSE(r.ok()) << "accepted: " << type.name;
  return r.error;
}

std::string key_of(const IdType& type, std::string_view text, bool plain = false) {
  const EncodedId r = encode_id(type, text, plain);
  EXPECT_TRUE(r.ok()) << type.name << ": " << r.error;
  return r.key;
}

// Text → key → text.
std::string round_trip(const IdType& type, std::string_view text) { return id_text(type, key_of(type, text)); }

TEST(IdCodec, U64IsEightLittleEndianBytesAndComesBackDecimal) {
  EXPECT_EQ(key_of(kUid, "1"), std::string("\x01\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(key_of(kUid, "258"), std::string("\x02\x01\0\0\0\0\0\0", 8));
  EXPECT_EQ(key_of(kUid, "18446744073709551615"), std::string(8, '\xff'));
  for (const char* text : {"0", "1", "42", "4294967296", "9007199254740993", "18446744073709551615"}) {
    EXPECT_EQ(round_trip(kUid, text), text);
  }
  EXPECT_EQ(round_trip(kUid, "007"), "7");  // leading zeros: the same number, written canonically
  EXPECT_EQ(round_trip(kUid, "00000000000000000001"), "1");
  std::mt19937_64 rng(15);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    EXPECT_EQ(round_trip(kUid, std::to_string(v)), std::to_string(v));
  }
}

TEST(IdCodec, U64RefusesSignsOverflowAndNonDigits) {
  const std::string digits_only = "expected a u64 of decimal digits only (no sign, spaces or other characters)";
  const std::string out_of_range = "u64 out of range: at most 18446744073709551615";
  EXPECT_EQ(error_of(kUid, "18446744073709551616"), out_of_range);
  EXPECT_EQ(error_of(kUid, "99999999999999999999"), out_of_range);
  EXPECT_EQ(error_of(kUid, "184467440737095516150"), "expected a u64 of 1 to 20 decimal digits, got 21 characters");
  EXPECT_EQ(error_of(kUid, ""), "ID is empty");
  for (const char* text : {"-1", "+1", " 1", "1 ", "0x10", "1e3", "1.0", "١"}) {
    EXPECT_EQ(error_of(kUid, text), digits_only) << text;
  }
  EXPECT_EQ(error_of(kUid, std::string("12") + '\0' + "3"), digits_only);
  EXPECT_EQ(error_of(kUid, "12", true), "id type uid is not hashed; drop \"hash\"");
}

TEST(IdCodec, StringsAreStoredAsGivenUpToTheTypesLimit) {
  for (const char* text : {"a", "00000000-0000-0000-0000-000000000000", "oAbC-123_x.y~z", "\xE4\xB8\xAD\xE6\x96\x87",
                           "\xF0\x9F\x98\x80", "\xC2\x80", "\xED\x9F\xBF", "\xEE\x80\x80", "\xF4\x8F\xBF\xBF", " x "}) {
    EXPECT_EQ(key_of(kOaid, text), text);
    EXPECT_EQ(round_trip(kOaid, text), text);
  }
  EXPECT_EQ(round_trip(kOaid, std::string(64, 'x')), std::string(64, 'x'));
  EXPECT_EQ(error_of(kOaid, std::string(65, 'x')), "ID is 65 bytes; id type oaid allows at most 64");
  // A multi-byte character counts its bytes.
  std::string wide;
  for (int i = 0; i < 22; ++i) wide += "\xE4\xB8\xAD";
  EXPECT_EQ(error_of(kOaid, wide), "ID is 66 bytes; id type oaid allows at most 64");
  EXPECT_EQ(error_of(kOaid, ""), "ID is empty");
  EXPECT_EQ(error_of(kOaid, "x", true), "id type oaid is not hashed; drop \"hash\"");
  // max_length 0 (not completed) is the default 128.
  const IdType unset{"dev", IdKind::kString, Normalization::kNone, 0, ""};
  EXPECT_TRUE(encode_id(unset, std::string(128, 'x'), false).ok());
  EXPECT_EQ(error_of(unset, std::string(129, 'x')), "ID is 129 bytes; id type dev allows at most 128");
  EXPECT_EQ(error_of(kIdfa, std::string(129, 'x')), "ID is 129 bytes; id type idfa allows at most 128");
}

TEST(IdCodec, StringsRefuseControlCharactersAndInvalidUtf8) {
  const std::string control = "ID contains a control character";
  const std::string bad = "ID is not valid UTF-8";
  EXPECT_EQ(error_of(kOaid, std::string("ab\0cd", 5)), control);
  EXPECT_EQ(error_of(kOaid, std::string(1, '\0')), control);
  for (const char* text : {"a\tb", "a\nb", "\r", "\x1f", "x\x7F"}) EXPECT_EQ(error_of(kOaid, text), control) << text;
  const std::vector<std::string> invalid = {
      // Overlong forms.
      "\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF", "\xE0\x9F\xBF", "\xF0\x80\x80\xAF", "\xF0\x8F\xBF\xBF",
      // Lone continuation bytes, a lead followed by a lead.
      "\x80", "a\xBF!", "\xBF\xBF", "\xC3\xC3\xA9",
      // Surrogates (U+D800, U+DFFF, a CESU-8 pair).
      "\xED\xA0\x80", "\xED\xBF\xBF", "\xED\xA0\xBD\xED\xB8\x80",
      // Truncated sequences.
      "\xE4\xB8", "\xF0\x9F\x98", "\xC3", "ab\xE4", "\xE4\xB8x",
      // Past U+10FFFF, and bytes that never start anything.
      "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xF8\x88\x80\x80\x80", "\xFE", "\xFF"};
  for (const auto& text : invalid) EXPECT_EQ(error_of(kOaid, text), bad);
}

// Whether `s` is well-formed UTF-8, decoded the long way: the sequence
// length from the lead byte's bit pattern, the code point assembled from the
// payload bits, then RFC 3629's rules on the result.
bool naive_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t len;
    uint32_t cp;
    if ((b & 0x80) == 0) {
      len = 1, cp = b;
    } else if ((b & 0xE0) == 0xC0) {
      len = 2, cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3, cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4, cp = b & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = cp << 6 | (c & 0x3F);
    }
    const std::size_t shortest = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (len != shortest || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
    i += len;
  }
  return true;
}

bool naive_string_ok(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return false;
  }
  return naive_utf8(s);
}

TEST(IdCodec, Utf8CheckAgreesWithANaiveDecoder) {
  EncodedId out;
  std::size_t accepted = 0;
  auto check = [&](const std::string& text) {
    encode_id_into(kOaid, text, false, out);
    accepted += out.ok();
    ASSERT_EQ(out.ok(), naive_string_ok(text)) << testing::PrintToString(text) << ": " << out.error;
  };
  for (int a = 0; a < 256; ++a) {
    check(std::string(1, static_cast<char>(a)));
    for (int b = 0; b < 256; ++b) check({static_cast<char>(a), static_cast<char>(b)});
  }
  // 95 printable ASCII characters; 95 * 95 pairs of them and the 1,920 code
  // points U+0080..U+07FF.
  EXPECT_EQ(accepted, 95u + 95u * 95u + 1920u);
  accepted = 0;
  for (int a = 0xE0; a < 0xF0; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (int c = 0; c < 256; ++c) check({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
    }
  }
  // U+0800..U+FFFF without the 2,048 surrogates.
  EXPECT_EQ(accepted, 0x10000u - 0x800u - 2048u);
  std::mt19937 rng(15);
  for (int i = 0; i < 200000; ++i) {
    // 4-byte leads with continuation-ish bytes, so most are near the boundaries.
    std::string t = {static_cast<char>(0xF0 + rng() % 16), static_cast<char>(0x80 + rng() % 64 - (rng() % 8 == 0)),
                     static_cast<char>(0x80 + rng() % 64), static_cast<char>(rng() % 4 ? 0x80 + rng() % 64 : rng())};
    check(t);
    check("ok" + t + "ok");
  }
}

TEST(IdCodec, DigestsAreRawBytesFromHexOfEitherCase) {
  const std::string upper = "D41D8CD98F00B204E9800998ECF8427E";
  const std::string key = key_of(kMd5Id, upper);
  EXPECT_EQ(key, std::string("\xd4\x1d\x8c\xd9\x8f\x00\xb2\x04\xe9\x80\x09\x98\xec\xf8\x42\x7e", 16));
  EXPECT_EQ(id_text(kMd5Id, key), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(key_of(kMd5Id, "d41d8cd98f00B204e9800998ecf8427E"), key);
  const std::string sha = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
  EXPECT_EQ(key_of(kShaId, sha).size(), 32u);
  EXPECT_EQ(round_trip(kShaId, sha), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::mt19937 rng(15);
  for (int i = 0; i < 500; ++i) {
    std::string hex(64, '0');
    for (auto& c : hex) c = "0123456789abcdef"[rng() % 16];
    EXPECT_EQ(round_trip(kShaId, hex), hex);
    EXPECT_EQ(round_trip(kShaPhone, hex), hex);  // a normalised type takes digests as they are
    EXPECT_EQ(round_trip(kMd5Id, hex.substr(0, 32)), hex.substr(0, 32));
  }
}

TEST(IdCodec, DigestsRefuseWrongLengthsAndNonHexSayingHow) {
  const std::string hint = "; plain values are hashed here only when the request says \"hash\"";
  EXPECT_EQ(error_of(kShaId, "13800138000"),
            "expected 64 hex characters (a SHA-256 digest), got 11 characters; plain values are hashed here only "
            "when the request says \"hash\"");
  EXPECT_EQ(error_of(kShaId, std::string(63, 'a')),
            "expected 64 hex characters (a SHA-256 digest), got 63 characters" + hint);
  EXPECT_EQ(error_of(kShaId, std::string(65, 'a')),
            "expected 64 hex characters (a SHA-256 digest), got 65 characters" + hint);
  EXPECT_EQ(error_of(kShaId, std::string(32, 'a')),
            "expected 64 hex characters (a SHA-256 digest), got 32 characters" + hint);
  EXPECT_EQ(error_of(kMd5Id, std::string(31, 'a')),
            "expected 32 hex characters (an MD5 digest), got 31 characters" + hint);
  EXPECT_EQ(error_of(kMd5Id, std::string(64, 'a')),
            "expected 32 hex characters (an MD5 digest), got 64 characters" + hint);
  EXPECT_EQ(error_of(kShaPhone, "+86 138-0013-8000"),
            "expected 64 hex characters (a SHA-256 digest), got 17 characters" + hint);
  const std::string non_hex =
      "expected 32 hex characters (an MD5 digest), got a character other than 0-9, a-f, A-F" + hint;
  for (const char bad : {'g', 'G', 'x', ' ', '-', '\0', '\xff'}) {
    for (const std::size_t at : {0u, 1u, 17u, 31u}) {
      std::string text(32, 'a');
      text[at] = bad;
      EXPECT_EQ(error_of(kMd5Id, text), non_hex) << int(bad) << " at " << at;
    }
  }
  EXPECT_EQ(error_of(kShaId, ""), "ID is empty");
  EXPECT_EQ(error_of(kShaId, "", true), "the value to hash is empty");
}

TEST(IdCodec, PlainValuesAreDigestedOnlyForHashedTypes) {
  // FIPS 180-2's "abc" and RFC 1321's "abc", normalisation none: the bytes as given.
  EXPECT_EQ(id_text(kShaId, key_of(kShaId, "abc", true)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(id_text(kMd5Id, key_of(kMd5Id, "abc", true)), "900150983cd24fb0d6963f7d28e17f72");
  // Any bytes, NULs included, when nothing normalises them.
  EXPECT_EQ(key_of(kShaId, std::string("a\0b", 3), true).size(), 32u);
  EXPECT_NE(key_of(kShaId, std::string("a\0b", 3), true), key_of(kShaId, "a", true));
  EXPECT_EQ(error_of(kShaPhone, "not a phone", true), "not a phone number: contains 'n'");
  EXPECT_EQ(error_of(kShaPhone, "()", true), "phone normalises to nothing");
  EXPECT_EQ(error_of(kOaid, "abc", true), "id type oaid is not hashed; drop \"hash\"");
}

TEST(IdCodec, NoErrorRepeatsTheId) {
  const std::string m = "Qz7MARKERqz";
  struct Case {
    const IdType* type;
    std::string text;
    bool plain;
  };
  const IdType email{"email_md5", IdKind::kMd5, Normalization::kEmail, 0, ""};
  const std::vector<Case> cases = {
      {&kUid, m, false},
      {&kUid, "1" + m, false},
      {&kUid, m, true},
      {&kOaid, m + std::string(64, 'x'), false},
      {&kOaid, m + "\n", false},
      {&kOaid, m + "\xC0\xAF", false},
      {&kOaid, m, true},
      {&kShaId, m, false},
      {&kShaId, m + std::string(64 - m.size(), 'a'), false},
      {&kMd5Id, m + std::string(32 - m.size(), 'a'), false},
      {&kShaPhone, "+86 " + m, true},
      {&kShaPhone, m, false},
      {&email, m, true},
      {&email, m + "@a@b", true},
      {&email, m + " x@y", true},
  };
  for (const auto& c : cases) {
    const auto r = encode_id(*c.type, c.text, c.plain);
    ASSERT_FALSE(r.ok()) << c.type->name;
    EXPECT_EQ(r.error.find("MARKER"), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find(m.substr(0, 3)), std::string::npos) << r.error;
  }
}

TEST(IdCodec, EncodeIntoReusesTheCallersBuffers) {
  EncodedId out;
  encode_id_into(kShaId, "abc", true, out);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out.key.size(), 32u);
  encode_id_into(kUid, "x", false, out);
  EXPECT_FALSE(out.ok());
  encode_id_into(kUid, "7", false, out);
  ASSERT_TRUE(out.ok()) << out.error;  // the last error is gone
  EXPECT_EQ(out.key, std::string("\x07\0\0\0\0\0\0\0", 8));
  encode_id_into(kOaid, "dev-1", false, out);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out.key, "dev-1");
  const EncodedId fresh = encode_id(kMd5Id, "abc", true);
  encode_id_into(kMd5Id, "abc", true, out);
  EXPECT_EQ(out.key, fresh.key);
}

TEST(IdCodec, AppendIdTextAppendsAndSurvivesCorruptKeys) {
  std::string out = "ids: ";
  append_id_text(kUid, key_of(kUid, "42"), out);
  out += ',';
  append_id_text(kOaid, "dev-1", out);
  out += ',';
  append_id_text(kMd5Id, key_of(kMd5Id, "900150983CD24FB0D6963F7D28E17F72"), out);
  EXPECT_EQ(out, "ids: 42,dev-1,900150983cd24fb0d6963f7d28e17f72");
  // A u64 key of the wrong width shows its bytes rather than reading past them.
  EXPECT_EQ(id_text(kUid, std::string("\x01\x02\x03", 3)), "010203");
  EXPECT_EQ(id_text(kShaId, std::string("\xab", 1)), "ab");
  EXPECT_EQ(id_text(kUid, ""), "");
}

}  // namespace
}  // namespace crowd::identity
