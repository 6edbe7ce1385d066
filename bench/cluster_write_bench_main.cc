// cluster-write-bench: write latency and throughput through a shard's
// JetStream stream to its replicas (docs/cluster.md#write-path-jetstream),
// on a running cluster (scripts/local-cluster.sh).
//
// Each batch -- --users new users with 6 tags each, as an ingest of the
// demo's records would make -- is encoded as a WriteBatch, published to the
// shard's subject with a message id, and timed to
//   ack:     JetStream's acknowledgement (stored on a quorum of the stream), and
//   applied: the first replica's notice that it applied it (after
//            Store::write returned: on disk under --fsync always|batch),
// which is when a router may acknowledge the write to its client. One batch
// at a time (closed loop): medians, p99, and batches and users a second.
//
//   scripts/local-cluster.sh start /tmp/lc
//   build/cluster-write-bench --nats nats://127.0.0.1:P[,...] --cluster local --shard 0 [--batches 500] [--users 100]
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "cluster/jetstream.h"
#include "cluster/names.h"
#include "index/write_batch.h"

namespace {

using Clock = std::chrono::steady_clock;

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v.empty() ? NAN : v[std::min(v.size() - 1, static_cast<std::size_t>(std::ceil(q * v.size())) - 1)];
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at <= s.size();) {
    const std::size_t comma = std::min(s.find(',', at), s.size());
    if (comma > at) out.push_back(s.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

int run(int argc, char** argv) {
  std::vector<std::string> nats;
  std::string cluster = "local";
  uint32_t shard = 0;
  int batches = 500;
  int users = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--nats")
      nats = split(argv[i + 1]);
    else if (flag == "--cluster")
      cluster = argv[i + 1];
    else if (flag == "--shard")
      shard = static_cast<uint32_t>(std::atoi(argv[i + 1]));
    else if (flag == "--batches")
      batches = std::atoi(argv[i + 1]);
    else if (flag == "--users")
      users = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (nats.empty() || batches <= 0 || users <= 0) {
    std::fprintf(stderr,
                 "usage: cluster-write-bench --nats URL[,URL...] [--cluster NAME] [--shard K] "
                 "[--batches N] [--users N]\n");
    return 2;
  }
  std::string error;
  auto js = crowd::cluster::JetStream::connect(nats, error);
  if (!js) {
    std::fprintf(stderr, "cluster-write-bench: %s\n", error.c_str());
    return 1;
  }
  const std::string subject = crowd::cluster::shard_subject(cluster, shard);
  // As a router does: the stream exists before anything is published (the
  // replicas make it too, once JetStream has elected its leaders).
  const crowd::cluster::StreamSettings stream{crowd::cluster::shard_stream(cluster, shard), subject,
                                              static_cast<int>(std::min<std::size_t>(3, nats.size())),
                                              std::chrono::seconds(600)};
  for (int tries = 0; !js->ensure_stream(stream, error); ++tries) {
    if (tries == 30) {
      std::fprintf(stderr, "cluster-write-bench: %s\n", error.c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  auto notices = js->listen(crowd::cluster::applied_subject(cluster, shard), error);
  if (!notices) {
    std::fprintf(stderr, "cluster-write-bench: %s\n", error.c_str());
    return 1;
  }
  const char* kTags[] = {"gender:female", "gender:male", "age:25-29", "age:30-34", "tier:1",   "tier:2",
                         "power:high",    "power:low",   "兴趣:美妆", "兴趣:母婴", "member:b", "aipl:b:A"};
  const uint64_t run_id = static_cast<uint64_t>(Clock::now().time_since_epoch().count());
  std::vector<double> ack_ms, applied_ms;
  const auto started = Clock::now();
  for (int k = 0; k < batches; ++k) {
    crowd::WriteBatch b;
    std::vector<uint32_t> tags(6);
    for (int u = 0; u < users; ++u) {
      for (int t = 0; t < 6; ++t) tags[static_cast<std::size_t>(t)] = b.intern(kTags[(u + 2 * t + k) % 12]);
      b.add(run_id % 1'000'000'000 * 1'000'000 + static_cast<uint64_t>(k) * static_cast<uint64_t>(users) + u + 1, tags);
    }
    std::string bytes;
    b.encode(bytes);
    const std::string id = "bench-" + std::to_string(run_id) + "-" + std::to_string(k);
    const auto t0 = Clock::now();
    // publish() tries again with the same id until acknowledged: a new
    // stream answers "no responders" until its leader is elected.
    const auto published = js->publish(subject, bytes, id, std::chrono::seconds(30), error);
    if (!published) {
      std::fprintf(stderr, "cluster-write-bench: %s\n", error.c_str());
      return 1;
    }
    ack_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    // The first notice of this sequence (notices of other replicas and of
    // earlier sequences are skipped).
    for (;;) {
      const auto notice = notices->next(std::chrono::seconds(10));
      if (!notice) {
        std::fprintf(stderr, "cluster-write-bench: no replica applied sequence %llu within 10 s\n",
                     static_cast<unsigned long long>(published->sequence));
        return 1;
      }
      const auto j = nlohmann::json::parse(*notice, nullptr, false);
      if (!j.is_discarded() && j.value("sequence", uint64_t{0}) == published->sequence) break;
    }
    applied_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf("cluster-write-bench: %d batches of %d users (6 tags each) to shard %u of '%s', one at a time\n", batches,
              users, shard, cluster.c_str());
  std::printf("| | median ms | p99 ms |\n|---|---:|---:|\n");
  std::printf("| JetStream ack (stored on a quorum) | %.2f | %.2f |\n", percentile(ack_ms, 0.5),
              percentile(ack_ms, 0.99));
  std::printf("| first replica applied (in its log) | %.2f | %.2f |\n", percentile(applied_ms, 0.5),
              percentile(applied_ms, 0.99));
  std::printf("throughput: %.0f batches/s, %.0f users/s\n", batches / seconds, batches * users / seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv); }
