// bench-activation: what keeping a channel in sync costs (issue 16).
//
//   bench-activation [--users N] [--churn F] [--holdout P] [--rounds R] [--events E] [--dir DIR]
//
// 1. A saved crowd of N users (default 10M: every other user of a universe
//    of 2N, so its containers are bitsets as a drawn crowd's are, not one
//    run) with a P% hold-out (default 5) pushed in full to a file
//    destination, then R refreshes that each move N*F/2 members out and
//    N*F/2 others in (F = 0.01: 1% churn), each pushed as a delta: the time
//    to record the push (Activation::push: the hold-out and floor checks
//    walk the crowd), to deliver it (payload from the kept bitmaps, written,
//    fsynced, renamed), and the payload's bytes. Medians of the R deltas,
//    and the full push beside them.
// 2. Feedback ingest: POST /v1/feedback through the real handler (parse,
//    resolve by uid, counters read and written, one write), E events a
//    request over the same users; events a second, median of 3 requests.
// Everything in process, no HTTP; uids are the ID type (no ID lookups).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "activation/activation.h"
#include "index/bulk_loader.h"
#include "index/store.h"
#include "query/date.h"
#include "server/api.h"
#include "server/metrics.h"

namespace {

using namespace crowd;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

uint64_t arg(int argc, char** argv, const char* name, uint64_t fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == name) return std::strtoull(argv[i + 1], nullptr, 10);
  }
  return fallback;
}

std::string text_arg(int argc, char** argv, const char* name, std::string fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == name) return argv[i + 1];
  }
  return fallback;
}

activation::PushRecord last_push(const Store& store, const char* crowd) {
  const auto pushes = activation::Activation::pushes(*store.view(), crowd);
  return pushes.empty() ? activation::PushRecord{} : pushes.back();
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t users = arg(argc, argv, "--users", 10'000'000);
  double churn = 0.01;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--churn") churn = std::strtod(argv[i + 1], nullptr);
  }
  const uint64_t rounds = arg(argc, argv, "--rounds", 3);
  const uint64_t holdout_percent = arg(argc, argv, "--holdout", 5);
  const uint64_t events = arg(argc, argv, "--events", 100'000);
  const std::string dir = text_arg(argc, argv, "--dir", "/tmp/crowd-bench-activation");
  const uint64_t moved = static_cast<uint64_t>(static_cast<double>(users) * churn / 2);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  std::string error;
  auto store = Store::open(StoreOptions{}, error);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", error.c_str());
    return 1;
  }
  const uint64_t universe = 2 * users;
  auto t = Clock::now();
  (void)store->bulk_load(
      [&](Index& index) {
        BulkLoader loader(index);
        const uint32_t all = loader.tag("all");
        for (uint64_t i = 0; i < universe; ++i) (void)loader.add(i + 1, std::span(&all, 1));
        loader.finish();
      },
      error);
  std::printf("bench-activation: %llu users in the universe, loaded in %.1f s\n",
              static_cast<unsigned long long>(universe), seconds_since(t));

  // Members by ordinal (bulk-loaded uid i+1 is ordinal i): the even ones.
  Bitmap members;
  for (uint64_t o = 0; o < universe; o += 2) members.add(static_cast<uint32_t>(o));
  Bitmap next = members.clone();
  activation::ActivationOptions options;
  options.now = [] { return int64_t{1'796'083'200}; };
  options.draw = [&](std::string_view) -> std::variant<activation::DrawnCrowd, std::string> {
    return activation::DrawnCrowd{next.clone(), "{}"};
  };
  activation::Activation act(*store, std::move(options));
  activation::Destination files;
  files.path = dir + "/out";
  bool created = false;
  if (act.put_destination("files", files, created)) return 1;

  activation::CrowdSettings settings;
  settings.holdout_bp = static_cast<uint32_t>(holdout_percent * 100);
  (void)act.save_crowd("c", "{}", members.clone(), "put", settings);
  t = Clock::now();
  (void)act.push("c", "files", false, "request");
  const double full_record = seconds_since(t);
  t = Clock::now();
  while (act.run_due()) {
  }
  const double full_deliver = seconds_since(t);
  const auto full = last_push(*store, "c");
  std::printf("full push of %llu IDs (%llu held out): record %.3f s, deliver %.3f s, %.1f MB (%s)\n",
              static_cast<unsigned long long>(full.adds), static_cast<unsigned long long>(full.held_out), full_record,
              full_deliver, static_cast<double>(full.bytes) / 1e6, activation::status_name(full.status));

  std::mt19937_64 rng(16);
  std::vector<double> record, deliver, refresh;
  uint64_t bytes = 0, adds = 0, removes = 0;
  for (uint64_t r = 0; r < rounds; ++r) {
    // `moved` members out, as many outsiders in.
    for (uint64_t out = 0; out < moved;) {
      const auto o = static_cast<uint32_t>(rng() % universe);
      if (next.contains(o)) {
        next.remove(o);
        ++out;
      }
    }
    for (uint64_t in = 0; in < moved;) {
      const auto o = static_cast<uint32_t>(rng() % universe);
      if (!next.contains(o)) {
        next.add(o);
        ++in;
      }
    }
    t = Clock::now();
    (void)act.save_crowd("c", "{}", next.clone(), "refresh");
    refresh.push_back(seconds_since(t));
    t = Clock::now();
    (void)act.push("c", "files", false, "request");
    record.push_back(seconds_since(t));
    t = Clock::now();
    while (act.run_due()) {
    }
    deliver.push_back(seconds_since(t));
    const auto p = last_push(*store, "c");
    bytes = p.bytes;
    adds = p.adds;
    removes = p.removes;
  }
  const auto [kept, kept_bytes] = activation::Activation::kept(*store->view());
  std::printf(
      "delta push, %.2f%% churn of %llu (%llu adds, %llu removes, %.2f MB): "
      "save %.3f s, record %.3f s, deliver %.3f s (medians of %llu)\n",
      churn * 100, static_cast<unsigned long long>(users), static_cast<unsigned long long>(adds),
      static_cast<unsigned long long>(removes), static_cast<double>(bytes) / 1e6, median(refresh), median(record),
      median(deliver), static_cast<unsigned long long>(rounds));
  std::printf("kept bitmaps: %llu, %.1f MB\n", static_cast<unsigned long long>(kept),
              static_cast<double>(kept_bytes) / 1e6);

  // Feedback through the handler: E events a request, by uid.
  server::Metrics metrics(1u << 30, 1u << 30);
  server::ApiOptions api_options;
  api_options.max_body = 1u << 30;
  server::Api api(*store, metrics, api_options);
  const int64_t today =
      std::chrono::duration_cast<std::chrono::days>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string day = query::format_day(today - 1);
  const char* kinds[] = {"impression", "impression", "impression", "click", "order"};
  std::vector<double> rates;
  for (int request = 0; request < 3; ++request) {
    std::string body;
    for (uint64_t i = 0; i < events; ++i) {
      const uint64_t uid = 1 + rng() % universe;
      const char* kind = kinds[rng() % 5];
      body += R"({"id_type":"uid","id":)" + std::to_string(uid) + R"(,"event":")" + kind +
              R"(","campaign":"c1","day":")" + day + "\"";
      if (kind[0] == 'o')
        body += R"(,"value":12.5,"event_id":"o)" + std::to_string(request) + "-" + std::to_string(i) + "\"";
      body += "}\n";
    }
    server::Request req{server::http::verb::post, "/v1/feedback", 11};
    req.set(server::http::field::content_type, "application/x-ndjson");
    req.body() = std::move(body);
    req.prepare_payload();
    server::Call call;
    t = Clock::now();
    const auto reply = api.handle(req, call);
    const double s = seconds_since(t);
    if (reply.message.result_int() != 200) {
      std::fprintf(stderr, "feedback: %u %s\n", reply.message.result_int(), reply.message.body().c_str());
      return 1;
    }
    rates.push_back(static_cast<double>(events) / s);
  }
  std::printf("feedback: %.0f events/s (median of 3 requests of %llu events, by uid)\n", median(rates),
              static_cast<unsigned long long>(events));
  std::filesystem::remove_all(dir);
  return 0;
}
