// Metrics: request counters by route and status, latency histograms by route,
// rendered in the Prometheus text format. Recording is a few relaxed atomic
// increments; no lock. Routes are the route table's patterns (route.h:
// route_labels(), route_slot()), and "other" for requests no row matched.
//
// It also keeps the two memory budgets the sessions share (byte_budget.h):
// request bodies being read (--max-inflight-body-mb) and reply bytes
// waiting for slow readers (--max-queued-reply-mb), so that /metrics shows
// what they hold.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "index/index_view.h"
#include "server/byte_budget.h"

namespace crowd::server {

class Metrics {
 public:
  // Budgets in bytes; the defaults leave them unbounded (in-process tests).
  explicit Metrics(std::size_t inflight_body_budget = SIZE_MAX, std::size_t queued_reply_budget = SIZE_MAX);
  // `slot`: route_slot() of the request's route.
  void record(std::size_t slot, unsigned status, uint64_t micros);
  void connection_opened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void connection_closed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  // Bytes of request bodies being read or held until their reply is made.
  [[nodiscard]] ByteBudget& inflight_bodies() { return inflight_bodies_; }
  // Bytes of replies made but not yet taken by their readers.
  [[nodiscard]] ByteBudget& queued_replies() { return queued_replies_; }

  // The whole exposition. O(routes × buckets). `view` null (a cluster
  // router, which holds no index): the HTTP metrics alone.
  [[nodiscard]] std::string render(const IndexView* view, uint64_t wal_bytes) const;

  // Upper bounds of the latency buckets in microseconds (the last is +Inf).
  static constexpr std::array<uint64_t, 17> kBucketsMicros = {50,     100,    250,     500,     1000,    2500,
                                                              5000,   10000,  25000,   50000,   100000,  250000,
                                                              500000, 1000000, 2500000, 5000000, 10000000};

 private:
  static constexpr std::array<unsigned, 12> kStatuses = {200, 400, 401, 403, 404, 405, 413, 415, 429, 500, 503, 0};
  static std::size_t status_slot(unsigned status);

  struct PerRoute {
    std::array<std::atomic<uint64_t>, kStatuses.size()> by_status{};
    std::array<std::atomic<uint64_t>, kBucketsMicros.size() + 1> buckets{};  // non-cumulative; last is +Inf
    std::atomic<uint64_t> sum_micros{0};
  };
  std::size_t route_count_;
  std::unique_ptr<PerRoute[]> routes_;  // by slot
  std::atomic<int64_t> connections_{0};
  ByteBudget inflight_bodies_;
  ByteBudget queued_replies_;
};

}  // namespace crowd::server
