// crowd-baselines: crowd side by side with what a team would otherwise build,
// on the same population and the same queries, each reported as a ratio to
// crowd.
//
//   crowd in process  query::compile + Evaluator::count — the server's own
//                     path without HTTP (server/api_query.cc), with a union
//                     cache of crowdd's default size (--union-cache-mb)
//   raw CRoaring      crowd's parser, then plain CRoaring calls operator by
//                     operator (bench/naive_roaring.h): the floor. Two ends:
//                     the last step a *_cardinality call ("raw"), and the
//                     literal walker that materialises then counts
//                     ("raw-mat")
//   crowd over HTTP   GET /v1/count on one keep-alive connection to a running
//                     crowdd (--crowd-url): the client's round trip and the
//                     server's took_us
//   Redis 7           a private redis-server on loopback without persistence,
//                     every tag a plain bitmap string, BITOP + BITCOUNT in one
//                     pipeline per query (bench/redis_baseline.h); latency on
//                     one connection, throughput on the weighted mix with
//                     --redis-connections connections (one thread each) and
//                     with one, the better of the two compared with crowd's
//                     (--crowd-bench-json: a build/crowd-bench result)
//
// Latency: --samples calls per query and method, in blocks of consecutive
// calls that take turns (time_blocks explains why). Every method's count must
// equal crowd's in-process count on every call; any difference aborts
// (exit 3). Bad input or a failing peer: exit 2. Redis is stopped at exit, on
// errors and on SIGINT/SIGTERM/SIGHUP.
//
// Usage (bench/run-baselines.sh runs it against a crowdd it starts):
//   crowd-baselines --users N --seed S --mix FILE [--crowd-url http://H:P]
//       [--samples K] [--redis-connections C] [--duration SECONDS]
//       [--redis-port P] [--redis-server PATH] [--no-redis]
//       [--crowd-bench-json FILE] [--json FILE] [--union-cache-mb N]
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "bench/naive_roaring.h"
#include "bench/query_mix.h"
#include "bench/redis_baseline.h"
#include "data/synthetic_load.h"
#include "data/synthetic_population.h"
#include "index/bulk_loader.h"
#include "index/index.h"
#include "query/parser.h"
#include "query/query.h"
#include "query/union_cache.h"

namespace crowd::bench {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// The Redis server, if started: a static so that die() (std::exit) stops it
// through its destructor.
std::unique_ptr<RedisServer> g_redis;

[[noreturn]] void die(const std::string& message, int code = 2) {
  std::fprintf(stderr, "crowd-baselines: %s\n", message.c_str());
  std::fflush(stderr);
  std::exit(code);  // static destructors stop redis
}

[[noreturn]] void mismatch(const std::string& message) {
  die("COUNT MISMATCH: " + message + " — the baselines do not compute the same sets; aborting", 3);
}

extern "C" void on_signal(int sig) {
  stop_redis_servers_from_signal();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

struct Args {
  uint64_t users = 0;
  uint64_t seed = 42;
  std::string mix;
  std::string crowd_url;
  int redis_port = 0;
  std::string redis_server = "/usr/bin/redis-server";
  bool no_redis = false;
  int samples = 200;
  int redis_connections = 32;
  double duration = 10;
  std::string crowd_bench_json;
  std::string json_path;
  uint64_t union_cache_mb = 256;  // crowdd's default --union-cache-mb
};

const char* const kUsage =
    "usage: crowd-baselines --users N --seed S --mix FILE [--crowd-url http://127.0.0.1:PORT]\n"
    "         [--samples K (per query and method, default 200)] [--redis-connections C (default 32)]\n"
    "         [--duration SECONDS (Redis throughput, default 10)] [--redis-port P] [--redis-server PATH]\n"
    "         [--no-redis] [--crowd-bench-json FILE] [--json FILE]\n"
    "         [--union-cache-mb N (crowd in process, as crowdd's flag; default 256, 0 off)]\n";

Args parse_args(int argc, char** argv) {
  Args a;
  auto value = [&](int& i) -> std::string {
    if (i + 1 >= argc) die(std::string(argv[i]) + " needs a value\n" + kUsage);
    return argv[++i];
  };
  auto number = [&](int& i) -> double {
    const std::string flag = argv[i];
    const std::string v = value(i);
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || d < 0) die(flag + " must be a non-negative number, not \"" + v + "\"");
    return d;
  };
  auto integer = [&](int& i) -> uint64_t {
    const std::string flag = argv[i];
    const std::string v = value(i);
    char* end = nullptr;
    errno = 0;
    const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || v[0] == '-' || *end != '\0' || errno != 0) {
      die(flag + " must be an unsigned integer, not \"" + v + "\"");
    }
    return n;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    if (f == "--users")
      a.users = integer(i);
    else if (f == "--seed")
      a.seed = integer(i);
    else if (f == "--mix")
      a.mix = value(i);
    else if (f == "--crowd-url")
      a.crowd_url = value(i);
    else if (f == "--redis-port")
      a.redis_port = static_cast<int>(std::min<uint64_t>(integer(i), 65535));
    else if (f == "--redis-server")
      a.redis_server = value(i);
    else if (f == "--no-redis")
      a.no_redis = true;
    else if (f == "--samples")
      a.samples = static_cast<int>(std::min<uint64_t>(integer(i), 100'000'000));
    else if (f == "--redis-connections")
      a.redis_connections = static_cast<int>(std::min<uint64_t>(integer(i), 4096));
    else if (f == "--duration")
      a.duration = number(i);
    else if (f == "--crowd-bench-json")
      a.crowd_bench_json = value(i);
    else if (f == "--json")
      a.json_path = value(i);
    else if (f == "--union-cache-mb")
      a.union_cache_mb = integer(i);
    else if (f == "--help" || f == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else {
      die("unknown flag " + f + "\n" + kUsage);
    }
  }
  if (a.users == 0 || a.mix.empty()) die(std::string("--users and --mix are required\n") + kUsage);
  if (a.samples < 1) die("--samples must be at least 1");
  if (a.redis_connections < 1) die("--redis-connections must be at least 1");
  return a;
}

// One `count` line of the mix.
struct MixQuery {
  double weight = 0;
  std::string text;
  int line = 0;
};

// The mix, read by the load tool's own parser (bench/query_mix.h: '#'
// comments, blank lines, "WEIGHT KIND ARG"); only count lines are the
// baselines' business.
std::vector<MixQuery> read_mix(const std::string& path) {
  std::string error;
  const auto mix = load_mix(path, error);
  if (!mix) die(error);
  std::vector<MixQuery> out;
  for (const auto& e : mix->entries) {
    if (e.kind == MixKind::count) out.push_back({e.weight, e.arg, e.line});
  }
  if (out.empty()) die(path + " has no count lines");
  return out;
}

// The synthetic population of `crowdd --demo N --seed S`, loaded the demo's
// way (server/startup_load.cc) into an in-memory index.
std::shared_ptr<const IndexView> build_population(uint64_t users, uint64_t seed) {
  const auto t = Clock::now();
  static Index index;  // outlives every view and plan
  const synth::Population population(synth::PopulationOptions{users, seed});
  BulkLoader loader(index);
  if (!synth::load_population(population, loader)) die("the user table is full");
  const uint64_t assignments = loader.finish();
  auto view = index.view();
  std::fprintf(stderr, "crowd-baselines: population of %llu users (seed %llu): %llu assignments, %zu tags, %.1f s\n",
               static_cast<unsigned long long>(users), static_cast<unsigned long long>(seed),
               static_cast<unsigned long long>(assignments), view->tag_count(),
               std::chrono::duration<double>(Clock::now() - t).count());
  return view;
}

struct Percentiles {
  double p50 = 0;
  double p99 = 0;
  double min = 0;
  bool present = false;
};

// Nearest rank: the smallest sample with at least p of the samples at or
// below it.
Percentiles percentiles(std::vector<double> us) {
  Percentiles p;
  if (us.empty()) return p;
  std::sort(us.begin(), us.end());
  const auto rank = [&](double q) {
    const auto r = static_cast<std::size_t>(std::ceil(q * static_cast<double>(us.size())));
    return us[std::min(us.size() - 1, r == 0 ? 0 : r - 1)];
  };
  p.p50 = rank(0.50);
  p.p99 = rank(0.99);
  p.min = us.front();
  p.present = true;
  return p;
}

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// One way of counting a query: returns the count; timed from outside.
struct Method {
  std::string name;
  std::function<uint64_t()> sample;
  std::vector<double> us;
};

// Blocks: the samples of each method are split into `blocks` runs of
// consecutive calls, and the methods take turns block by block (the order
// rotating each turn); each block starts with `warmup` untimed calls.
//
// Why not one call of each method in turn: at 10M users every method reads
// its own copy of the same tags (this process, crowdd, redis-server), several
// MB each, and alternating call by call evicts each from the shared L3 for
// the next: crowdd's took_us for a 3-tag count measured 755 µs that way
// against 197 µs on its own. Why not one block per method: on a shared
// machine the load changes within seconds, and one block would give one
// method the quiet minute and another the busy one. Consecutive calls keep
// each method warm, as it would be on its own machine; taking turns spreads
// the noise over all of them. Every count must equal `expected`.
void time_blocks(std::vector<Method>& methods, int warmup, int samples, int blocks, uint64_t expected) {
  const std::size_t m = methods.size();
  for (auto& method : methods) method.us.reserve(static_cast<std::size_t>(samples));
  for (int b = 0; b < blocks; ++b) {
    // This block's share of the samples: the first samples % blocks blocks
    // take one more.
    const int n = samples / blocks + (b < samples % blocks ? 1 : 0);
    for (std::size_t k = 0; k < m; ++k) {
      Method& method = methods[(static_cast<std::size_t>(b) + k) % m];
      for (int i = 0; i < warmup + n; ++i) {
        const auto t0 = Clock::now();
        const uint64_t count = method.sample();
        const auto t1 = Clock::now();
        if (count != expected) {
          mismatch(method.name + " counted " + std::to_string(count) + ", crowd in process " +
                   std::to_string(expected));
        }
        if (i >= warmup) method.us.push_back(micros(t1 - t0));
      }
    }
  }
}

// A synchronous HTTP/1.1 client on one keep-alive connection (Beast).
class CrowdHttp {
 public:
  CrowdHttp(const std::string& url) {
    const std::string scheme = "http://";
    if (url.rfind(scheme, 0) != 0) die("--crowd-url must look like http://127.0.0.1:PORT, not " + url);
    std::string rest = url.substr(scheme.size());
    if (const auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
    const auto colon = rest.rfind(':');
    host_ = colon == std::string::npos ? rest : rest.substr(0, colon);
    port_ = colon == std::string::npos ? "80" : rest.substr(colon + 1);
    try {
      net::ip::tcp::resolver resolver(ioc_);
      net::connect(socket_, resolver.resolve(host_, port_));
      socket_.set_option(net::ip::tcp::no_delay(true));
    } catch (const std::exception& e) {
      die("cannot connect to crowd at " + url + ": " + e.what());
    }
  }

  // GET target; the response's count and took_us. Dies on any error.
  void count(const std::string& target, uint64_t& count, double& took_us) {
    const auto res = get(target);
    if (res.result_int() != 200)
      die("crowd over HTTP: " + target + " answered " + std::to_string(res.result_int()) + ": " + res.body());
    const auto body = json::parse(res.body(), nullptr, false);
    if (body.is_discarded() || !body.contains("count") || !body.contains("took_us")) {
      die("crowd over HTTP: unexpected body: " + res.body());
    }
    count = body["count"].get<uint64_t>();
    took_us = body["took_us"].get<double>();
    if (!res.keep_alive()) die("crowd over HTTP: the server closed the keep-alive connection");
  }

  // GET target as JSON (for /healthz and /v1/tags).
  json get_json(const std::string& target) { return json::parse(get(target).body(), nullptr, false); }

 private:
  // One keep-alive GET. Dies on a transport error.
  http::response<http::string_body> get(const std::string& target) {
    http::request<http::empty_body> req(http::verb::get, target, 11);
    req.set(http::field::host, host_);
    req.keep_alive(true);
    http::response<http::string_body> res;
    try {
      http::write(socket_, req);
      http::read(socket_, buffer_, res);
    } catch (const std::exception& e) {
      die("crowd over HTTP: " + std::string(e.what()));
    }
    return res;
  }

  net::io_context ioc_;
  net::ip::tcp::socket socket_{ioc_};
  beast::flat_buffer buffer_;
  std::string host_;
  std::string port_;
};

struct QueryResult {
  MixQuery query;
  uint64_t count = 0;
  std::size_t redis_commands = 0;
  Percentiles crowd, raw, raw_mat, http_client, http_took, redis;
};

// Redis throughput: C connections, one thread each, each running the
// weighted mix back to back for `seconds` (a query finishing after the
// window is not counted); every count checked.
struct Throughput {
  double qps = 0;
  uint64_t queries = 0;
  double seconds = 0;
  Percentiles latency;
};

Throughput redis_throughput(int port, int connections, double seconds, const std::vector<MixQuery>& mix,
                            const std::vector<query::Ast>& asts, const std::vector<uint64_t>& expected,
                            const TagDictionary& dictionary) {
  QueryMix counts;  // the count lines, in order, for the load tool's picker
  for (const auto& q : mix) counts.entries.push_back(MixEntry{q.weight, MixKind::count, q.text, q.line});
  const MixPicker picker(counts);
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::string first_error;
  std::vector<uint64_t> done(static_cast<std::size_t>(connections), 0);
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(connections));

  // Connect and compile everything before the clock starts.
  std::vector<std::unique_ptr<RedisClient>> clients;
  std::vector<std::vector<RedisProgram>> programs(static_cast<std::size_t>(connections));
  for (int c = 0; c < connections; ++c) {
    std::string error;
    auto client = RedisClient::connect(port, error);
    if (!client) die(error);
    clients.push_back(std::move(client));
    auto& mine = programs[static_cast<std::size_t>(c)];
    mine.resize(asts.size());
    for (std::size_t q = 0; q < asts.size(); ++q) {
      if (!compile_redis_program(asts[q], dictionary, "\xfftmp:" + std::to_string(c) + ":", mine[q], error)) die(error);
    }
  }

  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      const auto i = static_cast<std::size_t>(c);
      SplitMix64 rng(1000 + i);
      auto& lat = latencies[i];
      lat.reserve(1 << 16);
      while (!failed.load(std::memory_order_relaxed)) {
        const std::size_t q = picker.pick(rng());
        uint64_t n = 0;
        std::string error;
        const auto t0 = Clock::now();
        const bool ok = clients[i]->run(programs[i][q], n, error);
        const auto t1 = Clock::now();
        if (!ok || n != expected[q]) {
          std::lock_guard lock(error_mutex);
          if (first_error.empty()) {
            first_error = !ok ? error
                              : "COUNT MISMATCH: Redis under load counted " + std::to_string(n) + " for \"" +
                                    mix[q].text + "\", crowd " + std::to_string(expected[q]);
          }
          failed = true;
          return;
        }
        if (t1 > deadline) return;  // finished after the window: not counted
        ++done[i];
        lat.push_back(micros(t1 - t0));
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failed) die(first_error, first_error.rfind("COUNT MISMATCH", 0) == 0 ? 3 : 2);
  Throughput out;
  out.seconds = seconds;
  std::vector<double> all;
  for (std::size_t c = 0; c < done.size(); ++c) {
    out.queries += done[c];
    all.insert(all.end(), latencies[c].begin(), latencies[c].end());
  }
  out.qps = static_cast<double>(out.queries) / seconds;
  out.latency = percentiles(std::move(all));
  return out;
}

// The first "throughput_rps" anywhere in a crowd-bench result.
std::optional<double> find_throughput(const json& j) {
  if (j.is_object()) {
    if (auto it = j.find("throughput_rps"); it != j.end() && it->is_number()) return it->get<double>();
    for (const auto& [k, v] : j.items()) {
      if (auto found = find_throughput(v)) return found;
    }
  } else if (j.is_array()) {
    for (const auto& v : j) {
      if (auto found = find_throughput(v)) return found;
    }
  }
  return std::nullopt;
}

json percentiles_json(const Percentiles& p) {
  if (!p.present) return nullptr;
  return json{{"p50_us", p.p50}, {"p99_us", p.p99}, {"min_us", p.min}};
}

std::string cell(const Percentiles& p) {
  if (!p.present) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f/%.1f", p.p50, p.p99);
  return buf;
}

std::string ratio_cell(bool ok, double v, const char* fmt = "%.2f") {
  if (!ok) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

int run(const Args& args) {
  const auto mix = read_mix(args.mix);
  const auto view = build_population(args.users, args.seed);

  // Parse, compile and count every query the server's way: the expectation.
  std::vector<query::Ast> asts;
  std::vector<query::Plan> plans;
  std::vector<uint64_t> expected;
  query::Evaluator evaluator;  // the server's default path (thread_evaluator())
  // crowdd's union cache (server/main.cc), same budget: the in-process path
  // is the server's, hits included.
  std::unique_ptr<query::UnionCache> unions;
  if (args.union_cache_mb > 0) unions = std::make_unique<query::UnionCache>(args.union_cache_mb << 20);
  const query::Options options{false, unions.get()};
  for (const auto& q : mix) {
    auto compiled = query::compile(q.text, *view, options);
    if (auto* e = std::get_if<query::Error>(&compiled)) {
      die(args.mix + ":" + std::to_string(q.line) + ": crowd rejects the query (" +
          std::string(query::code_name(e->code)) + " at " + std::to_string(e->position) + ": " + e->message +
          "): " + q.text);
    }
    auto parsed = query::parse(q.text);
    if (auto* e = std::get_if<query::Error>(&parsed)) die("parse: " + e->message);
    plans.push_back(std::move(std::get<query::Plan>(compiled)));
    asts.push_back(std::move(std::get<query::Ast>(parsed)));
    expected.push_back(evaluator.count(plans.back(), *view));
  }

  // Redis: start, load every tag the mix reads plus the universe, check the
  // bit order on a few bits.
  std::unique_ptr<RedisClient> redis;
  std::string redis_version;
  double redis_load_seconds = 0;
  std::size_t redis_keys = 0;
  std::vector<RedisProgram> redis_programs(mix.size());
  if (!args.no_redis) {
    std::string error;
    g_redis = RedisServer::start(args.redis_server, args.redis_port, error);
    if (!g_redis) die("redis: " + error);
    redis = RedisClient::connect(g_redis->port(), error);
    if (!redis) die(error);
    long long n = 0;
    std::string info;
    if (!redis->command({"INFO", "server"}, REDIS_REPLY_STRING, n, info, error)) die(error);
    if (const auto at = info.find("redis_version:"); at != std::string::npos) {
      redis_version = info.substr(at + 14, info.find_first_of("\r\n", at) - at - 14);
    }
    std::fprintf(stderr, "crowd-baselines: redis-server %s (pid %d) on 127.0.0.1:%d\n", redis_version.c_str(),
                 static_cast<int>(g_redis->pid()), g_redis->port());

    std::set<TagId> tags;
    for (const auto& ast : asts) {
      if (!collect_tags(ast, view->dictionary(), tags, error)) die(error);
    }
    const auto t = Clock::now();
    const uint32_t bit_count = view->ordinal_count();
    std::string ignored;
    const auto load = [&](const std::string& key, const roaring_bitmap_t* bits, uint64_t cardinality) {
      if (!redis->command({"SET", key, redis_bitmap(bits, bit_count)}, REDIS_REPLY_STATUS, n, ignored, error)) {
        die("SET " + key + ": " + error);
      }
      if (!redis->command({"BITCOUNT", key}, REDIS_REPLY_INTEGER, n, ignored, error)) die(error);
      if (static_cast<uint64_t>(n) != cardinality) {
        mismatch("Redis BITCOUNT " + key + " = " + std::to_string(n) + ", the bitmap has " +
                 std::to_string(cardinality));
      }
      // Bit order: the smallest member must read back as GETBIT 1 there and
      // 0 just below it (Redis bit 0 is the MSB of byte 0).
      if (cardinality > 0) {
        const uint32_t first = roaring_bitmap_minimum(bits);
        if (!redis->command({"GETBIT", key, std::to_string(first)}, REDIS_REPLY_INTEGER, n, ignored, error)) die(error);
        if (n != 1) mismatch("Redis GETBIT " + key + " " + std::to_string(first) + " = " + std::to_string(n));
        if (first > 0) {
          if (!redis->command({"GETBIT", key, std::to_string(first - 1)}, REDIS_REPLY_INTEGER, n, ignored, error)) {
            die(error);
          }
          if (n != 0) mismatch("Redis GETBIT " + key + " " + std::to_string(first - 1) + " = " + std::to_string(n));
        }
      }
      ++redis_keys;
    };
    for (const TagId id : tags) load(view->dictionary().name(id), view->tag(id).bits.get(), view->tag(id).cardinality);
    load(kRedisUniverseKey, view->universe().bits.get(), view->universe().cardinality);
    redis_load_seconds = std::chrono::duration<double>(Clock::now() - t).count();
    std::fprintf(stderr, "crowd-baselines: redis: %zu keys of %u bytes SET in %.1f s\n", redis_keys,
                 (bit_count + 7) / 8, redis_load_seconds);
    for (std::size_t q = 0; q < asts.size(); ++q) {
      if (!compile_redis_program(asts[q], view->dictionary(), "\xfftmp:L:", redis_programs[q], error)) die(error);
    }
  }

  std::unique_ptr<CrowdHttp> crowd_http;
  if (!args.crowd_url.empty()) {
    crowd_http = std::make_unique<CrowdHttp>(args.crowd_url);
    const auto health = crowd_http->get_json("/healthz");
    if (health.is_discarded() || !health.contains("users")) die("crowd /healthz: unexpected answer");
    if (health["users"].get<uint64_t>() != view->universe().cardinality) {
      die("crowd at " + args.crowd_url + " has " + health["users"].dump() + " users, this population " +
          std::to_string(view->universe().cardinality) + ": start it with --demo " + std::to_string(args.users) +
          " --seed " + std::to_string(args.seed));
    }
  }

  // The loopback floor: a round trip that does no work, on the same
  // connections (Redis PING, crowd GET /healthz).
  Percentiles ping_redis, ping_crowd;
  {
    std::vector<Method> pings;
    if (redis) {
      pings.push_back({"Redis PING", [&] {
                         long long n = 0;
                         std::string pong, error;
                         if (!redis->command({"PING"}, REDIS_REPLY_STATUS, n, pong, error)) die(error);
                         return uint64_t{0};
                       }});
    }
    if (crowd_http) {
      pings.push_back({"crowd /healthz", [&] {
                         if (crowd_http->get_json("/healthz").is_discarded()) die("crowd /healthz: not JSON");
                         return uint64_t{0};
                       }});
    }
    if (!pings.empty()) {
      time_blocks(pings, 10, std::max(args.samples, 200), 4, 0);
      std::size_t k = 0;
      if (redis) ping_redis = percentiles(pings[k++].us);
      if (crowd_http) ping_crowd = percentiles(pings[k++].us);
    }
  }

  // Latency: per query, every method in blocks taking turns.
  const int blocks = std::min(4, args.samples);
  const int warmup = 5;  // per block
  std::vector<QueryResult> results;
  for (std::size_t q = 0; q < mix.size(); ++q) {
    QueryResult r;
    r.query = mix[q];
    r.count = expected[q];
    const std::string& text = mix[q].text;
    std::fprintf(stderr, "crowd-baselines: [%zu/%zu] %s\n", q + 1, mix.size(), text.c_str());

    std::vector<Method> methods;
    methods.push_back({"crowd in process", [&] {
                         auto compiled = query::compile(text, *view, options);
                         return evaluator.count(std::get<query::Plan>(compiled), *view);
                       }});
    for (const NaiveEnd end : {NaiveEnd::kCountLast, NaiveEnd::kMaterialize}) {
      std::string name = end == NaiveEnd::kCountLast ? "raw CRoaring" : "raw CRoaring (materialise)";
      methods.push_back({name, [&text, &view, end, name] {
                           auto parsed = query::parse(text);
                           uint64_t n = 0;
                           std::string error;
                           if (!naive_count(std::get<query::Ast>(parsed), *view, end, n, error))
                             die(name + ": " + error);
                           return n;
                         }});
    }
    std::vector<double> took;  // every HTTP sample's took_us, warm-up included
    const std::string target = "/v1/count?q=" + boost::urls::encode(text, boost::urls::unreserved_chars);
    if (crowd_http) {
      methods.push_back({"crowd over HTTP", [&] {
                           uint64_t n = 0;
                           double took_us = 0;
                           crowd_http->count(target, n, took_us);
                           took.push_back(took_us);
                           return n;
                         }});
    }
    if (redis) {
      r.redis_commands = redis_programs[q].commands.size();
      methods.push_back({"Redis", [&] {
                           uint64_t n = 0;
                           std::string error;
                           if (!redis->run(redis_programs[q], n, error)) die("redis: " + error);
                           return n;
                         }});
    }
    time_blocks(methods, warmup, args.samples, blocks, expected[q]);
    r.crowd = percentiles(methods[0].us);
    r.raw = percentiles(methods[1].us);
    r.raw_mat = percentiles(methods[2].us);
    std::size_t next = 3;
    if (crowd_http) {
      r.http_client = percentiles(methods[next++].us);
      // `took` has every call, warm-ups included: keep the timed ones.
      std::vector<double> timed;
      std::size_t at = 0;
      for (int b = 0; b < blocks; ++b) {
        const int n = args.samples / blocks + (b < args.samples % blocks ? 1 : 0);
        at += static_cast<std::size_t>(warmup);
        timed.insert(timed.end(), took.begin() + static_cast<std::ptrdiff_t>(at),
                     took.begin() + static_cast<std::ptrdiff_t>(at + static_cast<std::size_t>(n)));
        at += static_cast<std::size_t>(n);
      }
      r.http_took = percentiles(std::move(timed));
    }
    if (redis) r.redis = percentiles(methods[next++].us);
    results.push_back(std::move(r));
  }

  // Against the server's own tag list: a single-tag query's count is the
  // tag's cardinality in /v1/tags.
  int tags_checked = 0;
  if (crowd_http) {
    for (std::size_t q = 0; q < asts.size(); ++q) {
      if (asts[q].kind != query::AstKind::kTag) continue;
      const std::string& tag = asts[q].text;
      const auto page =
          crowd_http->get_json("/v1/tags?limit=1&prefix=" + boost::urls::encode(tag, boost::urls::unreserved_chars));
      if (page.is_discarded() || !page.contains("tags") || page["tags"].empty() || page["tags"][0]["tag"] != tag) {
        die("crowd /v1/tags does not list " + tag);
      }
      if (page["tags"][0]["count"].get<uint64_t>() != expected[q]) {
        mismatch("crowd /v1/tags says " + tag + " has " + page["tags"][0]["count"].dump() + " users, the count " +
                 std::to_string(expected[q]));
      }
      ++tags_checked;
    }
  }

  // Redis throughput with --redis-connections connections, and with one (a
  // single-threaded server can do better with fewer clients: less memory
  // churn in temporaries, no client threads competing for its core). The
  // ratio to crowd uses the better of the two, so it never flatters crowd.
  std::vector<std::pair<int, Throughput>> throughputs;
  if (redis) {
    std::vector<int> levels = {args.redis_connections};
    if (args.redis_connections != 1) levels.push_back(1);
    for (const int c : levels) {
      std::fprintf(stderr, "crowd-baselines: Redis throughput: %d connection%s, %.1f s\n", c, c == 1 ? "" : "s",
                   args.duration);
      throughputs.emplace_back(
          c, redis_throughput(g_redis->port(), c, args.duration, mix, asts, expected, view->dictionary()));
    }
  }
  const Throughput* best = nullptr;
  for (const auto& [c, t] : throughputs) {
    if (best == nullptr || t.qps > best->qps) best = &t;
  }
  std::optional<double> crowd_rps;
  if (!args.crowd_bench_json.empty()) {
    std::ifstream in(args.crowd_bench_json);
    const auto j = json::parse(in, nullptr, false);
    if (j.is_discarded()) die("cannot read JSON from " + args.crowd_bench_json);
    crowd_rps = find_throughput(j);
    if (!crowd_rps) die(args.crowd_bench_json + " has no \"throughput_rps\"");
  }

  // ---- Report ----
  std::printf(
      "crowd baselines: %llu users, seed %llu, mix %s, %d samples per query and method "
      "(%d blocks taking turns, %d warm-up calls each)\n",
      static_cast<unsigned long long>(args.users), static_cast<unsigned long long>(args.seed), args.mix.c_str(),
      args.samples, blocks, warmup);
  std::printf("  crowd     = query::compile + Evaluator::count in this process (no HTTP), union cache %llu MB\n",
              static_cast<unsigned long long>(args.union_cache_mb));
  std::printf("  raw       = crowd's parser + plain CRoaring ops in source order, last op *_cardinality\n");
  std::printf("  raw-mat   = the same walker materialising the root, then roaring_bitmap_get_cardinality\n");
  std::printf(
      "  http      = GET /v1/count on one keep-alive connection to %s (client round trip); took = server took_us\n",
      args.crowd_url.empty() ? "(no --crowd-url)" : args.crowd_url.c_str());
  std::printf("  redis     = %s: pipelined BITOP AND/OR/NOT into temp keys + BITCOUNT, one connection\n",
              redis ? ("Redis " + redis_version).c_str() : "(no redis)");
  std::printf("\nqueries:\n");
  for (std::size_t q = 0; q < results.size(); ++q) {
    std::printf("  q%-2zu w=%-5g %s\n", q + 1, results[q].query.weight, results[q].query.text.c_str());
  }
  std::printf("\nlatency, microseconds, p50/p99:\n");
  std::printf("%-4s %10s %15s %15s %17s %15s %8s %17s\n", "", "count", "crowd", "raw", "raw-mat", "http", "took",
              "redis");
  for (std::size_t q = 0; q < results.size(); ++q) {
    const auto& r = results[q];
    std::printf("q%-3zu %10llu %15s %15s %17s %15s %8s %17s\n", q + 1, static_cast<unsigned long long>(r.count),
                cell(r.crowd).c_str(), cell(r.raw).c_str(), cell(r.raw_mat).c_str(), cell(r.http_client).c_str(),
                r.http_took.present ? ratio_cell(true, r.http_took.p50, "%.0f").c_str() : "-", cell(r.redis).c_str());
  }
  std::printf("\nloopback round trip doing no work, p50/p99 us: Redis PING %s, crowd GET /healthz %s\n",
              cell(ping_redis).c_str(), cell(ping_crowd).c_str());
  std::printf("\nratios at p50 (x = times crowd's time; >1 means crowd is faster):\n");
  std::printf("%-4s %10s %12s %12s %11s %14s %13s %13s %12s\n", "", "raw/crowd", "rawmat/crowd", "redis/crowd",
              "redis/http", "http-crowd us", "http-took us", "took-crowd us", "http p99 us");
  json jq = json::array();
  double worst_overhead = 0;
  double worst_http_p99 = 0;
  for (std::size_t q = 0; q < results.size(); ++q) {
    const auto& r = results[q];
    const bool h = r.http_client.present;
    const bool rd = r.redis.present;
    const double overhead = h ? r.http_client.p50 - r.crowd.p50 : 0;
    if (h) {
      worst_overhead = std::max(worst_overhead, overhead);
      worst_http_p99 = std::max(worst_http_p99, r.http_client.p99);
    }
    std::printf(
        "q%-3zu %10s %12s %12s %11s %14s %13s %13s %12s\n", q + 1, ratio_cell(true, r.raw.p50 / r.crowd.p50).c_str(),
        ratio_cell(true, r.raw_mat.p50 / r.crowd.p50).c_str(),
        ratio_cell(rd, r.redis.p50 / r.crowd.p50, "%.1f").c_str(),
        ratio_cell(rd && h, r.redis.p50 / r.http_client.p50, "%.1f").c_str(), ratio_cell(h, overhead, "%.1f").c_str(),
        ratio_cell(h, r.http_client.p50 - r.http_took.p50, "%.1f").c_str(),
        ratio_cell(h, r.http_took.p50 - r.crowd.p50, "%.1f").c_str(), ratio_cell(h, r.http_client.p99, "%.0f").c_str());
    json ratios = {{"raw_over_crowd", r.raw.p50 / r.crowd.p50},
                   {"raw_materialize_over_crowd", r.raw_mat.p50 / r.crowd.p50}};
    if (rd) ratios["redis_over_crowd_inprocess"] = r.redis.p50 / r.crowd.p50;
    if (rd && h) ratios["redis_over_crowd_http"] = r.redis.p50 / r.http_client.p50;
    if (h) {
      ratios["http_overhead_p50_us"] = overhead;
      ratios["http_client_minus_took_p50_us"] = r.http_client.p50 - r.http_took.p50;
      ratios["took_minus_crowd_inprocess_p50_us"] = r.http_took.p50 - r.crowd.p50;
    }
    json counts = {{"crowd_inprocess", r.count}, {"raw_croaring", r.count}, {"raw_croaring_materialize", r.count}};
    if (h) counts["crowd_http"] = r.count;
    if (rd) counts["redis"] = r.count;
    jq.push_back({{"query", r.query.text},
                  {"weight", r.query.weight},
                  {"count", r.count},
                  {"counts", counts},
                  {"crowd_inprocess", percentiles_json(r.crowd)},
                  {"raw_croaring", percentiles_json(r.raw)},
                  {"raw_croaring_materialize", percentiles_json(r.raw_mat)},
                  {"crowd_http_client", percentiles_json(r.http_client)},
                  {"crowd_http_took_us", percentiles_json(r.http_took)},
                  {"redis", percentiles_json(r.redis)},
                  {"redis_commands", r.redis_commands},
                  {"ratios", ratios}});
  }
  if (crowd_http) {
    std::printf(
        "\ntargets (one keep-alive connection): HTTP p99 <= 1000 us: worst %.0f us %s; "
        "HTTP overhead over in-process at p50 <= 30 us: worst %.1f us %s\n",
        worst_http_p99, worst_http_p99 <= 1000 ? "PASS" : "FAIL", worst_overhead,
        worst_overhead <= 30 ? "PASS" : "FAIL");
  }
  json jt = json::object();
  if (!throughputs.empty()) std::printf("\nRedis throughput, weighted mix, %.1f s each:\n", args.duration);
  json jredis = json::array();
  for (const auto& [c, t] : throughputs) {
    std::printf(
        "  %2d connection%s (one thread each): %7.0f queries/s (%llu queries; latency under load p50 %.0f us, "
        "p99 %.0f us)\n",
        c, c == 1 ? " " : "s", t.qps, static_cast<unsigned long long>(t.queries), t.latency.p50, t.latency.p99);
    jredis.push_back({{"connections", c},
                      {"qps", t.qps},
                      {"queries", t.queries},
                      {"seconds", t.seconds},
                      {"latency_under_load", percentiles_json(t.latency)}});
  }
  if (best != nullptr) {
    jt = {{"redis_qps", best->qps}, {"redis", jredis}};
    std::printf("  Redis throughput for ratios (the better of the above): %.0f queries/s\n", best->qps);
  }
  if (crowd_rps) {
    jt["crowd_rps"] = *crowd_rps;
    std::printf("crowd throughput (from %s): %.0f requests/s", args.crowd_bench_json.c_str(), *crowd_rps);
    if (best != nullptr && best->qps > 0) {
      jt["crowd_over_redis"] = *crowd_rps / best->qps;
      std::printf(" = %.1fx Redis (target >= 10x): %s", *crowd_rps / best->qps,
                  *crowd_rps / best->qps >= 10 ? "PASS" : "FAIL");
    }
    std::printf("\n");
  }
  std::printf(
      "\nall counts equal across methods: yes (%zu queries, every sample checked; %d single-tag counts equal "
      "crowd's /v1/tags)\n",
      results.size(), tags_checked);

  if (!args.json_path.empty()) {
    json out = {{"users", args.users},
                {"seed", args.seed},
                {"mix", args.mix},
                {"samples", args.samples},
                {"warmup_per_block", warmup},
                {"blocks", blocks},
                {"union_cache_mb", args.union_cache_mb},
                {"universe", view->universe().cardinality},
                {"queries", jq},
                {"round_trip_no_work",
                 {{"redis_ping", percentiles_json(ping_redis)}, {"crowd_healthz", percentiles_json(ping_crowd)}}},
                {"throughput", jt},
                {"counts_equal", true},
                {"tags_checked_against_v1_tags", tags_checked}};
    if (redis) {
      out["redis"] = {{"version", redis_version}, {"keys", redis_keys}, {"load_seconds", redis_load_seconds}};
    }
    if (crowd_http) out["crowd_url"] = args.crowd_url;
    if (crowd_http) {
      out["targets"] = {{"http_p99_worst_us", worst_http_p99}, {"http_overhead_p50_worst_us", worst_overhead}};
    }
    std::ofstream f(args.json_path);
    f << out.dump(2) << "\n";
    if (!f) die("cannot write " + args.json_path);
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace
}  // namespace crowd::bench

int main(int argc, char** argv) {
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, crowd::bench::on_signal);
  const auto args = crowd::bench::parse_args(argc, argv);
  const int code = crowd::bench::run(args);
  crowd::bench::g_redis.reset();
  return code;
}
