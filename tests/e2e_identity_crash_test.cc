// Linked-ID ingest under SIGKILL (issue 15): writers stream ingests whose
// records name users by IDs of three types -- new persons, and new IDs
// linked to persons already there -- while snapshots race them; crowdd is
// SIGKILLed at a random moment and restarted on the same directory. Every
// acknowledged link must be there after the restart (each ID finding its
// person, with exactly that person's IDs), and a write in flight at the kill
// entirely or not at all.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/index_test_util.h"
#include "tests/support/server_process.h"

namespace crowd::test {
namespace {

using json = nlohmann::json;

// A person as the writer knows it: its IDs by type.
using Ids = std::map<std::string, std::set<std::string>>;

constexpr int kWriters = 2;

struct Writer {
  int index = 0;
  std::mt19937_64 rng;
  std::vector<Ids> persons;  // acknowledged
  // The write in flight: the persons it touches after it, by position
  // (persons.size() and up: new ones).
  std::optional<std::map<std::size_t, Ids>> in_flight;
  uint64_t next_id = 0;
  uint64_t acknowledged = 0, kept = 0, lost = 0;
  std::string failure;

  std::string fresh(const std::string& type) {
    const uint64_t n = next_id++;
    if (type == "dev") return std::to_string((static_cast<uint64_t>(index + 1) << 40) + n);
    std::string id = numbered("w", static_cast<uint64_t>(index));  // appended: GCC 12 warns falsely on "w" + ...
    id.append("-").append(type).append("-").append(std::to_string(n));
    return id;
  }

  // 1-4 records: a new person with 1-3 IDs, or a new ID for a known person
  // (named by one of its IDs).
  std::pair<std::string, std::map<std::size_t, Ids>> next_write() {
    std::string body;
    std::map<std::size_t, Ids> after;
    const auto records = 1 + rng() % 4;
    std::size_t next_new = persons.size();
    for (uint64_t r = 0; r < records; ++r) {
      json ids = json::object();
      if (!persons.empty() && rng() % 3 == 0) {
        const std::size_t p = rng() % persons.size();
        Ids& ids_after = after.contains(p) ? after[p] : (after[p] = persons[p]);
        const auto& [known_type, known] = *ids_after.begin();
        ids[known_type] = *known.begin();
        const std::string type = rng() % 2 ? "crm" : "dev";
        const std::string id = fresh(type);
        ids[type] = ids.contains(type) ? json::array({ids[type], id}) : json(id);
        ids_after[type].insert(id);
      } else {
        Ids created;
        for (const char* type : {"oaid", "crm", "dev"}) {
          if (created.empty() || rng() % 2) {
            const std::string id = fresh(type);
            created[type].insert(id);
            ids[type] = id;
          }
        }
        after[next_new++] = created;
      }
      body += json{{"ids", ids}, {"tags", {numbered("w", static_cast<uint64_t>(index))}}}.dump() + "\n";
    }
    return {body, after};
  }

  void adopt(const std::map<std::size_t, Ids>& after) {
    for (const auto& [p, ids] : after) {
      if (p >= persons.size()) persons.resize(p + 1);
      persons[p] = ids;
    }
  }

  void run(int port) {
    HttpConnection c(port, 30);
    for (;;) {
      auto [body, after] = next_write();
      in_flight = after;
      HttpResult r;
      try {
        r = c.post("/v1/ingest", body, "application/x-ndjson");
      } catch (const std::exception&) {
        return;
      }
      if (r.status != 200) {
        failure = std::to_string(r.status) + " " + r.body;
        in_flight.reset();
        return;
      }
      in_flight.reset();
      adopt(after);
      ++acknowledged;
    }
  }
};

// The server's view of one person, found by one of its IDs: its IDs, or
// nothing (404).
std::optional<Ids> fetch(HttpConnection& c, const std::string& type, const std::string& id) {
  const auto r = c.get("/v1/users/" + type + "/" + id);
  if (r.status == 404) return std::nullopt;
  EXPECT_EQ(r.status, 200) << r.body;
  Ids out;
  const json user = json::parse(r.body);  // kept: a range-for over a temporary's member would dangle
  for (const auto& [t, list] : user["ids"].items()) {
    for (const auto& x : list) out[t].insert(x.get<std::string>());
  }
  return out;
}

std::optional<Ids> fetch_any(HttpConnection& c, const Ids& ids) {
  const auto& [type, some] = *ids.begin();
  return fetch(c, type, *some.begin());
}

void verify(const ServerProcess& s, std::vector<Writer>& writers, const std::string& what) {
  HttpConnection c(s.port(), 60);
  for (auto& w : writers) {
    // The in-flight write: all of it there, or none.
    bool applied = false;
    if (w.in_flight) {
      bool any = false, all = true;
      for (const auto& [p, ids] : *w.in_flight) {
        const auto seen = fetch_any(c, ids);
        const bool there = seen && *seen == ids;
        any |= there && (p >= w.persons.size() || ids != w.persons[p]);
        all &= there;
      }
      ASSERT_TRUE(all || !any) << what << ": writer " << w.index << "'s write in flight is there in part";
      applied = all;
      if (applied) {
        w.adopt(*w.in_flight);
        ++w.kept;
      } else {
        ++w.lost;
      }
      w.in_flight.reset();
    }
    // Every acknowledged person, found by each of its IDs, with exactly them.
    for (std::size_t p = 0; p < w.persons.size(); ++p) {
      for (const auto& [type, set] : w.persons[p]) {
        for (const auto& id : set) {
          const auto seen = fetch(c, type, id);
          ASSERT_TRUE(seen) << what << ": writer " << w.index << " person " << p << " lost its " << type;
          ASSERT_EQ(*seen, w.persons[p]) << what << ": writer " << w.index << " person " << p;
        }
      }
    }
  }
}

TEST(IdentityCrash, KillDuringLinkedIdIngest) {
  const uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  const auto dir = temp_dir("crowd-id-crash");
  std::mt19937_64 rng(seed);
  std::vector<Writer> writers(kWriters);
  for (int i = 0; i < kWriters; ++i) {
    writers[static_cast<std::size_t>(i)].index = i;
    writers[static_cast<std::size_t>(i)].rng.seed(seed * 31 + static_cast<uint64_t>(i));
  }
  constexpr int kKills = 4;
  for (int round = 0; round <= kKills; ++round) {
    const std::string what = "after kill " + std::to_string(round);
    ServerProcess s({"--data-dir", dir, "--fsync", "batch"}, 60);
    ASSERT_TRUE(s.ok()) << what << ": " << s.log();
    if (round == 0) {
      for (const auto& [name, kind] : {std::pair{"oaid", "string"}, {"crm", "string"}, {"dev", "u64"}}) {
        const auto r = s.request("PUT", std::string("/v1/id-types/") + name, json{{"kind", kind}}.dump());
        ASSERT_EQ(r.status, 201) << r.body;
      }
    } else {
      verify(s, writers, what);
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
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 600));
    EXPECT_EQ(s.stop(SIGKILL), 128 + SIGKILL);
    for (auto& t : threads) t.join();
    for (const auto& w : writers) ASSERT_EQ(w.failure, "") << what;
    ASSERT_EQ(racer.failure, "") << what;
  }
  uint64_t acked = 0, kept = 0, lost = 0, persons = 0;
  for (const auto& w : writers) {
    acked += w.acknowledged;
    kept += w.kept;
    lost += w.lost;
    persons += w.persons.size();
  }
  std::cout << kKills << " kills: " << acked << " linked-ID ingests acknowledged (" << persons
            << " persons); in flight at a kill: " << kept << " kept, " << lost << " lost\n";
  EXPECT_GT(acked, 50u) << "too few writes to mean anything";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace crowd::test
