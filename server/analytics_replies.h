// The answers of the analytics routes (insight, overlap, flow, funnel),
// written from their numbers alone. A crowdd writes them from its own
// counts; a cluster router from the sums of its shards' counts -- one
// writer each, so both answer byte for byte alike, privacy floors included.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "index/ids.h"
#include "query/crowd_sets.h"
#include "query/attribute.h"
#include "query/insight.h"

namespace crowd::server {

// What every analytics answer ends with, and the privacy floor.
struct AnalyticsTail {
  uint64_t total = 0;  // the universe's size (insight: its report's)
  const std::vector<std::string>* warnings = nullptr;
  uint64_t took_us = 0;
  // --min-export-size: counts below it are "<K" and the ratios that would
  // give them away null (docs/security.md). 0: off.
  uint64_t floor = 0;
};

[[nodiscard]] std::string overlap_body(std::span<const std::string> names, const query::OverlapReport& report,
                                       const AnalyticsTail& tail);
[[nodiscard]] std::string flow_body(std::span<const std::string> from, std::span<const std::string> to,
                                    const query::FlowReport& report, const AnalyticsTail& tail);
[[nodiscard]] std::string funnel_body(std::span<const uint64_t> counts, const AnalyticsTail& tail);
// `name_of`: a row's tag name.
[[nodiscard]] std::string insight_body(const query::InsightReport& report,
                                       const std::function<std::string_view(TagId)>& name_of,
                                       const AnalyticsTail& tail);

// /v1/stats: with fewer values than the floor, the count is "<K" and every
// statistic null (a min or max of a few is someone's value); tail.total and
// tail.warnings are not used.
[[nodiscard]] std::string stats_body(std::string_view attr, const query::AttributeStats& stats, uint64_t crowd,
                                     const AnalyticsTail& tail);

}  // namespace crowd::server
