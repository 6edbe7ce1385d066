// identity/normalize.h: phones and emails put in the form the platforms
// publish before hashing, the reasons for refusing the rest (which never
// repeat the value), and the whole hashed pipeline (normalise, digest) as
// encode_id runs it, against digests computed outside crowd
// (`printf %s 8613800138000 | sha256sum`).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "identity/id_codec.h"
#include "identity/normalize.h"

namespace crowd::identity {
namespace {

std::string phone(std::string_view raw, std::string_view cc = "86") {
  std::string why;
  const auto out = normalize_phone(raw, cc, why);
  EXPECT_TRUE(out.has_value()) << "refused: " << why;
  return out.value_or("");
}

// The reason a phone is refused ("" if it was not).
std::string phone_refusal(std::string_view raw, std::string_view cc = "86") {
  std::string why;
  const auto out = normalize_phone(raw, cc, why);
  EXPECT_FALSE(out.has_value()) << "accepted as " << *out;
  return why;
}

std::string email(std::string_view raw) {
  std::string why;
  const auto out = normalize_email(raw, why);
  EXPECT_TRUE(out.has_value()) << "refused: " << why;
  return out.value_or("");
}

std::string email_refusal(std::string_view raw) {
  std::string why;
  const auto out = normalize_email(raw, why);
  EXPECT_FALSE(out.has_value()) << "accepted as " << *out;
  return why;
}

TEST(NormalizePhone, WritesEveryFormOfOneNumberTheSameWay) {
  for (const char* raw :
       {"+86 138-0013-8000", "0086 13800138000", "86 13800138000", "13800138000", "013800138000", "8613800138000",
        "+8613800138000", "(+86) 138 0013 8000", "\t138.0013.8000 ", "00 86 (138) 0013-8000"}) {
    EXPECT_EQ(phone(raw), "8613800138000") << raw;
  }
}

TEST(NormalizePhone, KeepsTheCountryCodeGivenAfterPlusOr00) {
  EXPECT_EQ(phone("+1 (415) 555-2671"), "14155552671");
  EXPECT_EQ(phone("001 415 555 2671"), "14155552671");
  EXPECT_EQ(phone("+44 20 7946 0958"), "442079460958");
  // "(0)": the trunk prefix written after the country code is not a digit of the number.
  EXPECT_EQ(phone("+44 (0)20 7946 0958"), "442079460958");
  EXPECT_EQ(phone("+852 2123 4567"), "85221234567");
}

TEST(NormalizePhone, NationalNumbersTakeTheDefaultCountryCode) {
  EXPECT_EQ(phone("(010) 6552-9988"), "861065529988");  // Beijing landline, trunk 0 dropped
  EXPECT_EQ(phone("(415) 555-2671", "1"), "14155552671");
  EXPECT_EQ(phone("14155552671", "1"), "14155552671");  // already starts with the code
  EXPECT_EQ(phone("020 7946 0958", "44"), "442079460958");
  // Longer than 11 digits: taken to carry its own country code.
  EXPECT_EQ(phone("441234567890"), "441234567890");
  EXPECT_EQ(phone("12345678"), "8612345678");
}

TEST(NormalizePhone, RefusesWhatIsNotAPhoneWithAReason) {
  for (const char* raw : {"", "   ", "+", "00", "0", "---", "()", "+ ()"}) {
    EXPECT_EQ(phone_refusal(raw), "phone normalises to nothing") << '"' << raw << '"';
  }
  EXPECT_EQ(phone_refusal("138x0013"), "not a phone number: contains 'x'");
  EXPECT_EQ(phone_refusal("tel:13800138000"), "not a phone number: contains 't'");
  EXPECT_EQ(phone_refusal("86+13800138000"), "not a phone number: contains '+'");
  EXPECT_EQ(phone_refusal("++8613800138000"), "not a phone number: contains '+'");
  EXPECT_EQ(phone_refusal("13800138000/1"), "not a phone number: contains '/'");
  EXPECT_EQ(phone_refusal("\xef\xbc\x91\xef\xbc\x93\xef\xbc\x98"),
            "not a phone number: contains a non-ASCII character");
  EXPECT_EQ(phone_refusal("138\n00138000"), "not a phone number: contains a control character");
  EXPECT_EQ(phone_refusal(std::string("138") + '\0' + "00138000"), "not a phone number: contains a control character");
  EXPECT_EQ(phone_refusal("12345"), "phone normalises to 7 digits; 8 to 15 expected");
  EXPECT_EQ(phone_refusal("+1234567"), "phone normalises to 7 digits; 8 to 15 expected");
  EXPECT_EQ(phone_refusal("+1234567890123456"), "phone normalises to 16 digits; 8 to 15 expected");
  EXPECT_EQ(phone_refusal("1234567890123456"), "phone normalises to 16 digits; 8 to 15 expected");
  EXPECT_EQ(phone_refusal("+0086 13800138000"), "not a phone number: a country code cannot start with 0");
  EXPECT_EQ(phone_refusal("000 86 13800138000"), "not a phone number: a country code cannot start with 0");
}

TEST(NormalizePhone, ResultsAreDigitsWithoutPlusOrLeadingZeros) {
  for (const char* raw : {"+86 138-0013-8000", "013800138000", "001 415 555 2671", "(010) 6552-9988"}) {
    const std::string out = phone(raw);
    EXPECT_GE(out.size(), 8u);
    EXPECT_LE(out.size(), 15u);
    EXPECT_NE(out[0], '0') << raw;
    EXPECT_EQ(out.find_first_not_of("0123456789"), std::string::npos) << raw;
  }
}

TEST(NormalizePhone, TheBufferFormMatchesAndReusesTheBuffer) {
  std::string out = "left over from the last call";
  std::string why;
  ASSERT_TRUE(normalize_phone_into("+86 138-0013-8000", "86", out, why));
  EXPECT_EQ(out, "8613800138000");
  ASSERT_TRUE(normalize_phone_into("+1 (415) 555-2671", "86", out, why));
  EXPECT_EQ(out, "14155552671");
  EXPECT_FALSE(normalize_phone_into("nope", "86", out, why));
  EXPECT_EQ(why, "not a phone number: contains 'n'");
}

TEST(NormalizeEmail, TrimsAndLowerCasesAsciiOnly) {
  EXPECT_EQ(email("  John.Doe@Example.COM \n"), "john.doe@example.com");
  EXPECT_EQ(email("\t\r\v\fa@b\f"), "a@b");
  EXPECT_EQ(email("x+TAG@Mail.Example.org"), "x+tag@mail.example.org");
  // Bytes outside ASCII are kept as they are (U+00DC, U+00EF).
  EXPECT_EQ(email("\xC3\x9CN\xC3\xAF-CODE@Example.com"), "\xC3\x9Cn\xC3\xAF-code@example.com");
}

TEST(NormalizeEmail, RefusesWhatIsNotAnEmailWithAReason) {
  EXPECT_EQ(email_refusal(""), "email is empty");
  EXPECT_EQ(email_refusal(" \t\n"), "email is empty");
  EXPECT_EQ(email_refusal("john.doe.example.com"), "not an email: no '@'");
  EXPECT_EQ(email_refusal("a@b@example.com"), "not an email: more than one '@'");
  EXPECT_EQ(email_refusal("@example.com"), "not an email: nothing before or after '@'");
  EXPECT_EQ(email_refusal("john@"), "not an email: nothing before or after '@'");
  EXPECT_EQ(email_refusal(" @ "), "not an email: nothing before or after '@'");
  EXPECT_EQ(email_refusal("john doe@example.com"), "not an email: contains whitespace");
  EXPECT_EQ(email_refusal("john@exa\tmple.com"), "not an email: contains whitespace");
  EXPECT_EQ(email_refusal(std::string("john\0@example.com", 17)), "not an email: contains a control character");
  EXPECT_EQ(email_refusal("john\x7F@example.com"), "not an email: contains a control character");
}

TEST(Normalize, ReasonsNeverRepeatTheValue) {
  const std::string marker = "MARKER4711";
  for (const std::string& raw : {marker, "+86 " + marker, marker + "@x@y", " " + marker + " x@y", marker}) {
    std::string why;
    EXPECT_FALSE(normalize_phone(raw, "86", why).has_value());
    EXPECT_EQ(why.find("4711"), std::string::npos) << why;
    EXPECT_EQ(why.find("MARKER"), std::string::npos) << why;
    why.clear();
    if (!normalize_email(raw, why)) {
      EXPECT_EQ(why.find("4711"), std::string::npos) << why;
      EXPECT_EQ(why.find("MARKER"), std::string::npos) << why;
    }
  }
}

// The hashed pipeline as a request with "hash": true runs it. Expected
// digests computed outside crowd with coreutils, e.g.
// `printf %s 8613800138000 | sha256sum`.
TEST(HashedPipeline, PhonesAndEmailsHashTheirNormalisedForm) {
  const IdType sha_phone{"phone_sha256", IdKind::kSha256, Normalization::kPhone, 0, "86"};
  const IdType md5_phone{"phone_md5", IdKind::kMd5, Normalization::kPhone, 0, "86"};
  const IdType sha_email{"email_sha256", IdKind::kSha256, Normalization::kEmail, 0, ""};
  for (const char* raw : {"+86 138-0013-8000", "13800138000", "0086 13800138000"}) {
    const auto sha = encode_id(sha_phone, raw, true);
    ASSERT_TRUE(sha.ok()) << sha.error;
    EXPECT_EQ(id_text(sha_phone, sha.key), "bf08aacce7f9b2452863cf99373043c3333f0e3127f1f787c4abb46ab6cf2b83");
    const auto md = encode_id(md5_phone, raw, true);
    ASSERT_TRUE(md.ok()) << md.error;
    EXPECT_EQ(id_text(md5_phone, md.key), "3188d9b70320caec2e668ab7ccc50a27");
  }
  const auto us = encode_id(IdType{"p", IdKind::kSha256, Normalization::kPhone, 0, "1"}, "(415) 555-2671", true);
  ASSERT_TRUE(us.ok()) << us.error;
  EXPECT_EQ(id_text(sha_phone, us.key), "758fbf68945f21c416814c539ab578876c8d98fb69e6da692def92cd52417fe0");
  const auto mail = encode_id(sha_email, "  John.Doe@Example.COM ", true);
  ASSERT_TRUE(mail.ok()) << mail.error;
  EXPECT_EQ(id_text(sha_email, mail.key), "836f82db99121b3481011f16b49dfa5fbc714a0d1b1b9f784a1ebbbf5b39577f");
  // The same digest sent as hex (either case) is the same key.
  const auto hex = encode_id(sha_email, "836F82DB99121B3481011F16B49DFA5FBC714A0D1B1B9F784A1EBBBF5B39577F", false);
  ASSERT_TRUE(hex.ok()) << hex.error;
  EXPECT_EQ(hex.key, mail.key);
}

TEST(HashedPipeline, APhoneThatNormalisesToNothingIsRefusedNotHashed) {
  const IdType sha_phone{"phone_sha256", IdKind::kSha256, Normalization::kPhone, 0, "86"};
  const auto r = encode_id(sha_phone, " - ", true);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, "phone normalises to nothing");
  const IdType md5_email{"email_md5", IdKind::kMd5, Normalization::kEmail, 0, ""};
  EXPECT_EQ(encode_id(md5_email, "   ", true).error, "email is empty");
}

}  // namespace
}  // namespace crowd::identity
