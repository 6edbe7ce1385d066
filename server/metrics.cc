#include "server/metrics.h"

#include <algorithm>
#include <cstdio>

#include "server/route.h"

namespace crowd::server {

Metrics::Metrics(std::size_t inflight_body_budget, std::size_t queued_reply_budget)
    : route_count_(route_labels().size()),
      routes_(std::make_unique<PerRoute[]>(route_labels().size())),
      inflight_bodies_(inflight_body_budget),
      queued_replies_(queued_reply_budget) {}

std::size_t Metrics::status_slot(unsigned status) {
  const auto it = std::find(kStatuses.begin(), kStatuses.end() - 1, status);
  return static_cast<std::size_t>(it - kStatuses.begin());  // the last slot (0) is "other"
}

void Metrics::record(std::size_t slot, unsigned status, uint64_t micros) {
  auto& r = routes_[std::min(slot, route_count_ - 1)];
  r.by_status[status_slot(status)].fetch_add(1, std::memory_order_relaxed);
  const auto bucket = std::lower_bound(kBucketsMicros.begin(), kBucketsMicros.end(), micros) - kBucketsMicros.begin();
  r.buckets[static_cast<std::size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
  r.sum_micros.fetch_add(micros, std::memory_order_relaxed);
}

std::string Metrics::render(const IndexView* index, uint64_t wal_bytes) const {
  std::string out;
  out.reserve(16384);
  char line[256];
  auto emit = [&](const char* fmt, auto... args) {
    const int n = std::snprintf(line, sizeof line, fmt, args...);
    out.append(line, static_cast<std::size_t>(std::min<int>(n, sizeof line - 1)));
  };

  out += "# HELP crowd_requests_total HTTP requests by route and status (status=\"other\" for the rest).\n";
  out += "# TYPE crowd_requests_total counter\n";
  for (std::size_t i = 0; i < route_count_; ++i) {
    for (std::size_t s = 0; s < kStatuses.size(); ++s) {
      const auto n = routes_[i].by_status[s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      const std::string label(route_labels()[i]);
      const char* name = label.c_str();
      if (kStatuses[s] == 0) {
        emit("crowd_requests_total{route=\"%s\",status=\"other\"} %llu\n", name, static_cast<unsigned long long>(n));
      } else {
        emit("crowd_requests_total{route=\"%s\",status=\"%u\"} %llu\n", name, kStatuses[s],
             static_cast<unsigned long long>(n));
      }
    }
  }

  out += "# HELP crowd_request_duration_seconds Server-side request latency by route.\n";
  out += "# TYPE crowd_request_duration_seconds histogram\n";
  for (std::size_t i = 0; i < route_count_; ++i) {
    const std::string label(route_labels()[i]);
    const char* name = label.c_str();
    uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= kBucketsMicros.size(); ++b) {
      cumulative += routes_[i].buckets[b].load(std::memory_order_relaxed);
      if (b < kBucketsMicros.size()) {
        emit("crowd_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", name,
             static_cast<double>(kBucketsMicros[b]) / 1e6, static_cast<unsigned long long>(cumulative));
      } else {
        emit("crowd_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", name,
             static_cast<unsigned long long>(cumulative));
      }
    }
    emit("crowd_request_duration_seconds_sum{route=\"%s\"} %.6f\n", name,
         static_cast<double>(routes_[i].sum_micros.load(std::memory_order_relaxed)) / 1e6);
    emit("crowd_request_duration_seconds_count{route=\"%s\"} %llu\n", name, static_cast<unsigned long long>(cumulative));
  }

  if (index != nullptr) {
    const IndexView& view = *index;
    out += "# HELP crowd_users Users in the universe.\n# TYPE crowd_users gauge\n";
    emit("crowd_users %llu\n", static_cast<unsigned long long>(view.universe().cardinality));
    out += "# HELP crowd_ordinals User ordinals handed out (deleted users keep theirs).\n# TYPE crowd_ordinals gauge\n";
    emit("crowd_ordinals %u\n", view.ordinal_count());
    out += "# HELP crowd_tags Tags in the dictionary.\n# TYPE crowd_tags gauge\n";
    emit("crowd_tags %zu\n", view.dictionary().user_tag_count());
    out += "# HELP crowd_bitmap_bytes Serialized size of all tag bitmaps.\n# TYPE crowd_bitmap_bytes gauge\n";
    emit("crowd_bitmap_bytes %llu\n", static_cast<unsigned long long>(view.bitmap_bytes()));
    out += "# HELP crowd_wal_bytes Bytes in live write-ahead log segments.\n# TYPE crowd_wal_bytes gauge\n";
    emit("crowd_wal_bytes %llu\n", static_cast<unsigned long long>(wal_bytes));
    out += "# HELP crowd_index_version Writes published since start.\n# TYPE crowd_index_version counter\n";
    emit("crowd_index_version %llu\n", static_cast<unsigned long long>(view.version()));
  }
  out += "# HELP crowd_open_connections Open HTTP connections.\n# TYPE crowd_open_connections gauge\n";
  emit("crowd_open_connections %lld\n", static_cast<long long>(connections_.load(std::memory_order_relaxed)));
  const auto budget = [&](const char* name, const char* what, const ByteBudget& b) {
    emit("# HELP crowd_%s_bytes %s.\n# TYPE crowd_%s_bytes gauge\n", name, what, name);
    emit("crowd_%s_bytes %llu\n", name, static_cast<unsigned long long>(b.held()));
    emit("# HELP crowd_%s_limit_bytes The budget of crowd_%s_bytes.\n# TYPE crowd_%s_limit_bytes gauge\n", name, name,
         name);
    emit("crowd_%s_limit_bytes %llu\n", name, static_cast<unsigned long long>(b.limit()));
    emit(
        "# HELP crowd_%s_refusals_total Requests answered 503 because the budget was spent.\n"
        "# TYPE crowd_%s_refusals_total counter\n",
        name, name);
    emit("crowd_%s_refusals_total %llu\n", name, static_cast<unsigned long long>(b.refusals()));
  };
  budget("inflight_body", "Request bodies being read or waiting to be served", inflight_bodies_);
  budget("queued_reply", "Reply bytes made and not yet taken by their readers", queued_replies_);
  return out;
}

}  // namespace crowd::server
