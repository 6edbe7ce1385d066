// Crash safety against the real crowdd (docs/operations.md, "Persistence"):
//
// - KillDuringWrites: writers stream ingests, assigns and deletes while a
//   snapshot races them; crowdd is SIGKILLed at a random moment, restarted
//   on the same directory, and checked against an in-test model: every
//   acknowledged write is there, nothing that was never sent is, and each
//   write in flight at the kill is there entirely or not at all (batches are
//   atomic, CONTRACT §4). Several kills on one directory, under --fsync
//   always and batch.
// - DamagedFiles: a truncated, bit-flipped or garbage snapshot or log
//   segment refuses to start (exit 1, stderr names the file and the damage)
//   and is left as found; a torn last record starts with a note and keeps
//   every earlier record.
// - FullDisk: with a file size limit (RLIMIT_FSIZE; crowdd ignores SIGXFSZ,
//   so write(2) fails with EFBIG as on a full disk) writes answer 503 and
//   change nothing while reads go on; a snapshot fails without harming the
//   old one; a restart holds exactly the acknowledged writes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/server_process.h"

namespace crowd::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using UserSet = std::set<uint64_t>;

// ---- Files -----------------------------------------------------------------

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

uint32_t load_u32(const std::string& b, std::size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<std::size_t>(i)]);
  return v;
}
uint64_t load_u64(const std::string& b, std::size_t at) {
  return load_u32(b, at) | (static_cast<uint64_t>(load_u32(b, at + 4)) << 32);
}

// Sections of a snapshot file, read with the layout of index/snapshot_file.h
// (a 40-byte header, then sections of a 24-byte header — u32 type, u32 flags,
// u64 payload length, two CRCs — and the payload).
struct Section {
  uint32_t type = 0;
  std::size_t offset = 0;  // of the section header
  std::size_t payload = 0;
};
std::vector<Section> snapshot_sections(const std::string& b) {
  std::vector<Section> out;
  const uint32_t n = load_u32(b, 12);
  std::size_t at = 40;
  for (uint32_t i = 0; i < n && at + 24 <= b.size(); ++i) {
    out.push_back(Section{load_u32(b, at), at, static_cast<std::size_t>(load_u64(b, at + 8))});
    at += 24 + out.back().payload;
  }
  return out;
}

// Records of a log segment (index/wal_format.h: a 48-byte header — 32 in
// format version 1 — then records of a 12-byte header — u32 length, two
// CRCs — and the payload).
struct Record {
  std::size_t offset = 0;
  std::size_t length = 0;  // payload
};
std::vector<Record> segment_records(const std::string& b) {
  std::vector<Record> out;
  std::size_t at = b.size() >= 12 && load_u32(b, 8) == 1 ? 32 : 48;
  while (at + 12 <= b.size()) {
    const std::size_t len = load_u32(b, at);
    if (at + 12 + len > b.size()) break;
    out.push_back(Record{at, len});
    at += 12 + len;
  }
  return out;
}

std::vector<fs::path> segments_in(const std::string& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name.starts_with("wal-") && name.ends_with(".log")) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void flip_bit(std::string& bytes, std::size_t at, int bit = 0) { bytes[at] = static_cast<char>(bytes[at] ^ (1 << bit)); }

// ---- The model -----------------------------------------------------------

// What the server holds, as far as a test can see: the universe and every
// tag ever created (a tag whose users all left stays, with no users).
struct State {
  UserSet users;
  std::map<std::string, UserSet> tags;
  bool operator==(const State&) const = default;
};

// One write request.
struct Write {
  enum class Kind { kNdjson, kCsv, kAssign, kDelete };
  Kind kind = Kind::kNdjson;
  std::vector<std::pair<uint64_t, std::vector<std::string>>> add;     // ingest lines, assign "add"
  std::vector<std::pair<uint64_t, std::vector<std::string>>> remove;  // assign "remove"
  uint64_t user = 0;                                                  // delete
};

void apply(State& s, const Write& w) {
  for (const auto& [u, tags] : w.add) {
    s.users.insert(u);
    for (const auto& t : tags) s.tags[t].insert(u);
  }
  for (const auto& [u, tags] : w.remove) {
    for (const auto& t : tags) {
      if (const auto it = s.tags.find(t); it != s.tags.end()) it->second.erase(u);
    }
  }
  if (w.kind == Write::Kind::kDelete) {
    s.users.erase(w.user);
    for (auto& [t, holders] : s.tags) holders.erase(w.user);
  }
}

json entries_json(const std::vector<std::pair<uint64_t, std::vector<std::string>>>& list) {
  json out = json::array();
  for (const auto& [u, tags] : list) out.push_back({{"id", std::to_string(u)}, {"tags", tags}});
  return out;
}

HttpResult send(HttpConnection& c, const Write& w) {
  switch (w.kind) {
    case Write::Kind::kNdjson: {
      std::string body;
      for (const auto& [u, tags] : w.add) body += json{{"id", std::to_string(u)}, {"tags", tags}}.dump() + "\n";
      return c.post("/v1/ingest", body, "application/x-ndjson");
    }
    case Write::Kind::kCsv: {
      std::string body;
      for (const auto& [u, tags] : w.add) {
        for (const auto& t : tags) body += std::to_string(u) + "," + t + "\n";
      }
      return c.post("/v1/ingest", body, "text/csv");
    }
    case Write::Kind::kAssign:
      return c.post("/v1/assign", json{{"add", entries_json(w.add)}, {"remove", entries_json(w.remove)}}.dump());
    case Write::Kind::kDelete:
      return c.request("DELETE", "/v1/users/" + std::to_string(w.user));
  }
  return {};
}

std::string describe(const UserSet& s) {
  std::string out = "{";
  int n = 0;
  for (const auto u : s) {
    if (n++ == 8) {
      out += " ... (" + std::to_string(s.size()) + ")";
      break;
    }
    out += (n > 1 ? " " : "") + std::to_string(u);
  }
  return out + "}";
}

// The first few differences between what the model expects and what was seen.
std::string difference(const State& expected, const State& seen) {
  std::string out;
  int shown = 0;
  if (expected.users != seen.users) {
    UserSet missing, extra;
    std::set_difference(expected.users.begin(), expected.users.end(), seen.users.begin(), seen.users.end(),
                        std::inserter(missing, missing.end()));
    std::set_difference(seen.users.begin(), seen.users.end(), expected.users.begin(), expected.users.end(),
                        std::inserter(extra, extra.end()));
    out += "  universe: missing " + describe(missing) + ", unexpected " + describe(extra) + "\n";
  }
  for (const auto& [t, holders] : expected.tags) {
    const auto it = seen.tags.find(t);
    if (it == seen.tags.end()) {
      if (shown++ < 5) out += "  tag " + t + " missing (expected " + describe(holders) + ")\n";
    } else if (it->second != holders) {
      if (shown++ < 5) out += "  tag " + t + ": expected " + describe(holders) + ", seen " + describe(it->second) + "\n";
    }
  }
  for (const auto& [t, holders] : seen.tags) {
    if (!expected.tags.contains(t) && shown++ < 5) out += "  tag " + t + " unexpected: " + describe(holders) + "\n";
  }
  return out;
}

// ---- Reading the server's state --------------------------------------------

UserSet parse_csv_ids(const std::string& body) {
  UserSet out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.insert(std::stoull(line));
  }
  return out;
}

// The holders of `tag`, by CSV export; checks X-Crowd-Count against the lines.
UserSet holders(HttpConnection& c, const std::string& tag) {
  json quoted = tag;  // a JSON string literal is a valid quoted tag for these names (no escapes needed)
  const auto r = c.get("/v1/ids?q=" + url_encode(quoted.dump()) + "&format=csv");
  EXPECT_EQ(r.status, 200) << tag << ": " << r.body;
  auto ids = parse_csv_ids(r.body);
  EXPECT_EQ(r.headers.count("x-crowd-count") ? r.headers.at("x-crowd-count") : "", std::to_string(ids.size())) << tag;
  return ids;
}

uint64_t count_of(HttpConnection& c, const std::string& q) {
  const auto r = c.post("/v1/count", json{{"q", q}, {"lenient", true}}.dump());
  EXPECT_EQ(r.status, 200) << q << ": " << r.body;
  return r.status == 200 ? json::parse(r.body)["count"].get<uint64_t>() : UINT64_MAX;
}

// Every tag starting with `prefix` and its users, plus `universe` as given.
State state_of(HttpConnection& c, const std::string& prefix, const UserSet& universe) {
  State s;
  s.users = universe;
  const auto r = c.get("/v1/tags?prefix=" + url_encode(prefix) + "&limit=100000");
  EXPECT_EQ(r.status, 200) << r.body;
  const auto j = json::parse(r.body);
  for (const auto& row : j["tags"]) {
    const std::string tag = row["tag"];
    const uint64_t n = row["count"];
    s.tags[tag] = n == 0 ? UserSet() : holders(c, tag);
    EXPECT_EQ(s.tags[tag].size(), n) << tag << ": /v1/tags count and CSV export disagree";
  }
  return s;
}

// ---- KillDuringWrites ------------------------------------------------------

constexpr int kWriters = 4;

// One writer's users and tags are its own (IDs by writer index, tags
// "w<index>:..."), so writers' states are independent and each has at most
// one write in flight at a kill.
struct Writer {
  int index = 0;
  std::mt19937_64 rng;
  State state;                   // every acknowledged write applied
  std::optional<Write> in_flight;  // sent, no answer: the server died
  std::vector<uint64_t> known;   // every user ever generated, present or deleted
  std::vector<std::string> created;  // tags of acknowledged writes
  uint64_t next_user = 0;
  uint64_t next_tag = 0;
  uint64_t acknowledged = 0;
  uint64_t lost_in_flight = 0;  // in flight at a kill, absent after it
  uint64_t kept_in_flight = 0;  // in flight at a kill, present after it
  std::string failure;          // an answer other than 200

  // Half the IDs above 2^53 (JSON strings in answers), half small.
  uint64_t user_id(uint64_t k) const {
    return ((k & 1) ? (uint64_t{1} << 63) : 0) + (static_cast<uint64_t>(index + 1) << 40) + k;
  }
  [[nodiscard]] std::string prefix() const { return "w" + std::to_string(index) + ":"; }

  uint64_t pick_user() {
    if (known.empty() || rng() % 10 < 6) {
      known.push_back(user_id(next_user++));
      return known.back();
    }
    return known[rng() % known.size()];
  }

  Write next_write() {
    Write w;
    const std::string tag = prefix() + std::to_string(next_tag++);
    const auto roll = rng() % 100;
    if (roll >= 85 && !state.users.empty()) {
      w.kind = Write::Kind::kDelete;
      auto it = state.users.begin();
      std::advance(it, static_cast<long>(rng() % state.users.size()));
      w.user = *it;
      return w;
    }
    if (roll < 35 || roll >= 85) {
      w.kind = Write::Kind::kNdjson;
      const auto lines = 1 + rng() % 5;
      for (uint64_t i = 0; i < lines; ++i) {
        std::vector<std::string> tags{tag};
        if (rng() % 2) tags.push_back(tag + ":城");
        w.add.emplace_back(pick_user(), tags);
      }
      return w;
    }
    if (roll < 45) {
      w.kind = Write::Kind::kCsv;
      const auto lines = 1 + rng() % 4;
      for (uint64_t i = 0; i < lines; ++i) w.add.emplace_back(pick_user(), std::vector<std::string>{tag});
      return w;
    }
    w.kind = Write::Kind::kAssign;
    const auto adds = 1 + rng() % 3;
    for (uint64_t i = 0; i < adds; ++i) w.add.emplace_back(pick_user(), std::vector<std::string>{tag});
    // Removes of pairs that are set now (and a few that are not: no-ops).
    const auto removes = rng() % 4;
    for (uint64_t i = 0; i < removes && !created.empty(); ++i) {
      const std::string& t = created[rng() % created.size()];
      const auto& set = state.tags.at(t);
      if (set.empty()) {
        w.remove.emplace_back(pick_user(), std::vector<std::string>{t});
        continue;
      }
      auto it = set.begin();
      std::advance(it, static_cast<long>(rng() % set.size()));
      w.remove.emplace_back(*it, std::vector<std::string>{t});
    }
    return w;
  }

  void acknowledge(const Write& w) {
    for (const auto& [u, tags] : w.add) {
      for (const auto& t : tags) {
        if (!state.tags.contains(t)) created.push_back(t);
      }
    }
    apply(state, w);
    ++acknowledged;
  }

  // Writes until the server goes away (the write then stays in flight).
  void run(int port) {
    HttpConnection c(port, 30);
    for (;;) {
      Write w = next_write();
      in_flight = w;
      HttpResult r;
      try {
        r = send(c, w);
      } catch (const std::exception&) {
        return;
      }
      if (r.status != 200) {
        failure = "writer " + std::to_string(index) + ": " + std::to_string(r.status) + " " + r.body;
        in_flight.reset();
        return;
      }
      in_flight.reset();
      acknowledge(w);
    }
  }
};

// Checks the restarted server against the writers' models and adopts, for
// each writer, the outcome of its write in flight.
void verify_after_kill(const ServerProcess& s, std::vector<Writer>& writers, const std::string& what) {
  HttpConnection c(s.port(), 60);
  const auto all = c.get("/v1/ids?q=ALL&format=csv");
  ASSERT_EQ(all.status, 200) << all.body;
  const UserSet universe = parse_csv_ids(all.body);
  std::vector<UserSet> by_writer(writers.size());
  for (const uint64_t u : universe) {
    const uint64_t w = ((u & ~(uint64_t{1} << 63)) >> 40) - 1;
    ASSERT_LT(w, writers.size()) << what << ": user " << u << " was never sent";
    by_writer[w].insert(u);
  }
  std::size_t tags = 0;
  for (auto& writer : writers) {
    const State seen = state_of(c, writer.prefix(), by_writer[static_cast<std::size_t>(writer.index)]);
    if (seen == writer.state) {
      if (writer.in_flight) ++writer.lost_in_flight;
    } else {
      State with = writer.state;
      if (writer.in_flight) apply(with, *writer.in_flight);
      ASSERT_TRUE(writer.in_flight && seen == with)
          << what << ", writer " << writer.index << ": the restarted server holds neither the acknowledged writes"
          << (writer.in_flight ? " nor them plus the write in flight" : " (no write was in flight)") << "\n"
          << "against the acknowledged writes:\n"
          << difference(writer.state, seen)
          << (writer.in_flight ? "against them plus the write in flight:\n" + difference(with, seen) : "");
      writer.acknowledge(*writer.in_flight);
      ++writer.kept_in_flight;
    }
    writer.in_flight.reset();
    tags += writer.state.tags.size();
  }
  // Nothing beyond the writers' tags, and the count route agrees.
  const auto listed = c.get("/v1/tags?limit=1");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(json::parse(listed.body)["total"].get<std::size_t>(), tags) << what;
  EXPECT_EQ(count_of(c, "ALL"), universe.size()) << what;
  for (const auto& writer : writers) {
    UserSet any;
    for (const auto& [t, h] : writer.state.tags) any.insert(h.begin(), h.end());
    EXPECT_EQ(count_of(c, writer.prefix() + "*"), any.size()) << what << ", writer " << writer.index;
  }
}

void kill_during_writes(const std::string& policy, uint64_t seed) {
  SCOPED_TRACE("--fsync " + policy + ", seed " + std::to_string(seed));
  const auto dir = temp_dir("crowd-crash");
  std::mt19937_64 rng(seed);
  std::vector<Writer> writers(kWriters);
  for (int i = 0; i < kWriters; ++i) {
    writers[static_cast<std::size_t>(i)].index = i;
    writers[static_cast<std::size_t>(i)].rng.seed(seed * 31 + static_cast<uint64_t>(i));
  }
  constexpr int kKills = 5;
  uint64_t snapshots = 0;
  for (int round = 0; round <= kKills; ++round) {
    const std::string what = "after kill " + std::to_string(round);
    ServerProcess s({"--data-dir", dir, "--fsync", policy}, 60);
    ASSERT_TRUE(s.ok()) << what << ": " << s.log();
    if (round > 0) {
      verify_after_kill(s, writers, what);
      if (testing::Test::HasFatalFailure()) return;
    }
    if (round == kKills) {
      EXPECT_EQ(s.stop(), 0) << s.log();
      break;
    }
    std::vector<std::thread> threads;
    for (auto& w : writers) threads.emplace_back([&w, port = s.port()] { w.run(port); });
    SnapshotRacer racer;
    threads.emplace_back([&racer, port = s.port(), seed = rng()] { racer.run(port, seed); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 700));
    EXPECT_EQ(s.stop(SIGKILL), 128 + SIGKILL);
    for (auto& t : threads) t.join();
    snapshots += racer.taken;
    for (const auto& w : writers) ASSERT_EQ(w.failure, "") << what;
    ASSERT_EQ(racer.failure, "") << what;
  }
  uint64_t acked = 0, lost = 0, kept = 0;
  for (const auto& w : writers) {
    acked += w.acknowledged;
    lost += w.lost_in_flight;
    kept += w.kept_in_flight;
  }
  std::cout << "--fsync " << policy << ": " << kKills << " kills, " << acked << " writes acknowledged, in flight at a kill: "
            << kept << " kept, " << lost << " lost; " << snapshots << " snapshots\n";
  EXPECT_GT(acked, 100u) << "too few writes to mean anything";
  fs::remove_all(dir);
}

uint64_t random_seed() {
  if (const char* s = std::getenv("CROWD_CRASH_SEED")) return std::stoull(s);
  return std::random_device{}();
}

TEST(CrashTest, KillDuringWritesFsyncAlways) { kill_during_writes("always", random_seed()); }
TEST(CrashTest, KillDuringWritesFsyncBatch) { kill_during_writes("batch", random_seed()); }

// ---- DamagedFiles ----------------------------------------------------------

// A data directory with a snapshot (with a saved crowd, so every section
// type is there) and two log segments of four records each; record k (0..7)
// adds tag w:k to three new users.
class DamagedFilesTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    pristine_ = new std::string(temp_dir("crowd-pristine"));
    {
      ServerProcess s({"--data-dir", *pristine_, "--fsync", "always"});
      ASSERT_TRUE(s.ok()) << s.log();
      std::string ndjson;
      for (int i = 0; i < 3000; ++i) {
        ndjson += "{\"id\": " + std::to_string(i * 7 + 1) + ", \"tags\": [\"g:" + std::to_string(i % 3) +
                  "\", \"城市:" + std::to_string(i % 10) + "\", \"n:" + std::to_string(i % 97) + "\"]}\n";
      }
      ndjson += "{\"id\": \"18446744073709551615\", \"tags\": [\"max\"]}\n";
      ASSERT_EQ(s.post("/v1/ingest", ndjson, "application/x-ndjson").status, 200);
      ASSERT_EQ(s.request("PUT", "/v1/crowds/keep", R"({"q": "g:1 AND 城市:3"})").status / 100, 2);
      ASSERT_EQ(s.post("/v1/admin/snapshot", "").status, 200);
      ASSERT_EQ(s.stop(), 0);
    }
    for (int part = 0; part < 2; ++part) {
      ServerProcess s({"--data-dir", *pristine_, "--fsync", "always"});
      ASSERT_TRUE(s.ok()) << s.log();
      for (int k = part * 4; k < part * 4 + 4; ++k) {
        json add = json::array();
        for (int j = 0; j < 3; ++j) add.push_back({{"id", 1000000 + k * 10 + j}, {"tags", {"w:" + std::to_string(k)}}});
        ASSERT_EQ(s.post("/v1/assign", json{{"add", add}}.dump()).status, 200);
      }
      ASSERT_EQ(s.stop(), 0);
    }
    const auto segments = segments_in(*pristine_);
    ASSERT_EQ(segments.size(), 2u);
    for (const auto& seg : segments) ASSERT_EQ(segment_records(read_file(seg)).size(), 4u) << seg;
    ready_ = true;
  }
  static void TearDownTestSuite() {
    if (pristine_ != nullptr) fs::remove_all(*pristine_);
    delete pristine_;
    pristine_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(ready_) << "the pristine data directory could not be made"; }
  void TearDown() override {
    for (const auto& d : copies_) fs::remove_all(d);
  }

  // A fresh copy of the pristine directory.
  std::string copy() {
    const auto dir = temp_dir("crowd-damaged");
    fs::copy(*pristine_, dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    fs::remove(fs::path(dir) / "LOCK");
    copies_.push_back(dir);
    return dir;
  }
  static fs::path snapshot(const std::string& dir) { return fs::path(dir) / "snapshot.crowd"; }
  // Segment 0 (not the last) or 1 (the last).
  static fs::path segment(const std::string& dir, int i) { return segments_in(dir)[static_cast<std::size_t>(i)]; }

  // Damages `file` with `damage`, starts crowdd on `dir` and checks the
  // refusal: exit 1, stderr naming the file and every one of `reasons`, the
  // damaged files left as they were.
  void expect_refusal(const std::string& dir, const fs::path& file, const std::function<void(std::string&)>& damage,
                      const std::vector<std::string>& reasons) {
    std::string bytes = read_file(file);
    damage(bytes);
    write_file(file, bytes);
    std::map<fs::path, std::string> before;
    for (const auto& e : fs::directory_iterator(dir)) before[e.path()] = read_file(e.path());
    ServerProcess s({"--data-dir", dir}, 30);
    ASSERT_FALSE(s.ok()) << "started on a damaged " << file << ": " << s.log();
    EXPECT_EQ(s.exit_status(), 1) << s.log();
    const auto log = s.log();
    EXPECT_NE(log.find("cannot start"), std::string::npos) << log;
    std::cout << "  refused: " << log.substr(0, log.find('\n')) << "\n";
    EXPECT_NE(log.find(file.string()), std::string::npos) << "stderr does not name " << file << ": " << log;
    for (const auto& why : reasons) EXPECT_NE(log.find(why), std::string::npos) << "no \"" << why << "\" in: " << log;
    for (const auto& [path, content] : before) {
      if (path.filename() == "LOCK") continue;
      EXPECT_TRUE(fs::exists(path) && read_file(path) == content) << path << " was changed by the failed start";
    }
  }

  // The pristine state, less the writes of records `absent`.
  static void expect_restored(HttpConnection& c, const std::set<int>& absent) {
    EXPECT_EQ(count_of(c, "ALL"), 3001u + 3u * (8 - absent.size()));
    EXPECT_EQ(count_of(c, "g:1"), 1000u);
    EXPECT_EQ(count_of(c, "城市:3"), 300u);
    EXPECT_EQ(count_of(c, "n:96"), 30u);
    EXPECT_EQ(count_of(c, "max"), 1u);
    EXPECT_EQ(count_of(c, "@keep"), 100u);
    for (int k = 0; k < 8; ++k) {
      const UserSet expected = absent.contains(k) ? UserSet{}
                                                  : UserSet{static_cast<uint64_t>(1000000 + k * 10),
                                                            static_cast<uint64_t>(1000000 + k * 10 + 1),
                                                            static_cast<uint64_t>(1000000 + k * 10 + 2)};
      const auto r = c.get("/v1/ids?q=" + url_encode("w:" + std::to_string(k)) + "&format=csv&lenient=true");
      EXPECT_EQ(r.status, 200);
      EXPECT_EQ(parse_csv_ids(r.body), expected) << "record " << k;
    }
  }

  // Damages the last segment's tail; crowdd must start with a note, keep
  // every record but those in `absent`, and start without a note next time.
  void expect_torn_start(const std::function<void(std::string&, const std::vector<Record>&)>& damage,
                         const std::set<int>& absent) {
    const auto dir = copy();
    const auto file = segment(dir, 1);
    std::string bytes = read_file(file);
    damage(bytes, segment_records(bytes));
    write_file(file, bytes);
    {
      ServerProcess s({"--data-dir", dir}, 30);
      ASSERT_TRUE(s.ok()) << s.log();
      const auto log = s.log();
      EXPECT_NE(log.find("dropped a torn tail"), std::string::npos) << log;
      const auto note = log.find("dropped a torn tail");
      if (note != std::string::npos) std::cout << "  started: " << log.substr(note, log.find('\n', note) - note) << "\n";
      EXPECT_NE(log.find(file.string()), std::string::npos) << log;
      HttpConnection c(s.port());
      expect_restored(c, absent);
      EXPECT_EQ(s.stop(), 0);
    }
    ServerProcess s({"--data-dir", dir}, 30);
    ASSERT_TRUE(s.ok()) << s.log();
    EXPECT_EQ(s.log().find("torn"), std::string::npos) << s.log();
    HttpConnection c(s.port());
    expect_restored(c, absent);
    EXPECT_EQ(s.stop(), 0);
  }

  static std::string* pristine_;
  static bool ready_;
  std::vector<std::string> copies_;
};
std::string* DamagedFilesTest::pristine_ = nullptr;
bool DamagedFilesTest::ready_ = false;

TEST_F(DamagedFilesTest, PristineCopyStarts) {
  const auto dir = copy();
  ServerProcess s({"--data-dir", dir}, 30);
  ASSERT_TRUE(s.ok()) << s.log();
  HttpConnection c(s.port());
  expect_restored(c, {});
  EXPECT_EQ(s.stop(), 0);
}

TEST_F(DamagedFilesTest, TruncatedSnapshotRefusesToStart) {
  const auto size = read_file(snapshot(*pristine_)).size();
  const auto sections = snapshot_sections(read_file(snapshot(*pristine_)));
  ASSERT_GE(sections.size(), 5u);
  const auto& middle = sections[sections.size() / 2];
  for (const std::size_t keep : {std::size_t{0}, std::size_t{20}, std::size_t{40}, std::size_t{52},
                                 middle.offset + 24 + middle.payload / 2, size - 1}) {
    SCOPED_TRACE("snapshot truncated to " + std::to_string(keep) + " of " + std::to_string(size) + " bytes");
    const auto dir = copy();
    expect_refusal(dir, snapshot(dir), [keep](std::string& b) { b.resize(keep); }, {"truncated"});
  }
}

TEST_F(DamagedFilesTest, BitFlippedSnapshotRefusesToStart) {
  const auto bytes = read_file(snapshot(*pristine_));
  const auto sections = snapshot_sections(bytes);
  ASSERT_GE(sections.size(), 5u);
  const auto& middle = sections[sections.size() / 2];
  const auto& last = sections.back();
  const auto& users = *std::find_if(sections.begin(), sections.end(), [](const Section& s) { return s.type == 2; });
  struct Case {
    std::string what;
    std::size_t at;
    std::vector<std::string> reasons;
  };
  const std::vector<Case> cases = {
      {"magic", 3, {"bad magic"}},
      {"header: the first live log segment", 17, {"header checksum mismatch"}},
      {"header: the section count", 12, {"header checksum mismatch"}},
      {"a middle section's header (its length)", middle.offset + 9, {"section header checksum mismatch"}},
      {"a middle section's payload", middle.offset + 24 + middle.payload / 2, {"payload checksum mismatch", "offset"}},
      {"the first users", users.offset + 24 + 16, {"payload checksum mismatch", "users"}},
      {"the last byte", bytes.size() - 1, {"payload checksum mismatch"}},
      {"the last section's first payload byte", last.offset + 24, {"payload checksum mismatch"}},
  };
  for (const auto& k : cases) {
    for (const int bit : {0, 7}) {
      SCOPED_TRACE("bit " + std::to_string(bit) + " of byte " + std::to_string(k.at) + " (" + k.what + ")");
      const auto dir = copy();
      expect_refusal(dir, snapshot(dir), [&](std::string& b) { flip_bit(b, k.at, bit); }, k.reasons);
    }
  }
}

TEST_F(DamagedFilesTest, GarbageSnapshotRefusesToStart) {
  std::mt19937 rng(7);
  std::string garbage(4096, '\0');
  for (auto& ch : garbage) ch = static_cast<char>(rng());
  {
    const auto dir = copy();
    expect_refusal(dir, snapshot(dir), [&](std::string& b) { b = garbage; }, {"not a crowd snapshot"});
  }
  {
    // The right magic, garbage after it.
    const auto dir = copy();
    expect_refusal(dir, snapshot(dir), [&](std::string& b) { b = "crowdsnp" + garbage; }, {"header checksum mismatch"});
  }
  {
    // Garbage after a good snapshot.
    const auto dir = copy();
    expect_refusal(dir, snapshot(dir), [&](std::string& b) { b += garbage; }, {"something was appended"});
  }
}

TEST_F(DamagedFilesTest, DamagedLogRefusesToStart) {
  const auto last = read_file(segment(*pristine_, 1));
  const auto records = segment_records(last);
  const auto first_records = segment_records(read_file(segment(*pristine_, 0)));
  {
    SCOPED_TRACE("a bit flip in the payload of a record followed by good ones (last segment)");
    const auto dir = copy();
    const auto at = records[1].offset;
    expect_refusal(dir, segment(dir, 1), [&](std::string& b) { flip_bit(b, at + 12 + records[1].length / 2, 3); },
                   {"at offset " + std::to_string(at), "payload checksum mismatch", "yet a good record follows",
                    "corrupt"});
  }
  {
    SCOPED_TRACE("a bit flip in the length of a record followed by good ones (last segment)");
    const auto dir = copy();
    const auto at = records[2].offset;
    expect_refusal(dir, segment(dir, 1), [&](std::string& b) { flip_bit(b, at + 1, 2); },
                   {"at offset " + std::to_string(at), "record header checksum mismatch", "yet a good record follows"});
  }
  {
    SCOPED_TRACE("a bit flip in the last record of a segment that is not the last");
    const auto dir = copy();
    const auto& r = first_records.back();
    expect_refusal(dir, segment(dir, 0), [&](std::string& b) { flip_bit(b, r.offset + 12 + r.length - 1, 5); },
                   {"at offset " + std::to_string(r.offset), "not the last segment", "corrupt"});
  }
  {
    SCOPED_TRACE("a segment that is not the last, truncated inside its last record");
    const auto dir = copy();
    const auto& r = first_records.back();
    expect_refusal(dir, segment(dir, 0), [&](std::string& b) { b.resize(r.offset + 12 + r.length / 2); },
                   {"incomplete record", "not the last segment"});
  }
  {
    SCOPED_TRACE("a bit flip in a segment header");
    const auto dir = copy();
    expect_refusal(dir, segment(dir, 1), [&](std::string& b) { flip_bit(b, 17, 0); }, {"segment header checksum mismatch"});
  }
  {
    SCOPED_TRACE("garbage with a segment's name");
    std::mt19937 rng(11);
    std::string garbage(4096, '\0');
    for (auto& ch : garbage) ch = static_cast<char>(rng());
    const auto dir = copy();
    expect_refusal(dir, segment(dir, 1), [&](std::string& b) { b = garbage; }, {"not a crowd log segment"});
  }
  {
    SCOPED_TRACE("an empty (0-byte) segment before the last");
    const auto dir = copy();
    expect_refusal(dir, segment(dir, 0), [&](std::string& b) { b.clear(); }, {"segment header incomplete"});
  }
  {
    SCOPED_TRACE("a missing segment");
    const auto dir = copy();
    const auto gone = segment(dir, 0);
    fs::remove(gone);
    ServerProcess s({"--data-dir", dir}, 30);
    ASSERT_FALSE(s.ok()) << s.log();
    EXPECT_EQ(s.exit_status(), 1);
    EXPECT_NE(s.log().find(gone.string() + " is missing"), std::string::npos) << s.log();
  }
}

// Issue 14, item 5: damage that loses acknowledged writes without a bad
// byte to see. Before, crowdd started in each case and said nothing (or
// called it a torn tail); now it refuses, naming the gap.
TEST_F(DamagedFilesTest, ASegmentCutToTenBytesWithTheNextGoneRefusesToStart) {
  const auto dir = copy();
  fs::remove(segment(dir, 1));
  expect_refusal(dir, segment(dir, 0), [](std::string& b) { b.resize(10); },
                 {"segment header incomplete", "--accept-log-loss"});
}

TEST_F(DamagedFilesTest, AnEarlierSegmentCutShortRefusesToStartEvenWithAnEmptyOneAfterIt) {
  for (const bool at_a_record : {false, true}) {
    SCOPED_TRACE(at_a_record ? "cut between two records" : "cut inside a record");
    const auto dir = copy();
    {
      // A start and stop without writes: an empty segment after the two.
      ServerProcess s({"--data-dir", dir}, 30);
      ASSERT_TRUE(s.ok()) << s.log();
      ASSERT_EQ(s.stop(), 0);
    }
    ASSERT_EQ(segments_in(dir).size(), 3u);
    const auto r = segment_records(read_file(segment(dir, 1)));
    ASSERT_EQ(r.size(), 4u);
    const std::size_t cut = at_a_record ? r[2].offset : r[2].offset + 12 + r[2].length / 2;
    expect_refusal(dir, segment(dir, 1), [cut](std::string& b) { b.resize(cut); },
                   {at_a_record ? "are missing" : "are lost", "--accept-log-loss"});
  }
}

TEST_F(DamagedFilesTest, NoSegmentLeftRefusesToStartAndTheOverrideStartsFromTheSnapshot) {
  const auto dir = copy();
  const auto first = segment(dir, 0);
  for (const auto& seg : segments_in(dir)) fs::remove(seg);
  {
    ServerProcess s({"--data-dir", dir}, 30);
    ASSERT_FALSE(s.ok()) << "started without the log: " << s.log();
    EXPECT_EQ(s.exit_status(), 1) << s.log();
    EXPECT_NE(s.log().find(first.string() + " is missing"), std::string::npos) << s.log();
    std::cout << "  refused: " << s.log().substr(0, s.log().find('\n')) << "\n";
  }
  {
    ServerProcess s({"--data-dir", dir, "--accept-log-loss"}, 30);
    ASSERT_TRUE(s.ok()) << s.log();
    EXPECT_NE(s.log().find("LOG LOSS ACCEPTED"), std::string::npos) << s.log();
    HttpConnection c(s.port());
    expect_restored(c, {0, 1, 2, 3, 4, 5, 6, 7});
    EXPECT_EQ(s.stop(), 0);
  }
  // The override wrote a snapshot: an ordinary start follows.
  ServerProcess s({"--data-dir", dir}, 30);
  ASSERT_TRUE(s.ok()) << s.log();
  EXPECT_EQ(s.log().find("LOSS"), std::string::npos) << s.log();
  HttpConnection c(s.port());
  expect_restored(c, {0, 1, 2, 3, 4, 5, 6, 7});
  EXPECT_EQ(s.stop(), 0);
}

TEST_F(DamagedFilesTest, TornLastRecordStartsWithANote) {
  {
    SCOPED_TRACE("the last record cut short");
    expect_torn_start([](std::string& b, const std::vector<Record>&) { b.resize(b.size() - 5); }, {7});
  }
  {
    SCOPED_TRACE("the last record's header cut short");
    expect_torn_start([](std::string& b, const std::vector<Record>& r) { b.resize(r.back().offset + 7); }, {7});
  }
  {
    SCOPED_TRACE("zeros after the last record (the size grew before the data landed)");
    expect_torn_start([](std::string& b, const std::vector<Record>&) { b.append(100, '\0'); }, {});
  }
  {
    SCOPED_TRACE("a bit flip in the last record's payload (documented: dropped as torn)");
    expect_torn_start(
        [](std::string& b, const std::vector<Record>& r) { flip_bit(b, r.back().offset + 12 + r.back().length / 2); },
        {7});
  }
}

// ---- FullDisk --------------------------------------------------------------

TEST(CrashTest, FullDiskRefusesWritesAndKeepsServingReads) {
  const auto dir = temp_dir("crowd-full");
  constexpr uint64_t kLimit = 256 << 10;  // bytes a file may reach
  constexpr uint64_t kBase = 40000;        // users 1..kBase, in the snapshot (> kLimit bytes)
  State model;
  {
    ServerProcess s({"--data-dir", dir, "--fsync", "batch"});
    ASSERT_TRUE(s.ok()) << s.log();
    std::string csv;
    for (uint64_t u = 1; u <= kBase; ++u) {
      csv += std::to_string(u) + ",base\n" + std::to_string(u) + ",p:" + std::to_string(u % 10) + "\n";
      model.users.insert(u);
      model.tags["base"].insert(u);
      model.tags["p:" + std::to_string(u % 10)].insert(u);
    }
    ASSERT_EQ(s.post("/v1/ingest", csv, "text/csv").status, 200);
    const auto snap = s.post("/v1/admin/snapshot", "");
    ASSERT_EQ(snap.status, 200) << snap.body;
    ASSERT_GT(json::parse(snap.body)["bytes"].get<uint64_t>(), kLimit);
    ASSERT_EQ(s.stop(), 0);
  }
  const auto snapshot_bytes = read_file(fs::path(dir) / "snapshot.crowd");

  // Checks every read route against the model.
  auto check_reads = [&model](HttpConnection& c, const std::string& what) {
    SCOPED_TRACE(what);
    const auto health = c.get("/healthz");
    EXPECT_EQ(health.status, 200) << health.body;
    if (health.status == 200) {
      EXPECT_EQ(json::parse(health.body)["users"].get<uint64_t>(), model.users.size());
    }
    EXPECT_EQ(count_of(c, "ALL"), model.users.size());
    const auto got = c.get("/v1/count?q=" + url_encode("base AND NOT p:3"));
    EXPECT_EQ(got.status, 200) << got.body;
    if (got.status == 200) {
      uint64_t n = 0;
      for (const auto u : model.tags["base"]) n += model.tags["p:3"].contains(u) ? 0 : 1;
      EXPECT_EQ(json::parse(got.body)["count"].get<uint64_t>(), n);
    }
    const auto all = c.get("/v1/ids?q=ALL&format=csv");
    EXPECT_EQ(all.status, 200);
    EXPECT_EQ(parse_csv_ids(all.body), model.users);
    const auto roaring = c.get("/v1/ids?q=fill:*&format=roaring&lenient=true");
    EXPECT_EQ(roaring.status, 200);
    // Pages of the fill tags' users.
    UserSet filled;
    for (const auto& [t, h] : model.tags) {
      if (t.starts_with("fill:")) filled.insert(h.begin(), h.end());
    }
    EXPECT_EQ(roaring.headers.count("x-crowd-count") ? roaring.headers.at("x-crowd-count") : "",
              std::to_string(filled.size()));
    UserSet paged;
    json cursor = nullptr;
    for (int page = 0; page < 1000; ++page) {
      const auto r = c.post("/v1/ids", json{{"q", "fill:*"}, {"lenient", true}, {"limit", 5000}, {"cursor", cursor}}.dump());
      ASSERT_EQ(r.status, 200) << r.body;
      const auto j = json::parse(r.body);
      for (const auto& id : j["ids"]) paged.insert(id.is_string() ? std::stoull(id.get<std::string>()) : id.get<uint64_t>());
      cursor = j["cursor"];
      if (cursor.is_null()) break;
    }
    EXPECT_EQ(paged, filled);
    const auto tags = c.get("/v1/tags?prefix=fill:&limit=100000");
    EXPECT_EQ(tags.status, 200);
    if (tags.status == 200) {
      std::size_t n = 0;
      for (const auto& [t, h] : model.tags) n += t.starts_with("fill:") ? 1 : 0;
      EXPECT_EQ(json::parse(tags.body)["total"].get<std::size_t>(), n);
    }
  };
  auto expect_unavailable = [](const HttpResult& r, const std::string& what) {
    EXPECT_EQ(r.status, 503) << what << ": " << r.body;
    const auto j = json::parse(r.body, nullptr, false);
    EXPECT_TRUE(!j.is_discarded() && j.contains("error") && j["error"]["code"] == "unavailable") << what << ": " << r.body;
  };

  // Fill writes: 64 new users each under a tag of their own.
  uint64_t next_user = 1000000;
  int next_fill = 0;
  auto fill_write = [&](Write& w) {
    w = Write{};
    w.kind = Write::Kind::kAssign;
    const std::string tag = "fill:" + std::to_string(next_fill++);
    for (int i = 0; i < 64; ++i) w.add.emplace_back(next_user++, std::vector<std::string>{tag});
  };
  {
    ServerProcess s({"--data-dir", dir, "--fsync", "batch"},
                    LaunchOptions{60, {ResourceLimit{RLIMIT_FSIZE, kLimit, kLimit}}});
    ASSERT_TRUE(s.ok()) << s.log();
    HttpConnection c(s.port(), 20);  // a hang is a failure too
    check_reads(c, "before the disk fills");
    Write w;
    HttpResult r;
    int acknowledged = 0;
    for (int i = 0; i < 10000; ++i) {
      fill_write(w);
      r = send(c, w);
      if (r.status != 200) break;
      apply(model, w);
      ++acknowledged;
    }
    expect_unavailable(r, "the write that found the disk full");
    ASSERT_GT(acknowledged, 10) << "the limit was reached too early to mean anything";
    std::cout << "full disk: " << acknowledged << " writes acknowledged before the first 503: " << r.body << "\n";
    // The refused write changed nothing, and is refused again; so are
    // larger writes of every kind.
    check_reads(c, "after the first refused write");
    for (int i = 0; i < 3; ++i) expect_unavailable(send(c, w), "the same write again");
    Write bigger;
    fill_write(bigger);
    for (int i = 0; i < 64; ++i) bigger.add.emplace_back(next_user++, std::vector<std::string>{"fill:extra"});
    expect_unavailable(send(c, bigger), "a larger assign");
    std::string ndjson;
    for (int i = 0; i < 200; ++i) ndjson += "{\"id\": " + std::to_string(next_user++) + ", \"tags\": [\"fill:nd\"]}\n";
    expect_unavailable(c.post("/v1/ingest", ndjson, "application/x-ndjson"), "an NDJSON ingest");
    // Smaller writes may still fit in what is left of the file: whatever
    // they answer is recorded, and must be 200 or 503.
    for (const uint64_t u : {uint64_t{5}, uint64_t{6}, uint64_t{7}}) {
      const auto d = c.request("DELETE", "/v1/users/" + std::to_string(u));
      ASSERT_TRUE(d.status == 200 || d.status == 503) << d.body;
      std::cout << "full disk: DELETE /v1/users/" << u << " answered " << d.status << "\n";
      if (d.status == 200) {
        Write del;
        del.kind = Write::Kind::kDelete;
        del.user = u;
        apply(model, del);
      } else {
        expect_unavailable(d, "a delete");
      }
    }
    check_reads(c, "while writes are refused");

    // A snapshot bigger than the limit fails and leaves the old one whole.
    const auto snap = c.post("/v1/admin/snapshot", "");
    expect_unavailable(snap, "a snapshot past the limit");
    std::cout << "full disk: snapshot answered " << snap.status << " " << snap.body << "\n";
    EXPECT_NE(snap.body.find("snapshot.crowd"), std::string::npos) << snap.body;
    EXPECT_EQ(read_file(fs::path(dir) / "snapshot.crowd"), snapshot_bytes) << "the old snapshot was damaged";
    EXPECT_FALSE(fs::exists(fs::path(dir) / "snapshot.crowd.tmp"));
    check_reads(c, "after the failed snapshot");
    // The failed snapshot still rotated the log, and the limit is per file:
    // writes may go on in the fresh segment. Whatever they answer is recorded.
    for (int i = 0; i < 5; ++i) {
      fill_write(w);
      r = send(c, w);
      ASSERT_TRUE(r.status == 200 || r.status == 503) << r.body;
      std::cout << "full disk: a write after the failed snapshot answered " << r.status << "\n";
      if (r.status == 200) apply(model, w);
    }
    check_reads(c, "after more writes");
    EXPECT_EQ(s.stop(), 0) << s.log();
  }
  // Without the limit: exactly the acknowledged writes.
  ServerProcess s({"--data-dir", dir});
  ASSERT_TRUE(s.ok()) << s.log();
  HttpConnection c(s.port(), 60);
  check_reads(c, "after a restart without the limit");
  const State seen = state_of(c, "fill:", model.users);
  State expected;
  expected.users = model.users;
  for (const auto& [t, h] : model.tags) {
    if (t.starts_with("fill:")) expected.tags[t] = h;
  }
  EXPECT_EQ(seen, expected) << difference(expected, seen);
  EXPECT_EQ(holders(c, "base"), model.tags["base"]);
  const auto snap = c.post("/v1/admin/snapshot", "");
  EXPECT_EQ(snap.status, 200) << snap.body;
  EXPECT_EQ(s.stop(), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace crowd::test
