// identity/id_type.h: names, kinds and normalisations by name, the checks
// and defaults of a definition, and its stored text: exact round trips for
// every valid definition, and nullopt (never a throw or a wrong type) for
// every truncation of a valid text and for random bytes.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "identity/id_type.h"

namespace crowd::identity {
namespace {

TEST(IdType, NamesAreLowerCaseIdentifiersUpTo32Characters) {
  for (const char* name : {"uid", "oaid", "a", "phone_sha256", "x1", "a_", "abcdefghijklmnopqrstuvwxyz012345"}) {
    EXPECT_TRUE(valid_id_type_name(name)) << name;
  }
  for (const char* name : {"", "Uid", "OAID", "1abc", "_a", "a-b", "a b", "a.b", "phone:sha256", "é",
                           "abcdefghijklmnopqrstuvwxyz0123456", "a\n"}) {
    EXPECT_FALSE(valid_id_type_name(name)) << name;
  }
  EXPECT_FALSE(valid_id_type_name(std::string("a\0b", 3)));
  EXPECT_TRUE(valid_id_type_name(kBuiltInUid));
}

TEST(IdType, KindsAndNormalizationsByName) {
  for (const IdKind k : {IdKind::kU64, IdKind::kString, IdKind::kMd5, IdKind::kSha256}) {
    EXPECT_EQ(id_kind_from_name(id_kind_name(k)), k);
  }
  EXPECT_EQ(id_kind_name(IdKind::kU64), "u64");
  EXPECT_EQ(id_kind_name(IdKind::kString), "string");
  EXPECT_EQ(id_kind_name(IdKind::kMd5), "md5");
  EXPECT_EQ(id_kind_name(IdKind::kSha256), "sha256");
  EXPECT_EQ(id_kind_name(static_cast<IdKind>(0)), "");
  EXPECT_EQ(id_kind_name(static_cast<IdKind>(9)), "");
  for (const char* bad : {"", "U64", "sha-256", "SHA256", "sha1", "int", "md5 "}) {
    EXPECT_EQ(id_kind_from_name(bad), std::nullopt) << bad;
  }
  for (const Normalization n : {Normalization::kNone, Normalization::kPhone, Normalization::kEmail}) {
    EXPECT_EQ(normalization_from_name(normalization_name(n)), n);
  }
  EXPECT_EQ(normalization_name(Normalization::kNone), "none");
  EXPECT_EQ(normalization_name(Normalization::kPhone), "phone");
  EXPECT_EQ(normalization_name(Normalization::kEmail), "email");
  EXPECT_EQ(normalization_name(static_cast<Normalization>(3)), "");
  EXPECT_EQ(normalization_from_name("Phone"), std::nullopt);
  EXPECT_EQ(normalization_from_name(""), std::nullopt);
}

TEST(IdType, FixedKeyBytes) {
  EXPECT_EQ(fixed_key_bytes(IdKind::kU64), 8u);
  EXPECT_EQ(fixed_key_bytes(IdKind::kMd5), 16u);
  EXPECT_EQ(fixed_key_bytes(IdKind::kSha256), 32u);
  EXPECT_EQ(fixed_key_bytes(IdKind::kString), 0u);
}

TEST(IdType, CompleteFillsTheDefaults) {
  IdType s{"oaid", IdKind::kString, Normalization::kNone, 0, ""};
  EXPECT_EQ(complete_and_check(s), "");
  EXPECT_EQ(s.max_length, 128u);
  IdType p{"phone_sha256", IdKind::kSha256, Normalization::kPhone, 0, ""};
  EXPECT_EQ(complete_and_check(p), "");
  EXPECT_EQ(p.default_country_code, "86");
  // Given values are kept, and a complete definition is left as it is.
  IdType given{"caid", IdKind::kString, Normalization::kNone, 40, ""};
  EXPECT_EQ(complete_and_check(given), "");
  EXPECT_EQ(given.max_length, 40u);
  IdType us{"phone_md5", IdKind::kMd5, Normalization::kPhone, 0, "1"};
  EXPECT_EQ(complete_and_check(us), "");
  EXPECT_EQ(us.default_country_code, "1");
  IdType again = p;
  EXPECT_EQ(complete_and_check(again), "");
  EXPECT_EQ(again, p);
  IdType uid{"uid", IdKind::kU64, Normalization::kNone, 0, ""};
  EXPECT_EQ(complete_and_check(uid), "");
  EXPECT_EQ(uid, (IdType{"uid", IdKind::kU64, Normalization::kNone, 0, ""}));
}

std::string reason(IdType t) { return complete_and_check(t); }

TEST(IdType, CheckNamesTheFieldThatIsWrong) {
  EXPECT_EQ(reason({"Bad-Name", IdKind::kString, Normalization::kNone, 0, ""}),
            "name must be 1 to 32 characters of a-z, 0-9 and _, starting with a letter");
  EXPECT_EQ(reason({"", IdKind::kString, Normalization::kNone, 0, ""}),
            "name must be 1 to 32 characters of a-z, 0-9 and _, starting with a letter");
  EXPECT_EQ(reason({"x", static_cast<IdKind>(7), Normalization::kNone, 0, ""}),
            "kind must be one of u64, string, md5, sha256");
  EXPECT_EQ(reason({"uid", IdKind::kString, Normalization::kNone, 0, ""}),
            "name uid is reserved for the built-in u64 type");
  EXPECT_EQ(reason({"x", IdKind::kSha256, static_cast<Normalization>(9), 0, ""}),
            "normalization must be one of none, phone, email");
  EXPECT_EQ(reason({"x", IdKind::kString, Normalization::kPhone, 0, ""}),
            "normalization applies only to md5 and sha256 types");
  EXPECT_EQ(reason({"x", IdKind::kU64, Normalization::kEmail, 0, ""}),
            "normalization applies only to md5 and sha256 types");
  EXPECT_EQ(reason({"x", IdKind::kString, Normalization::kNone, 257, ""}),
            "max_length must be 1 to 256 for string types");
  EXPECT_EQ(reason({"x", IdKind::kString, Normalization::kNone, 256, ""}), "");
  EXPECT_EQ(reason({"x", IdKind::kString, Normalization::kNone, 1, ""}), "");
  EXPECT_EQ(reason({"x", IdKind::kU64, Normalization::kNone, 8, ""}), "max_length applies only to string types");
  EXPECT_EQ(reason({"x", IdKind::kMd5, Normalization::kNone, 32, ""}), "max_length applies only to string types");
  for (const char* cc : {"0", "086", "1234", "8a", "+86", " 86", "٨٦"}) {
    EXPECT_EQ(reason({"x", IdKind::kSha256, Normalization::kPhone, 0, cc}),
              "default_country_code must be 1 to 3 digits, not starting with 0")
        << cc;
  }
  for (const char* cc : {"1", "86", "852", "999"}) {
    EXPECT_EQ(reason({"x", IdKind::kSha256, Normalization::kPhone, 0, cc}), "") << cc;
  }
  EXPECT_EQ(reason({"x", IdKind::kSha256, Normalization::kEmail, 0, "86"}),
            "default_country_code applies only to phone normalization");
  EXPECT_EQ(reason({"x", IdKind::kString, Normalization::kNone, 0, "86"}),
            "default_country_code applies only to phone normalization");
}

// Every complete valid definition over a grid of the fields.
std::vector<IdType> valid_definitions() {
  std::vector<IdType> out;
  const std::vector<std::string> names = {"uid", "oaid", "a", "phone_sha256", "abcdefghijklmnopqrstuvwxyz012345"};
  for (const auto& name : names) {
    for (const IdKind kind : {IdKind::kU64, IdKind::kString, IdKind::kMd5, IdKind::kSha256}) {
      for (const Normalization n : {Normalization::kNone, Normalization::kPhone, Normalization::kEmail}) {
        for (const uint32_t max_length : {0u, 1u, 36u, 128u, 256u}) {
          for (const char* cc : {"", "1", "86", "852"}) {
            IdType t{name, kind, n, max_length, cc};
            IdType completed = t;
            if (complete_and_check(completed).empty() && completed == t) out.push_back(t);
          }
        }
      }
    }
  }
  return out;
}

TEST(IdType, EncodedDefinitionsDecodeToThemselves) {
  const auto all = valid_definitions();
  ASSERT_GT(all.size(), 60u);
  for (const auto& t : all) {
    const std::string text = encode_id_type(t);
    const auto back = decode_id_type(t.name, text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, t) << text;
  }
  EXPECT_EQ(encode_id_type({"p", IdKind::kSha256, Normalization::kPhone, 0, "86"}), "v1;sha256;phone;0;86");
  EXPECT_EQ(encode_id_type({"oaid", IdKind::kString, Normalization::kNone, 128, ""}), "v1;string;none;128;");
  EXPECT_EQ(encode_id_type({"uid", IdKind::kU64, Normalization::kNone, 0, ""}), "v1;u64;none;0;");
}

TEST(IdType, DecodeRefusesWhatEncodeWouldNotWrite) {
  EXPECT_TRUE(decode_id_type("p", "v1;sha256;phone;0;86").has_value());
  for (const char* text : {"",
                           "v1",
                           "v1;sha256;phone;0",
                           "v1;sha256;phone;0;86;",
                           "v1;sha256;phone;0;86;x",
                           "v2;sha256;phone;0;86",
                           "V1;sha256;phone;0;86",
                           "v1;SHA256;phone;0;86",
                           "v1;sha256;Phone;0;86",
                           "v1;sha256;phone;;86",
                           "v1;sha256;phone;00;86",
                           "v1;sha256;phone;-0;86",
                           "v1;sha256;phone;+0;86",
                           "v1;sha256;phone; 0;86",
                           "v1;sha256;phone;0;",
                           "v1;sha256;phone;0;086",
                           "v1;sha256;phone;0;8a",
                           "v1;string;none;0128;",
                           "v1;string;none;0;",  // 0: not complete
                           "v1;string;none;257;",
                           "v1;string;none;4294967424;",
                           "v1;string;phone;128;86",
                           "v1;u64;none;8;",
                           "v1;md5;email;0;86",
                           " v1;md5;email;0;",
                           "v1;md5;email;0; ",
                           "v1;md5;email;0;\n",
                           "v1,md5,email,0,"}) {
    EXPECT_EQ(decode_id_type("p", text), std::nullopt) << text;
  }
  // The name is checked too, and uid must stay u64.
  EXPECT_EQ(decode_id_type("Bad", "v1;md5;none;0;"), std::nullopt);
  EXPECT_EQ(decode_id_type("", "v1;md5;none;0;"), std::nullopt);
  EXPECT_EQ(decode_id_type("uid", "v1;md5;none;0;"), std::nullopt);
  EXPECT_TRUE(decode_id_type("uid", "v1;u64;none;0;").has_value());
}

TEST(IdType, EveryTruncationOfAValidTextIsRefused) {
  std::size_t accepted = 0;
  for (const auto& t : valid_definitions()) {
    const std::string text = encode_id_type(t);
    for (std::size_t n = 0; n < text.size(); ++n) {
      const auto back = decode_id_type(t.name, text.substr(0, n));
      if (!back) continue;
      // A prefix may itself be a valid definition (a country code "852" cut
      // to "85"), but then it is exactly the one its own text describes.
      ++accepted;
      EXPECT_EQ(encode_id_type(*back), text.substr(0, n));
      EXPECT_NE(*back, t);
    }
  }
  // Only country codes can be cut into another valid one: "86" → "8",
  // "852" → "85", "8"; for the 4 names other than uid and 2 hashed kinds.
  EXPECT_EQ(accepted, 24u);
}

TEST(IdType, RandomBytesDecodeToNothingOrToExactlyWhatTheyEncode) {
  std::mt19937_64 rng(15);
  const std::string alphabet = "v1;0123456789stringnoephmailsha256u4d ";
  const auto valid = valid_definitions();
  std::size_t accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string text;
    const int mode = i % 3;
    if (mode == 0) {  // any bytes
      text.resize(rng() % 40);
      for (auto& c : text) c = static_cast<char>(rng());
    } else if (mode == 1) {  // bytes from the format's own alphabet
      text.resize(rng() % 30);
      for (auto& c : text) c = alphabet[rng() % alphabet.size()];
    } else {  // a valid text with one byte changed, added or removed
      text = encode_id_type(valid[rng() % valid.size()]);
      const std::size_t at = rng() % (text.size() + 1);
      switch (rng() % 3) {
        case 0:
          if (at < text.size()) text[at] = static_cast<char>(rng());
          break;
        case 1:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), static_cast<char>(rng()));
          break;
        default:
          if (at < text.size()) text.erase(at, 1);
      }
    }
    const auto back = decode_id_type("x", text);
    if (!back) continue;
    ++accepted;
    EXPECT_EQ(encode_id_type(*back), text);
    IdType completed = *back;
    EXPECT_EQ(complete_and_check(completed), "");
    EXPECT_EQ(completed, *back);
  }
  EXPECT_GT(accepted, 0u);  // the mutations do find other valid definitions
}

}  // namespace
}  // namespace crowd::identity
