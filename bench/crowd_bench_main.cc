// crowd-bench: the load tool. Replays a weighted query mix against a running
// server over keep-alive HTTP/1.1 connections, closed loop at a concurrency
// or open loop at an arrival rate, and reports throughput, errors and latency
// percentiles. See docs/benchmarks.md.
#include <boost/url/parse.hpp>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "bench/load_report.h"
#include "bench/load_runner.h"
#include "bench/query_mix.h"

namespace {

using namespace crowd::bench;

constexpr std::string_view kUsage =
    R"(usage: crowd-bench --url http://HOST:PORT --mix FILE [--connections C] [--threads T]
                   [--duration SECONDS | --requests N] [--rate R] [--warmup SECONDS]
                   [--seed S] [--json FILE|-] [--timeout-ms MS]

Replays the weighted requests of a mix file against a running server over
keep-alive connections and reports throughput, errors and latency
percentiles (docs/benchmarks.md describes the mix format and the report).

  --url URL          the server, http://HOST:PORT (no path)
  --mix FILE         the mix file: lines WEIGHT count|ids|get ARG
  --connections C    keep-alive connections (default 1)
  --threads T        client I/O threads (default 1, at most C used)
  --duration S       measure for S seconds after the warm-up (default 10)
  --requests N       or: measure exactly N requests after the warm-up
  --rate R           open loop: R requests/s in total, due at fixed
                     intervals, latency counted from the due time; without
                     it, closed loop: each connection sends its next request
                     when the previous answer arrives
  --warmup S         seconds of unrecorded requests first (default 1)
  --seed S           seed of the weighted choice (default 1)
  --json FILE        also write the report as JSON to FILE (- for standard
                     output; the text report then goes to standard error)
  --timeout-ms MS    a request not answered within MS counts as a timeout
                     error and its connection is reopened (default 10000)
  --help             this text

Exit status: 0 the run completed (read the report for errors), 1 the server
could not be reached or answered nothing, 2 bad command line or mix file.
)";

struct Options {
  std::string url;
  std::string mix;
  LoadPlan plan;
  std::optional<std::string> json;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "crowd-bench: %s (see --help)\n", message.c_str());
  std::exit(2);
}

template <class T>
T number(std::string_view flag, std::string_view text) {
  T value{};
  const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size()) {
    usage_error(std::string(flag) + " needs a number, not '" + std::string(text) + "'");
  }
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(value)) usage_error(std::string(flag) + " must be finite");
  }
  return value;
}

// Splits --url into what to connect to and the Host header.
void parse_url(Options& o) {
  const auto u = boost::urls::parse_uri(o.url);
  if (!u) usage_error("--url '" + o.url + "' is not a URL: " + u.error().message());
  if (u->scheme() != "http") usage_error("--url must be http:// (no TLS)");
  if (u->host_address().empty()) usage_error("--url has no host");
  if (!u->encoded_path().empty() && u->encoded_path() != "/") {
    usage_error("--url takes no path; the mix file's lines name the targets");
  }
  o.plan.host = std::string(u->host_address());
  o.plan.port = u->port().empty() ? "80" : std::string(u->port());  // "http://h:" too
  o.plan.host_header = std::string(u->encoded_host_and_port());
}

Options parse_options(int argc, char** argv) {
  Options o;
  auto value = [&](int& i) -> std::string_view {
    if (i + 1 >= argc) usage_error(std::string(argv[i]) + " needs a value");
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      std::exit(0);
    } else if (flag == "--url") {
      o.url = value(i);
    } else if (flag == "--mix") {
      o.mix = value(i);
    } else if (flag == "--connections") {
      o.plan.connections = number<unsigned>(flag, value(i));
      if (o.plan.connections < 1 || o.plan.connections > 100'000) usage_error("--connections must be 1..100000");
    } else if (flag == "--threads") {
      o.plan.threads = number<unsigned>(flag, value(i));
      if (o.plan.threads < 1 || o.plan.threads > 1024) usage_error("--threads must be 1..1024");
    } else if (flag == "--duration") {
      o.plan.duration_s = number<double>(flag, value(i));
      if (*o.plan.duration_s <= 0) usage_error("--duration must be positive");
    } else if (flag == "--requests") {
      o.plan.requests = number<uint64_t>(flag, value(i));
      if (*o.plan.requests == 0) usage_error("--requests must be at least 1");
    } else if (flag == "--rate") {
      o.plan.rate = number<double>(flag, value(i));
      if (*o.plan.rate <= 0) usage_error("--rate must be positive");
    } else if (flag == "--warmup") {
      o.plan.warmup_s = number<double>(flag, value(i));
      if (o.plan.warmup_s < 0) usage_error("--warmup must not be negative");
    } else if (flag == "--seed") {
      o.plan.seed = number<uint64_t>(flag, value(i));
    } else if (flag == "--json") {
      o.json = std::string(value(i));
    } else if (flag == "--timeout-ms") {
      const auto ms = number<int64_t>(flag, value(i));
      if (ms < 1) usage_error("--timeout-ms must be at least 1");
      o.plan.timeout = std::chrono::milliseconds(ms);
    } else {
      usage_error("unknown argument '" + std::string(flag) + "'");
    }
  }
  if (o.url.empty()) usage_error("--url is required");
  if (o.mix.empty()) usage_error("--mix is required");
  if (o.plan.duration_s && o.plan.requests) usage_error("--duration and --requests exclude each other");
  if (!o.plan.duration_s && !o.plan.requests) o.plan.duration_s = 10;
  parse_url(o);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  std::string error;
  const auto mix = load_mix(o.mix, error);
  if (!mix) {
    std::fprintf(stderr, "crowd-bench: %s\n", error.c_str());
    return 2;
  }

  auto result = run_load(o.plan, *mix, error);
  if (!result) {
    std::fprintf(stderr, "crowd-bench: %s\n", error.c_str());
    return 1;
  }
  result->url = o.url;
  result->mix = o.mix;

  const bool json_to_stdout = o.json && *o.json == "-";
  (json_to_stdout ? std::cerr : std::cout) << format_report(*result) << std::flush;
  if (o.json) {
    const auto doc = report_json(*result).dump(2) + "\n";
    if (json_to_stdout) {
      std::cout << doc << std::flush;
    } else {
      std::ofstream out(*o.json);
      out << doc;
      if (!out.flush()) {
        std::fprintf(stderr, "crowd-bench: cannot write %s\n", o.json->c_str());
        return 1;
      }
    }
  }
  if (result->requests > 0 && result->status.empty()) {
    std::fprintf(stderr, "crowd-bench: the server answered none of %llu requests\n",
                 static_cast<unsigned long long>(result->requests));
    return 1;
  }
  return 0;
}
