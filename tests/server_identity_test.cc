// Identity over HTTP (issue 15), in process: ID types, ingest and assign by
// IDs, one user's view, exports in a channel's ID space, membership,
// merging and erasure -- on random workloads against an independent model
// (users as maps of IDs, digests computed here with EVP_Digest, not the
// server's path), and every bad input refused whole.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/server_support/api_harness.h"
#include "tests/support/index_test_util.h"

namespace crowd::test {
namespace {

namespace http = boost::beast::http;
using json = nlohmann::json;

std::string hex(const unsigned char* d, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[d[i] >> 4];
    out += digits[d[i] & 15];
  }
  return out;
}
// EVP_Digest with the legacy method objects: not the fetched EVP_MD_CTX
// path identity/digest.cc takes.
std::string digest_hex(const EVP_MD* md, const std::string& s) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EXPECT_EQ(EVP_Digest(s.data(), s.size(), d, &n, md, nullptr), 1);
  return hex(d, n);
}
std::string sha256_hex(const std::string& s) { return digest_hex(EVP_sha256(), s); }
std::string md5_hex(const std::string& s) { return digest_hex(EVP_md5(), s); }

std::string oaid(int n) { return numbered("oaid-", static_cast<uint64_t>(n)) + "-x"; }
std::string dev(int n) { return std::to_string(5'000'000'000ULL + static_cast<uint64_t>(n)); }
// A national mobile number; stored as SHA-256 of 86 + it.
std::string phone(int n) { return std::to_string(13'800'000'000ULL + static_cast<uint64_t>(n)); }
std::string phone_hex(int n) { return sha256_hex("86" + phone(n)); }

class Identity : public ::testing::Test {
 protected:
  Identity() {
    put_type("oaid", {{"kind", "string"}, {"max_length", 40}});
    put_type("dev", {{"kind", "u64"}});
    put_type("phone", {{"kind", "sha256"}, {"normalization", "phone"}});
    put_type("email_md5", {{"kind", "md5"}, {"normalization", "email"}});
  }
  void put_type(const std::string& name, const json& body, int expect = 201) {
    const auto r = h_.call(http::verb::put, "/v1/id-types/" + name, body.dump());
    ASSERT_EQ(r.status, expect) << name << ": " << r.body;
  }
  ApiResult ingest(const std::string& ndjson) {
    return h_.call(http::verb::post, "/v1/ingest", ndjson, "application/x-ndjson");
  }
  ApiResult get(const std::string& target) { return h_.call(http::verb::get, target); }
  ApiResult post(const std::string& target, const json& body) {
    return h_.call(http::verb::post, target, body.dump());
  }
  uint64_t version() { return h_.store().view()->version(); }
  ApiHarness h_;
};

TEST_F(Identity, TypesListDefineAndStayImmutable) {
  auto r = get("/v1/id-types");
  ASSERT_EQ(r.status, 200);
  const auto types = json::parse(r.body)["id_types"];
  ASSERT_EQ(types.size(), 5u);
  EXPECT_EQ(types[0]["name"], "uid");
  EXPECT_EQ(types[0]["built_in"], true);
  EXPECT_EQ(types[4]["name"], "phone");  // after uid, in byte order
  EXPECT_EQ(types[4]["default_country_code"], "86");
  put_type("phone", {{"kind", "sha256"}, {"normalization", "phone"}}, 200);     // the same: fine
  put_type("phone", {{"kind", "sha256"}, {"normalization", "email"}}, 409);     // another: refused
  put_type("phone", {{"kind", "md5"}, {"normalization", "phone"}}, 409);
  put_type("uid", {{"kind", "string"}}, 409);  // built in
  put_type("uid", {{"kind", "u64"}}, 200);     // as it is: nothing to do
  put_type("Bad-Name", {{"kind", "string"}}, 400);
  put_type("x", {{"kind", "sha512"}}, 400);
  put_type("y", {{"kind", "string"}, {"normalization", "phone"}}, 400);
  r = h_.call(http::verb::put, "/v1/id-types/phone", R"({"kind":"sha256","normalization":"email"})");
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "id_type_exists");
}

TEST_F(Identity, PlainValuesAreNormalisedAndHashedAsPublished) {
  const std::string hashed = R"({"ids": {"phone": "+86 138-0013-8000", "email_md5": "  Foo.Bar@Example.COM "},
                                 "hash": true, "tags": ["crm"]})";
  std::string line = hashed;
  std::erase(line, '\n');
  ASSERT_EQ(ingest(line + "\n").status, 200);
  const auto r = get("/v1/users/phone/" + sha256_hex("8613800138000"));
  ASSERT_EQ(r.status, 200) << r.body;
  const auto user = json::parse(r.body);
  EXPECT_EQ(user["uid"], nullptr);
  EXPECT_EQ(user["ids"]["email_md5"], json::array({md5_hex("foo.bar@example.com")}));
  EXPECT_EQ(user["tags"], json::array({"crm"}));
  // The digest in upper case finds the same user.
  std::string upper = sha256_hex("8613800138000");
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(get("/v1/users/phone/" + upper).status, 200);
}

TEST_F(Identity, BadIdsAreRefusedWithTheLineAndChangeNothing) {
  ASSERT_EQ(ingest(R"({"id": 1, "ids": {"oaid": "ok"}, "tags": ["a"]})" "\n").status, 200);
  const uint64_t before = version();
  const std::string good = R"({"ids": {"oaid": "fine"}, "tags": ["a"]})";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"ids": {"phone": "abc"}, "tags": ["a"]})", "64 hex"},                       // non-hex, short
      {R"({"ids": {"phone": ")" + std::string(63, 'a') + R"("}, "tags": ["a"]})", "64 hex"},  // wrong length
      {R"({"ids": {"phone": ")" + std::string(64, 'g') + R"("}, "tags": ["a"]})", "hex"},     // non-hex
      {R"({"ids": {"oaid": ")" + std::string(41, 'o') + R"("}, "tags": ["a"]})", "at most 40"},  // over the limit
      {R"({"ids": {"imei": "1"}, "tags": ["a"]})", "unknown ID type"},
      {R"({"ids": {"phone": "13800138000"}, "tags": ["a"]})", "hash"},  // plain without "hash": true
      {R"x({"ids": {"phone": "+-()"}, "hash": true, "tags": ["a"]})x", ""},  // normalises to nothing
      {R"({"ids": {"oaid": "a\u0000b"}, "tags": ["a"]})", "control"},
      {"{\"ids\": {\"oaid\": \"\xff\xfe\"}, \"tags\": [\"a\"]}", ""},  // invalid UTF-8
      {R"({"ids": {"dev": "12x"}, "tags": ["a"]})", ""},
      {R"({"ids": {"dev": "99999999999999999999"}, "tags": ["a"]})", ""},
      {R"({"ids": {"oaid": 7}, "tags": ["a"]})", "string"},
      {R"({"ids": {}, "tags": ["a"]})", "at least one"},
      {R"({"ids": {"uid": "5"}, "id": 6, "tags": ["a"]})", "differs"},
  };
  for (const auto& [line, why] : bad) {
    const auto r = ingest(good + "\n" + line + "\n");
    ASSERT_EQ(r.status, 400) << line << " -> " << r.body;
    const auto e = json::parse(r.body)["error"];
    EXPECT_EQ(e["line"], 2) << line;
    EXPECT_NE(e["message"].get<std::string>().find(why), std::string::npos) << e;
    EXPECT_EQ(version(), before) << line;
  }
  // The same through assign.
  const auto r = post("/v1/assign", {{"add", {{{"ids", {{"phone", "nothex"}}}, {"tags", {"a"}}}}}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(version(), before);
  EXPECT_EQ(get("/v1/users/oaid/fine").status, 404);
}

// ---- The model.

struct User {
  std::optional<uint64_t> uid;
  std::map<std::string, std::set<std::string>> ids;  // type -> canonical texts
  std::set<std::string> tags;
};

struct Model {
  std::map<int, User> users;  // by model number
  std::map<std::pair<std::string, std::string>, int> owner;
  std::map<uint64_t, int> by_uid;
  int next = 0;

  struct Record {
    std::optional<uint64_t> uid;
    std::vector<std::pair<std::string, std::string>> ids;  // canonical
    std::string tag;
  };

  // Applies records in order; false (nothing changed) on a conflict.
  bool ingest(const std::vector<Record>& records) {
    Model next_state = *this;
    for (const auto& r : records) {
      std::set<int> found;
      if (r.uid) {
        if (const auto it = next_state.by_uid.find(*r.uid); it != next_state.by_uid.end()) found.insert(it->second);
      }
      for (const auto& id : r.ids) {
        if (const auto it = next_state.owner.find(id); it != next_state.owner.end()) found.insert(it->second);
      }
      if (found.size() > 1) return false;
      int u = 0;
      if (found.empty()) {
        u = next_state.next++;
        next_state.users[u] = User();
      } else {
        u = *found.begin();
        if (r.uid && next_state.users[u].uid && *next_state.users[u].uid != *r.uid) return false;
      }
      User& user = next_state.users[u];
      if (r.uid) {
        user.uid = r.uid;
        next_state.by_uid[*r.uid] = u;
      }
      for (const auto& id : r.ids) {
        user.ids[id.first].insert(id.second);
        next_state.owner[id] = u;
      }
      user.tags.insert(r.tag);
    }
    *this = std::move(next_state);
    return true;
  }

  void erase(int u) {
    for (const auto& [type, texts] : users[u].ids) {
      for (const auto& t : texts) owner.erase({type, t});
    }
    if (users[u].uid) by_uid.erase(*users[u].uid);
    users.erase(u);
  }

  // "ok", "conflict" (two uids) or "same".
  std::string merge(int from, int into) {
    if (from == into) return "same";
    User& f = users[from];
    User& i = users[into];
    if (f.uid && i.uid) return "conflict";
    for (const auto& [type, texts] : f.ids) {
      for (const auto& t : texts) {
        i.ids[type].insert(t);
        owner[{type, t}] = into;
      }
    }
    i.tags.insert(f.tags.begin(), f.tags.end());
    if (f.uid) {
      i.uid = f.uid;
      by_uid[*f.uid] = into;
    }
    users.erase(from);
    return "ok";
  }
};

// A random ID from small pools, as canonical text and as sent.
struct PoolId {
  std::string type;
  std::string canonical;
  std::string sent;
  bool plain = false;
};

PoolId random_id(std::mt19937_64& rng) {
  const int n = static_cast<int>(rng() % 20);
  switch (rng() % 3) {
    case 0:
      return {"oaid", oaid(n), oaid(n)};
    case 1:
      return {"dev", dev(n), dev(n)};
    default: {
      const bool plain = rng() % 2 == 0;
      return {"phone", phone_hex(n), plain ? phone(n) : phone_hex(n), plain};
    }
  }
}

TEST_F(Identity, RandomWorkloadMatchesTheModel) {
  std::mt19937_64 rng(15);
  Model model;
  int conflicts = 0, merges = 0, erasures = 0;
  for (int round = 0; round < 250; ++round) {
    const auto what = rng() % 10;
    if (what < 7) {
      std::vector<Model::Record> records(1 + rng() % 3);
      std::string body;
      for (auto& r : records) {
        json line;
        const bool plain = rng() % 2 == 0;  // this record sends phones in plain
        if (rng() % 3 == 0) {
          r.uid = rng() % 15;
          line["id"] = *r.uid;
        }
        json ids = json::object();
        const auto count = 1 + rng() % 2;
        for (uint64_t k = 0; k < count; ++k) {
          PoolId id = random_id(rng);
          // Phones are sent as this record's "hash" says.
          if (id.type == "phone") {
            const int n = static_cast<int>(rng() % 20);
            id.canonical = phone_hex(n);
            id.sent = plain ? phone(n) : phone_hex(n);
          }
          r.ids.emplace_back(id.type, id.canonical);
          ids[id.type].push_back(id.sent);
        }
        if (plain) line["hash"] = true;
        line["ids"] = ids;
        r.tag = numbered("t", rng() % 3);
        line["tags"] = {r.tag};
        body += line.dump() + "\n";
      }
      const bool ok = model.ingest(records);
      const auto res = ingest(body);
      ASSERT_EQ(res.status, ok ? 200 : 409) << "round " << round << ": " << body << " -> " << res.body;
      if (!ok) {
        ++conflicts;
        EXPECT_EQ(json::parse(res.body)["error"]["code"], "id_conflict");
      }
    } else if (what < 8) {
      const PoolId id = random_id(rng);
      const auto it = model.owner.find({id.type, id.canonical});
      const auto res = h_.call(http::verb::delete_, "/v1/users/" + id.type + "/" + id.canonical);
      ASSERT_EQ(res.status, it == model.owner.end() ? 404 : 200) << res.body;
      if (it != model.owner.end()) {
        model.erase(it->second);
        ++erasures;
      }
    } else {
      const PoolId a = random_id(rng);
      const PoolId b = random_id(rng);
      const auto fa = model.owner.find({a.type, a.canonical});
      const auto fb = model.owner.find({b.type, b.canonical});
      const auto res = post("/v1/admin/users/merge", {{"from", {{"id_type", a.type}, {"id", a.canonical}}},
                                                      {"into", {{"id_type", b.type}, {"id", b.canonical}}}});
      if (fa == model.owner.end() || fb == model.owner.end()) {
        ASSERT_EQ(res.status, 404) << res.body;
      } else {
        const std::string outcome = model.merge(fa->second, fb->second);
        ASSERT_EQ(res.status, outcome == "conflict" ? 409 : 200) << outcome << " " << res.body;
        if (outcome == "ok") ++merges;
      }
    }

    // Every pooled ID: its user as the model has it.
    for (const char* type : {"oaid", "dev", "phone"}) {
      for (int n = 0; n < 20; ++n) {
        const std::string canonical = std::string(type) == "oaid" ? oaid(n) : std::string(type) == "dev" ? dev(n)
                                                                                                         : phone_hex(n);
        const auto res = get("/v1/users/" + std::string(type) + "/" + canonical);
        const auto it = model.owner.find({type, canonical});
        ASSERT_EQ(res.status, it == model.owner.end() ? 404 : 200) << "round " << round << " " << res.body;
        if (it == model.owner.end()) continue;
        const User& u = model.users.at(it->second);
        const auto got = json::parse(res.body);
        if (u.uid) {
          ASSERT_EQ(got["uid"], *u.uid) << res.body;
        } else {
          ASSERT_TRUE(got["uid"].is_null()) << res.body;
        }
        json want_ids = json::object();
        for (const auto& [t, texts] : u.ids) {
          if (texts.empty()) continue;
          for (const auto& x : texts) want_ids[t].push_back(x);
        }
        json got_ids = got["ids"];
        for (auto& [t, list] : got_ids.items()) std::sort(list.begin(), list.end());
        ASSERT_EQ(got_ids, want_ids) << "round " << round;
        ASSERT_EQ(got["tags"], json(std::vector<std::string>(u.tags.begin(), u.tags.end())));
      }
    }
    // Exports in each space, and by uid.
    for (const char* type : {"oaid", "dev", "phone", "uid"}) {
      const auto res = get(std::string("/v1/ids?format=csv&q=t0&id_type=") + type);
      ASSERT_EQ(res.status, 200) << res.body;
      std::multiset<std::string> got;
      for (std::size_t at = 0; at < res.body.size();) {
        const auto end = res.body.find('\n', at);
        got.insert(res.body.substr(at, end - at));
        at = end + 1;
      }
      std::multiset<std::string> want;
      for (const auto& [n, u] : model.users) {
        if (!u.tags.contains("t0")) continue;
        if (std::string(type) == "uid") {
          if (u.uid) want.insert(std::to_string(*u.uid));
        } else if (const auto it = u.ids.find(type); it != u.ids.end()) {
          want.insert(it->second.begin(), it->second.end());
        }
      }
      ASSERT_EQ(got, want) << "round " << round << " " << type;
    }
  }
  EXPECT_GT(conflicts, 5);
  EXPECT_GT(merges, 3);
  EXPECT_GT(erasures, 3);
}

TEST_F(Identity, MembershipAnswersPerIdAndRespectsTheFloor) {
  std::string body;
  for (int n = 0; n < 10; ++n) {
    json line = {{"ids", {{"oaid", oaid(n)}}}, {"tags", {n % 2 == 0 ? "even" : "odd", "all"}}};
    body += line.dump() + "\n";
  }
  ASSERT_EQ(ingest(body).status, 200);
  ASSERT_EQ(h_.call(http::verb::put, "/v1/crowds/evens", R"({"q": "even"})").status, 201);
  const auto r = post("/v1/membership", {{"id_type", "oaid"},
                                         {"lookups", {oaid(0), oaid(1), "nobody", {{"id_type", "dev"}, {"id", dev(1)}}}},
                                         {"crowds", {"evens"}},
                                         {"tags", {"odd", "all"}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto results = json::parse(r.body)["results"];
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0], json({{"found", true}, {"crowds", {"evens"}}, {"tags", {"all"}}}));
  EXPECT_EQ(results[1], json({{"found", true}, {"crowds", json::array()}, {"tags", {"odd", "all"}}}));
  EXPECT_EQ(results[2]["found"], false);
  EXPECT_EQ(results[3]["found"], false);
  EXPECT_EQ(post("/v1/membership", {{"id_type", "oaid"}, {"lookups", {"x"}}, {"crowds", {"nope"}}}).status, 404);
  EXPECT_EQ(post("/v1/membership", {{"id_type", "phone"}, {"lookups", {"zz"}}, {"tags", {"all"}}}).status, 400);

  ApiHarness floored({.min_export_size = 6});
  ASSERT_EQ(floored.call(http::verb::put, "/v1/id-types/oaid", R"({"kind": "string"})").status, 201);
  ASSERT_EQ(floored.call(http::verb::post, "/v1/ingest", body, "application/x-ndjson").status, 200);
  const auto small = floored.call(http::verb::post, "/v1/membership",
                                  json{{"id_type", "oaid"}, {"lookups", {oaid(0)}}, {"tags", {"even"}}}.dump());
  EXPECT_EQ(small.status, 403) << small.body;
  const auto big = floored.call(http::verb::post, "/v1/membership",
                                json{{"id_type", "oaid"}, {"lookups", {oaid(0)}}, {"tags", {"all"}}}.dump());
  EXPECT_EQ(big.status, 200) << big.body;
  // The floor counts the users an export writes: 5 of the 10 have no dev ID.
  const auto typed = floored.call(http::verb::get, "/v1/ids?format=csv&q=all&id_type=oaid");
  EXPECT_EQ(typed.status, 200);
}

// An uploaded list against a model: which of its lines are valid, which
// repeat, which are users', and the saved crowd is exactly those users.
TEST_F(Identity, MatchCountsAListAndSavesItsUsers) {
  std::string body;
  for (int n = 0; n < 40; ++n) {
    body += json{{"id", 100 + n}, {"ids", {{"phone", phone_hex(n)}}}, {"tags", {n < 20 ? "low" : "high"}}}.dump() + "\n";
  }
  ASSERT_EQ(ingest(body).status, 200);
  std::mt19937_64 rng(3);
  std::string list;
  std::set<std::string> seen;
  uint64_t submitted = 0, valid = 0, duplicates = 0, matched = 0;
  std::set<uint64_t> users;
  std::vector<uint64_t> bad_lines;
  for (int line = 1; line <= 300; ++line) {
    const auto roll = rng() % 10;
    ++submitted;
    if (roll == 0) {
      list += "not-a-digest\n";
      bad_lines.push_back(static_cast<uint64_t>(line));
      continue;
    }
    const int n = static_cast<int>(rng() % 80);  // 0..39 are users, 40..79 nobody
    std::string hex = phone_hex(n);
    if (roll == 1) {
      for (auto& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));  // the same key
    }
    list += hex + (roll == 2 ? "\r\n" : "\n");
    ++valid;
    if (!seen.insert(phone_hex(n)).second) {
      ++duplicates;
      continue;
    }
    if (n < 40) {
      ++matched;
      users.insert(static_cast<uint64_t>(100 + n));
    }
  }
  const auto r = h_.call(http::verb::post, "/v1/match?id_type=phone&save_as=uploaded", list, "text/plain");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto got = json::parse(r.body);
  EXPECT_EQ(got["submitted"], submitted);
  EXPECT_EQ(got["valid"], valid);
  EXPECT_EQ(got["invalid"], submitted - valid);
  EXPECT_EQ(got["duplicates"], duplicates);
  EXPECT_EQ(got["matched"], matched);
  EXPECT_EQ(got["users"], users.size());
  EXPECT_DOUBLE_EQ(got["match_rate"].get<double>(), static_cast<double>(matched) / static_cast<double>(valid - duplicates));
  ASSERT_FALSE(got["invalid_lines"].empty());
  EXPECT_EQ(got["invalid_lines"][0]["line"], bad_lines[0]);
  EXPECT_EQ(got["invalid_lines"][0]["reason"].get<std::string>().find("not-a-digest"), std::string::npos);
  // The saved crowd holds exactly the matched users.
  const auto ids = get("/v1/ids?q=%40uploaded&format=csv");
  std::set<uint64_t> exported;
  for (std::size_t at = 0; at < ids.body.size();) {
    const auto end = ids.body.find('\n', at);
    exported.insert(std::stoull(ids.body.substr(at, end - at)));
    at = end + 1;
  }
  EXPECT_EQ(exported, users);
  EXPECT_EQ(json::parse(get("/v1/crowds/uploaded").body)["kind"], "upload");
  // The same list as a JSON array, and as plain numbers hashed here.
  const auto as_json = h_.call(http::verb::post, "/v1/match?id_type=phone", json({phone_hex(1), phone_hex(50)}).dump());
  EXPECT_EQ(json::parse(as_json.body)["matched"], 1) << as_json.body;
  const auto plain =
      h_.call(http::verb::post, "/v1/match?id_type=phone&hash=true", phone(1) + "\n+86 " + phone(2) + "\n", "text/plain");
  EXPECT_EQ(json::parse(plain.body)["matched"], 2) << plain.body;
  EXPECT_EQ(h_.call(http::verb::post, "/v1/match?id_type=oaid&hash=true", "x\n", "text/plain").status, 400);
  EXPECT_EQ(h_.call(http::verb::post, "/v1/match?id_type=nope", "x\n", "text/plain").status, 400);
  EXPECT_EQ(h_.call(http::verb::post, "/v1/match?id_type=phone", "[1, 2]").status, 400);
}

TEST_F(Identity, ExportsSkipUsersWithoutAnIdOfTheType) {
  ASSERT_EQ(ingest(R"({"id": 1, "ids": {"oaid": "a"}, "tags": ["x"]})" "\n"
                   R"({"id": 2, "tags": ["x"]})" "\n"
                   R"({"ids": {"oaid": ["b", "c"]}, "tags": ["x"]})" "\n")
                .status,
            200);
  auto r = get("/v1/ids?q=x&id_type=oaid");
  ASSERT_EQ(r.status, 200) << r.body;
  auto page = json::parse(r.body);
  EXPECT_EQ(page["count"], 3);
  EXPECT_EQ(page["exported"], 2);
  EXPECT_EQ(page["ids"], json({"a", "b", "c"}));
  r = get("/v1/ids?q=x");
  page = json::parse(r.body);
  EXPECT_EQ(page["exported"], 2);  // the third user has no uid
  EXPECT_EQ(page["ids"], json({1, 2}));
  EXPECT_EQ(get("/v1/ids?q=x&id_type=oaid&format=roaring").status, 400);
  EXPECT_EQ(get("/v1/ids?q=x&id_type=nope").status, 400);
  // Pages walk the exported users.
  r = get("/v1/ids?q=x&id_type=oaid&limit=1");
  page = json::parse(r.body);
  EXPECT_EQ(page["ids"], json({"a"}));
  r = get("/v1/ids?q=x&id_type=oaid&limit=1&cursor=" + page["cursor"].get<std::string>());
  EXPECT_EQ(json::parse(r.body)["ids"], json({"b", "c"}));
}

}  // namespace
}  // namespace crowd::test
