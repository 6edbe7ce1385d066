#include "bench/load_report.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <utility>
#include <vector>

namespace crowd::bench {
namespace {

// Percentiles in the order and under the names both reports use.
const std::vector<std::pair<const char*, double>> kPercentiles = {
    {"p50", 50.0}, {"p90", 90.0}, {"p99", 99.0}, {"p999", 99.9}};

// Nanoseconds to microseconds, kept to 0.1 µs: a loopback round trip is tens
// of µs and its jitter several, so further digits would be noise.
double to_us(double ns) { return std::round(ns / 100.0) / 10.0; }

// printf into the end of `out`: the report is a handful of formatted lines.
[[gnu::format(printf, 2, 3)]] void appendf(std::string& out, const char* format, ...) {
  char buf[512];
  va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  if (n > 0) out.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
}

unsigned long long ull(uint64_t v) { return static_cast<unsigned long long>(v); }

}  // namespace

std::string format_report(const LoadResult& r) {
  std::string out;
  appendf(out, "crowd-bench: %s loop, %u connection%s, %u thread%s", r.open_loop ? "open" : "closed", r.connections,
          r.connections == 1 ? "" : "s", r.threads, r.threads == 1 ? "" : "s");
  if (r.rate) appendf(out, ", rate %.1f req/s", *r.rate);
  out += "\n  target      ";
  out += r.url;
  out += "  mix ";
  out += r.mix;
  appendf(out, "\n  requests    %llu in %.2f s = %.1f req/s\n", ull(r.requests), r.duration_s, r.throughput_rps());
  appendf(out, "  errors      %llu (connection %llu, timeout %llu, non-2xx %llu)\n", ull(r.errors()),
          ull(r.connection_errors), ull(r.timeouts), ull(r.non_2xx));
  out += "  status     ";
  if (r.status.empty()) out += " none";
  for (const auto& [code, n] : r.status) appendf(out, " %d:%llu", code, ull(n));
  out += "\n";
  const auto& h = r.latency_ns;
  if (h.empty()) {
    out += "  latency     no responses\n";
  } else {
    out += "  latency µs ";
    for (const auto& [name, p] : kPercentiles) {
      appendf(out, " %s %.1f", p == 99.9 ? "p99.9" : name, to_us(static_cast<double>(h.percentile(p))));
    }
    appendf(out, "  max %.1f  mean %.1f\n", to_us(static_cast<double>(h.max())), to_us(h.mean()));
  }
  if (r.open_loop) {
    appendf(out,
            "  behind schedule %llu of %llu (%llu queued for a free connection, %llu dispatched late by the client)\n",
            ull(r.behind_schedule), ull(r.requests), ull(r.queued), ull(r.late_dispatch));
    const auto& d = r.send_delay_ns;
    if (!d.empty()) {
      appendf(out, "  send delay µs p50 %.1f p99 %.1f  max %.1f (due time to write; included in latency)\n",
              to_us(static_cast<double>(d.percentile(50))), to_us(static_cast<double>(d.percentile(99))),
              to_us(static_cast<double>(d.max())));
    }
  }
  return out;
}

nlohmann::ordered_json report_json(const LoadResult& r) {
  using json = nlohmann::ordered_json;
  json j;
  j["mode"] = r.open_loop ? "open" : "closed";
  j["connections"] = r.connections;
  j["threads"] = r.threads;
  j["rate"] = r.rate ? json(*r.rate) : json(nullptr);
  j["requests"] = r.requests;
  j["errors"] = r.errors();
  j["connection_errors"] = r.connection_errors;
  j["timeouts"] = r.timeouts;
  j["non_2xx"] = r.non_2xx;
  json status = json::object();
  for (const auto& [code, n] : r.status) status[std::to_string(code)] = n;
  j["status"] = status;
  j["duration_s"] = r.duration_s;
  j["throughput_rps"] = r.throughput_rps();
  json latency = json::object();
  const auto& h = r.latency_ns;
  auto us = [&](double ns) { return h.empty() ? json(nullptr) : json(to_us(ns)); };
  for (const auto& [name, p] : kPercentiles) latency[name] = us(static_cast<double>(h.percentile(p)));
  latency["max"] = us(static_cast<double>(h.max()));
  latency["mean"] = us(h.mean());
  latency["min"] = us(static_cast<double>(h.min()));
  j["latency_us"] = latency;
  j["behind_schedule"] = r.behind_schedule;
  j["queued"] = r.queued;
  j["late_dispatch"] = r.late_dispatch;
  const auto& d = r.send_delay_ns;
  auto delay = [&](double ns) { return d.empty() ? json(nullptr) : json(to_us(ns)); };
  j["send_delay_us"] = {{"p50", delay(static_cast<double>(d.percentile(50)))},
                        {"p99", delay(static_cast<double>(d.percentile(99)))},
                        {"max", delay(static_cast<double>(d.max()))}};
  j["url"] = r.url;
  j["mix"] = r.mix;
  return j;
}

}  // namespace crowd::bench
