// Activation's bookkeeping in process (activation/activation.h) over a real
// Store, with a clock the test moves and crowds it draws itself: versions
// and their adds and removes, schedules (due, missed runs made once, kept
// across a restart, failures retried), automatic pushes, the bound on kept
// bitmaps, expiry, the hold-out, and erasure reaching a destination. The
// file destination's payloads are read back and compared with the sets the
// test computed.
#include <gtest/gtest.h>

#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "activation/activation.h"
#include "activation/holdout.h"
#include "index/store.h"
#include "index/system_view.h"
#include "tests/support/tool_process.h"

namespace crowd::activation {
namespace {

using json = nlohmann::json;

constexpr int64_t kT0 = 1'796'083'200;  // 2026-12-01T00:00:00Z
constexpr int64_t kHour = 3600;

// A store, an Activation over it with the test's clock, and the members the
// next draw of each crowd returns (uids).
class Flow {
 public:
  explicit Flow(const std::string& data_dir) : data_dir_(data_dir) { open(); }

  void open() {
    activation_.reset();
    store_.reset();
    StoreOptions options;
    options.data_dir = data_dir_;
    std::string error;
    store_ = Store::open(options, error);
    ASSERT_NE(store_, nullptr) << error;
    ActivationOptions a;
    a.now = [this] { return now; };
    a.draw = [this](std::string_view name) -> std::variant<DrawnCrowd, std::string> {
      ++draws;
      if (!draw_error.empty()) return draw_error;
      return DrawnCrowd{ordinals(next_members[std::string(name)]), "definition"};
    };
    activation_ = std::make_unique<Activation>(*store_, std::move(a));
  }

  // Users 1..n with one tag, so they are in the universe.
  void users(uint64_t n) {
    WriteBatch b;
    const uint32_t t = b.intern("t");
    for (UserId u = 1; u <= n; ++u) b.add(u, std::span(&t, 1));
    WriteResult r;
    ASSERT_EQ(store_->write(b, r), WriteStatus::kOk);
  }

  Bitmap ordinals(const std::set<UserId>& uids) {
    Bitmap b;
    std::vector<std::optional<Ordinal>> found(uids.size());
    const std::vector<UserId> list(uids.begin(), uids.end());
    store_->find_uids(list, found);
    for (const auto& o : found) {
      if (o) b.add(*o);
    }
    return b;
  }

  SavedVersion save(const std::string& name, const std::set<UserId>& uids, const CrowdSettings& settings = {}) {
    auto r = activation_->save_crowd(name, "definition", ordinals(uids), "put", settings);
    EXPECT_TRUE(std::holds_alternative<SavedVersion>(r)) << std::get<Refusal>(r).message;
    return std::get<SavedVersion>(r);
  }

  CrowdRecord record(const std::string& name) {
    const auto c = activation_->crowd(*store_->view(), name);
    EXPECT_TRUE(c.has_value());
    return c ? c->record : CrowdRecord{};
  }

  // Runs the worker's passes until nothing is due.
  int run() {
    int n = 0;
    while (activation_->run_due() && n < 100) ++n;
    return n;
  }

  Store& store() { return *store_; }
  Activation& activation() { return *activation_; }

  int64_t now = kT0;
  int draws = 0;
  std::string draw_error;
  std::map<std::string, std::set<UserId>> next_members;

 private:
  std::string data_dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Activation> activation_;
};

std::set<UserId> range(UserId first, UserId last) {
  std::set<UserId> out;
  for (UserId u = first; u <= last; ++u) out.insert(u);
  return out;
}

// The ops of every applied push in `dir`, in version order: (op, id) lines.
struct Applied {
  std::set<std::string> ids;
  int pushes = 0;
};
Applied apply_files(const std::string& dir) {
  std::vector<std::string> manifests;
  if (DIR* d = opendir(dir.c_str())) {
    while (const dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name.ends_with(".manifest.json") && name.front() != '.') manifests.push_back(name);
    }
    closedir(d);
  }
  std::sort(manifests.begin(), manifests.end());  // <crowd>.v<version>.p<seq>...: push order for one crowd
  Applied a;
  for (const auto& m : manifests) {
    const auto manifest = json::parse(test::read_file(dir + "/" + m));
    if (manifest["mode"] == "full") a.ids.clear();
    std::istringstream lines(test::read_file(dir + "/" + manifest["payload"].get<std::string>()));
    for (std::string line; std::getline(lines, line);) {
      const auto op = json::parse(line);
      if (op["op"] == "add") {
        a.ids.insert(op["id"].get<std::string>());
      } else {
        a.ids.erase(op["id"].get<std::string>());
      }
    }
    ++a.pushes;
  }
  return a;
}

std::set<std::string> texts(const std::set<UserId>& uids) {
  std::set<std::string> out;
  for (const auto u : uids) out.insert(std::to_string(u));
  return out;
}

Destination file_destination(const std::string& path) {
  Destination d;
  d.kind = Destination::Kind::kFile;
  d.path = path;
  return d;
}

TEST(ActivationFlow, EachSaveIsAVersionWithItsAddsAndRemoves) {
  const test::ScratchDir dir;
  Flow f(dir.path + "/data");
  f.users(300);
  EXPECT_EQ(f.save("c", range(1, 100)).entry.version, 1u);
  const auto v2 = f.save("c", range(51, 150));
  EXPECT_EQ(v2.entry.version, 2u);
  EXPECT_EQ(v2.entry.size, 100u);
  EXPECT_EQ(v2.entry.adds, 50u);
  EXPECT_EQ(v2.entry.removes, 50u);
  for (int i = 0; i < 110; ++i) f.save("c", range(1, static_cast<UserId>(1 + i)));
  const auto c = f.record("c");
  EXPECT_EQ(c.version, 112u);
  ASSERT_EQ(c.versions.size(), kVersionHistory);
  EXPECT_EQ(c.versions.front().version, 13u);
  EXPECT_EQ(c.versions.back().adds, 1u);
}

TEST(ActivationFlow, ADueRefreshRunsOnceAndMissedRunsAreNotReplayed) {
  const test::ScratchDir dir;
  Flow f(dir.path + "/data");
  f.users(100);
  CrowdSettings s;
  s.refresh = "1h";
  f.save("c", range(1, 10), s);
  f.next_members["c"] = range(1, 20);
  f.now = kT0 + kHour / 2;
  EXPECT_EQ(f.run(), 0);
  EXPECT_EQ(f.record("c").version, 1u);
  f.now = kT0 + kHour;
  EXPECT_EQ(f.run(), 1);
  EXPECT_EQ(f.record("c").version, 2u);
  EXPECT_EQ(f.record("c").versions.back().trigger, "schedule");
  EXPECT_EQ(f.record("c").versions.back().adds, 10u);
  // Down for ten hours: one refresh at "start", the next an hour after it.
  f.now = kT0 + 11 * kHour + 5;
  EXPECT_EQ(f.run(), 1);
  EXPECT_EQ(f.run(), 0);
  EXPECT_EQ(f.record("c").version, 3u);
  const auto next = f.activation().crowd(*f.store().view(), "c")->next_refresh;
  EXPECT_EQ(next, kT0 + 12 * kHour + 5);
  EXPECT_EQ(f.draws, 2);
}

TEST(ActivationFlow, SchedulesSurviveARestart) {
  const test::ScratchDir dir;
  Flow f(dir.path + "/data");
  f.users(100);
  CrowdSettings s;
  s.refresh = "daily@02:00";
  f.save("c", range(1, 10), s);
  f.open();  // the process ends; a new one opens the same directory
  EXPECT_EQ(f.record("c").refresh, "daily@02:00");
  f.now = kT0 + 3 * 24 * kHour;  // three 02:00s missed
  f.next_members["c"] = range(1, 30);
  EXPECT_EQ(f.run(), 1);
  EXPECT_EQ(f.record("c").version, 2u);
  EXPECT_EQ(f.activation().crowd(*f.store().view(), "c")->next_refresh, kT0 + 3 * 24 * kHour + 2 * kHour);
}

TEST(ActivationFlow, AFailedRefreshIsRecordedAndTriedAgainAMinuteLater) {
  const test::ScratchDir dir;
  Flow f(dir.path + "/data");
  f.users(10);
  CrowdSettings s;
  s.refresh = "5m";
  f.save("c", range(1, 5), s);
  f.draw_error = "unknown tag 'gone'";
  f.now = kT0 + 300;
  EXPECT_EQ(f.run(), 1);
  EXPECT_EQ(f.record("c").last_error, "unknown tag 'gone'");
  EXPECT_EQ(f.record("c").version, 1u);
  f.now += 30;
  EXPECT_EQ(f.run(), 0);
  f.draw_error.clear();
  f.next_members["c"] = range(1, 6);
  f.now += 31;
  EXPECT_EQ(f.run(), 1);
  EXPECT_EQ(f.record("c").version, 2u);
  EXPECT_TRUE(f.record("c").last_error.empty());
}

// After each scheduled refresh a push goes to each push_to destination; the
// files, applied in order, equal the crowd; the kept versions stay one.
TEST(ActivationFlow, ScheduledPushesKeepTheReceiverEqualAndTheKeptBitmapsBounded) {
  const test::ScratchDir dir;
  Flow f(dir.path + "/data");
  f.users(1000);
  bool created = false;
  ASSERT_FALSE(f.activation().put_destination("files", file_destination(dir.path + "/out"), created));
  CrowdSettings s;
  s.refresh = "1h";
  s.push_to = std::vector<std::string>{"files"};
  f.save("c", range(1, 100), s);
  for (int round = 1; round <= 6; ++round) {
    const auto members = range(static_cast<UserId>(10 * round), static_cast<UserId>(100 + 20 * round));
    f.next_members["c"] = members;
    f.now = kT0 + round * kHour;
    EXPECT_GE(f.run(), 2);  // the refresh, then the push's delivery
    const auto pushes = Activation::pushes(*f.store().view(), "c");
    ASSERT_EQ(pushes.size(), static_cast<std::size_t>(round));
    EXPECT_EQ(pushes.back().status, PushRecord::Status::kDelivered);
    EXPECT_EQ(pushes.back().trigger, "schedule");
    EXPECT_EQ(pushes.back().full, round == 1);
    EXPECT_EQ(apply_files(dir.path + "/out").ids, texts(members)) << round;
    // The one version the destination holds; the cohorts of pushed versions.
    const auto view = f.store().view();
    uint64_t versions = 0;
    for (const auto& [key, id] : view->system().kept_bitmaps("ver")) versions += view->tag(id).cardinality > 0;
    EXPECT_EQ(versions, 1u) << round;
  }
}

// A scheduled push the destination's floor refuses: the refresh stands,
// and why its push did not go is on the crowd.
TEST(ActivationFlow, ARefusedScheduledPushIsReportedOnTheCrowd) {
  const test::ScratchDir dir;
  Flow f(dir.path + "/data");
  f.users(100);
  Destination big = file_destination(dir.path + "/out");
  big.min_size = 1000;
  bool created = false;
  ASSERT_FALSE(f.activation().put_destination("big", big, created));
  CrowdSettings s;
  s.refresh = "1h";
  s.push_to = std::vector<std::string>{"big"};
  f.save("c", range(1, 10), s);
  f.next_members["c"] = range(1, 20);
  f.now = kT0 + kHour;
  EXPECT_EQ(f.run(), 1);
  const auto c = f.record("c");
  EXPECT_EQ(c.version, 2u);
  EXPECT_NE(c.last_error.find("push to big"), std::string::npos) << c.last_error;
  EXPECT_NE(c.last_error.find("min_size"), std::string::npos) << c.last_error;
  EXPECT_TRUE(Activation::pushes(*f.store().view(), "c").empty());
}

TEST(ActivationFlow, ExpiryCancelsOutstandingPushesAndDropsVersions) {
  const test::ScratchDir dir;
  Flow f(dir.path + "/data");
  f.users(100);
  Destination hook;
  hook.kind = Destination::Kind::kWebhook;
  hook.url = "http://127.0.0.1:9/nobody-listens";  // the discard port: connection refused
  hook.timeout_ms = 200;
  hook.deadline_ms = 300;
  bool created = false;
  ASSERT_FALSE(f.activation().put_destination("hook", hook, created));
  CrowdSettings s;
  s.expires_at = std::optional<int64_t>(kT0 + kHour);
  f.save("c", range(1, 50), s);
  auto pushed = f.activation().push("c", "hook", false, "request");
  ASSERT_TRUE(std::holds_alternative<PushRecord>(pushed));
  f.run();
  auto pushes = Activation::pushes(*f.store().view(), "c");
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].status, PushRecord::Status::kRetrying);
  EXPECT_FALSE(pushes[0].error.empty());
  EXPECT_EQ(pushes[0].error.find("nobody-listens"), std::string::npos);
  EXPECT_NE(Activation::kept(*f.store().view()).first, 0u);

  f.now = kT0 + kHour;
  f.run();
  pushes = Activation::pushes(*f.store().view(), "c");
  EXPECT_EQ(pushes[0].status, PushRecord::Status::kCancelled);
  EXPECT_EQ(Activation::kept(*f.store().view()).first, 0u);
  EXPECT_TRUE(f.record("c").expired);
  const auto again = f.activation().push("c", "hook", false, "request");
  ASSERT_TRUE(std::holds_alternative<Refusal>(again));
  EXPECT_EQ(std::get<Refusal>(again).code, "crowd_expired");
  EXPECT_TRUE(f.store().view()->system().saved_crowd("c")) << "kept, not deleted";
  // The destination is free again: nothing outstanding, no push_to.
  EXPECT_FALSE(f.activation().delete_destination("hook"));
}

// The worker thread delivering while this thread saves versions, asks for
// pushes and reads records: every push lands, in order, and the files end
// equal to the last version. (Run under the sanitizers in CI.)
TEST(ActivationFlow, TheWorkerDeliversWhileVersionsAndPushesArrive) {
  const test::ScratchDir dir;
  Flow f(dir.path + "/data");
  f.users(2000);
  bool created = false;
  ASSERT_FALSE(f.activation().put_destination("files", file_destination(dir.path + "/out"), created));
  f.activation().start();
  std::set<UserId> members;
  for (int round = 0; round < 40; ++round) {
    members = range(static_cast<UserId>(1 + 13 * round), static_cast<UserId>(500 + 29 * round));
    f.save("c", members);
    const auto pushed = f.activation().push("c", "files", false, "request");
    ASSERT_TRUE(std::holds_alternative<PushRecord>(pushed)) << std::get<Refusal>(pushed).message;
    (void)Activation::pushes(*f.store().view(), "c");
    (void)Activation::kept(*f.store().view());
  }
  // Until nothing is outstanding (bounded: 30 s each), then a last push of
  // the last version if the one outstanding at the end was an older one.
  const auto idle = [&] {
    for (int i = 0; i < 600 && Activation::outstanding(*f.store().view()) > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return Activation::outstanding(*f.store().view()) == 0;
  };
  ASSERT_TRUE(idle());
  ASSERT_TRUE(std::holds_alternative<PushRecord>(f.activation().push("c", "files", false, "request")));
  ASSERT_TRUE(idle());
  f.activation().stop();
  for (const auto& p : Activation::pushes(*f.store().view(), "c")) {
    EXPECT_EQ(p.status, PushRecord::Status::kDelivered) << p.seq << " " << p.error;
  }
  EXPECT_EQ(apply_files(dir.path + "/out").ids, texts(members));
}

TEST(ActivationFlow, TheHoldoutIsDeterministicAndNearItsShare) {
  Bitmap users;
  for (uint32_t o = 0; o < 200'000; ++o) users.add(o);
  const Holdout a("crowd-a", 500), a_again("crowd-a", 500), b("crowd-b", 500);
  const Bitmap held_a = a.held_of(users), held_b = b.held_of(users);
  EXPECT_NEAR(static_cast<double>(held_a.cardinality()) / 200'000, 0.05, 0.005);
  EXPECT_EQ(roaring_bitmap_equals(held_a.get(), a_again.held_of(users).get()), true);
  const Bitmap pushed = a.pushed(users);
  EXPECT_EQ(pushed.cardinality() + held_a.cardinality(), 200'000u);
  EXPECT_EQ(roaring_bitmap_and_cardinality(pushed.get(), held_a.get()), 0u);
  // Two crowds hold out unrelated users: ~5% of 5% in common.
  const double both = static_cast<double>(roaring_bitmap_and_cardinality(held_a.get(), held_b.get()));
  EXPECT_NEAR(both / 200'000, 0.0025, 0.001);
  EXPECT_EQ(Holdout("crowd-a", 0).held_of(users).cardinality(), 0u);
}

// Erasing a user a destination holds: its ID goes out as a remove with the
// next push, though the crowd did not change version.
TEST(ActivationFlow, AnErasedUserIsRemovedByTheNextPush) {
  const test::ScratchDir dir;
  Flow f(dir.path + "/data");
  f.users(200);
  bool created = false;
  ASSERT_FALSE(f.activation().put_destination("files", file_destination(dir.path + "/out"), created));
  f.save("c", range(1, 100));
  ASSERT_TRUE(std::holds_alternative<PushRecord>(f.activation().push("c", "files", false, "request")));
  f.run();
  ASSERT_EQ(apply_files(dir.path + "/out").ids, texts(range(1, 100)));

  const auto view = f.store().view();
  WriteBatch erase;
  erase.erase(UserId{42});
  std::vector<Ordinal> erased;
  const std::set<UserId> one{42};
  roaring_uint32_iterator_t it;
  const Bitmap o = f.ordinals(one);
  roaring_init_iterator(o.get(), &it);
  erased.push_back(it.current_value);
  WriteResult result;
  ASSERT_EQ(f.activation().erase_users(*view, erased, erase, result), WriteStatus::kOk);
  EXPECT_EQ(result.erased, 1u);
  auto pushed = f.activation().push("c", "files", false, "request");
  ASSERT_TRUE(std::holds_alternative<PushRecord>(pushed));
  EXPECT_EQ(std::get<PushRecord>(pushed).version, 1u) << "no new version";
  f.run();
  auto expected = range(1, 100);
  expected.erase(42);
  EXPECT_EQ(apply_files(dir.path + "/out").ids, texts(expected));
  const auto p = Activation::pushes(*f.store().view(), "c").back();
  EXPECT_EQ(p.removes, 1u);
  EXPECT_EQ(p.adds, 0u);
  // Delivered: the erased user's ID is forgotten.
  ASSERT_TRUE(std::holds_alternative<PushRecord>(f.activation().push("c", "files", false, "request")));
  f.run();
  EXPECT_EQ(Activation::pushes(*f.store().view(), "c").back().removes, 0u);
}

}  // namespace
}  // namespace crowd::activation
