#include "server/analytics_replies.h"

#include "server/analytics_request.h"
#include "server/json_writer.h"
#include "server/query_support.h"

namespace crowd::server {
namespace {

void write_tail(JsonWriter& w, const AnalyticsTail& tail) {
  if (tail.warnings != nullptr) write_warnings(w, *tail.warnings);
  w.raw(",").key("took_us").number(tail.took_us).raw("}");
}

void write_layers(JsonWriter& w, std::span<const std::string> names, const std::vector<uint64_t>& sizes,
                  std::string_view margin_name, const std::vector<uint64_t>& margin, uint64_t k) {
  w.raw("[");
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) w.raw(",");
    w.raw("{").key("name").string(names[i]).raw(",").key("count");
    write_cell(w, sizes[i], k);
    w.raw(",").key(margin_name);
    write_cell(w, margin[i], k);
    w.raw("}");
  }
  w.raw("]");
}

// The exact sum: a number within int64, decimal digits in a string beyond.
void write_sum(JsonWriter& w, query::Int128 sum) {
  if (sum >= INT64_MIN && sum <= INT64_MAX) {
    w.signed_number(static_cast<int64_t>(sum));
    return;
  }
  __extension__ using Uint128 = unsigned __int128;
  Uint128 magnitude = sum < 0 ? Uint128(0) - static_cast<Uint128>(sum) : static_cast<Uint128>(sum);
  char digits[48];
  char* p = digits + sizeof digits;
  for (; magnitude != 0; magnitude /= 10) *--p = static_cast<char>('0' + static_cast<int>(magnitude % 10));
  if (sum < 0) *--p = '-';
  w.raw("\"").raw(std::string_view(p, static_cast<std::size_t>(digits + sizeof digits - p))).raw("\"");
}

}  // namespace

std::string stats_body(std::string_view attr, const query::AttributeStats& stats, uint64_t crowd,
                       const AnalyticsTail& tail) {
  std::string body;
  body.reserve(256 + attr.size());
  JsonWriter w(body);
  w.raw("{").key("attr").string(attr);
  const uint64_t k = tail.floor;
  const bool any = stats.count != 0 && !hidden(stats.count, k);
  w.raw(",").key("count");
  write_cell(w, stats.count, k);
  w.raw(",").key("sum");
  // A sum of 0 would tell that a hidden count is 0: only a shown count has one.
  if (!hidden(stats.count, k)) {
    write_sum(w, stats.sum);
  } else {
    w.null();
  }
  const auto value = [&](std::string_view key, int64_t v) {
    w.raw(",").key(key);
    if (any) {
      w.signed_number(v);
    } else {
      w.null();
    }
  };
  value("min", stats.min);
  value("max", stats.max);
  w.raw(",").key("mean");
  if (any) {
    w.real(stats.mean);
  } else {
    w.null();
  }
  value("p50", stats.p50);
  value("p90", stats.p90);
  value("p99", stats.p99);
  w.raw(",").key("crowd");
  write_cell(w, crowd, k);
  w.raw(",").key("took_us").number(tail.took_us).raw("}");
  return body;
}

std::string overlap_body(std::span<const std::string> names, const query::OverlapReport& report,
                         const AnalyticsTail& tail) {
  const std::size_t n = names.size();
  const uint64_t k = tail.floor;
  std::string body;
  body.reserve(256 + n * n * 96 + report.regions.size() * 96);
  JsonWriter w(body);
  w.raw("{\"crowds\":[");
  for (std::size_t i = 0; i < n; ++i) {
    if (i) w.raw(",");
    w.raw("{").key("name").string(names[i]).raw(",").key("count");
    write_cell(w, report.sizes[i], k);
    w.raw("}");
  }
  w.raw("],\"pairs\":[");
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      const uint64_t both = report.intersections[query::pair_index(i, j, n)];
      const uint64_t either = report.sizes[i] + report.sizes[j] - both;
      if (i != 0 || j != 1) w.raw(",");
      w.raw("{").key("a").string(names[i]).raw(",").key("b").string(names[j]);
      w.raw(",").key("intersection");
      write_cell(w, both, k);
      w.raw(",").key("union");
      write_cell(w, either, k);
      w.raw(",").key("jaccard");
      write_ratio(w, hidden(both, k) || hidden(either, k) ? std::nullopt : ratio(both, either));
      w.raw("}");
    }
  }
  w.raw("],").key("union");
  write_cell(w, report.union_size, k);
  w.raw(",").key("regions");
  if (report.regions.empty()) {
    w.null();
  } else {
    w.raw("[");
    for (std::size_t m = 1; m <= report.regions.size(); ++m) {
      if (m > 1) w.raw(",");
      w.raw("{\"crowds\":[");
      bool first = true;
      for (std::size_t i = 0; i < n; ++i) {
        if ((m & (std::size_t{1} << i)) == 0) continue;
        if (!first) w.raw(",");
        first = false;
        w.string(names[i]);
      }
      w.raw("],").key("count");
      write_cell(w, report.regions[m - 1], k);
      w.raw("}");
    }
    w.raw("]");
  }
  w.raw(",").key("total");
  write_cell(w, tail.total, k);
  write_tail(w, tail);
  return body;
}

std::string flow_body(std::span<const std::string> from, std::span<const std::string> to,
                      const query::FlowReport& report, const AnalyticsTail& tail) {
  const uint64_t k = tail.floor;
  std::string body;
  body.reserve(256 + (from.size() + to.size()) * 64 + report.cells.size() * 12);
  JsonWriter w(body);
  w.raw("{").key("from");
  write_layers(w, from, report.from_sizes, "left", report.left, k);
  w.raw(",").key("to");
  write_layers(w, to, report.to_sizes, "new", report.entered, k);
  w.raw(",\"matrix\":[");
  for (std::size_t i = 0; i < from.size(); ++i) {
    if (i) w.raw(",");
    w.raw("[");
    for (std::size_t j = 0; j < to.size(); ++j) {
      if (j) w.raw(",");
      write_cell(w, report.cells[i * to.size() + j], k);
    }
    w.raw("]");
  }
  w.raw("],").key("from_any");
  write_cell(w, report.from_any, k);
  w.raw(",").key("to_any");
  write_cell(w, report.to_any, k);
  w.raw(",").key("stayed");
  write_cell(w, report.stayed, k);
  w.raw(",").key("total");
  write_cell(w, tail.total, k);
  write_tail(w, tail);
  return body;
}

std::string funnel_body(std::span<const uint64_t> counts, const AnalyticsTail& tail) {
  const uint64_t min = tail.floor;
  std::string body;
  body.reserve(128 + counts.size() * 96);
  JsonWriter w(body);
  w.raw("{\"steps\":[");
  for (std::size_t k = 0; k < counts.size(); ++k) {
    if (k) w.raw(",");
    const uint64_t previous = counts[k == 0 ? 0 : k - 1];
    w.raw("{").key("count");
    write_cell(w, counts[k], min);
    w.raw(",").key("from_previous");
    const bool hide = hidden(counts[k], min);
    write_ratio(w, hide || hidden(previous, min) ? std::nullopt : ratio(counts[k], previous));
    w.raw(",").key("from_first");
    write_ratio(w, hide || hidden(counts[0], min) ? std::nullopt : ratio(counts[k], counts[0]));
    w.raw("}");
  }
  w.raw("],").key("total");
  write_cell(w, tail.total, min);
  write_tail(w, tail);
  return body;
}

std::string insight_body(const query::InsightReport& report, const std::function<std::string_view(TagId)>& name_of,
                         const AnalyticsTail& tail) {
  std::size_t rows = 0;
  for (const auto& f : report.fields) rows += f.rows.size();
  // Counts below the floor are "<K", and so are the ratios that would give
  // them away (null). (Rows under it are not listed at all: the caller's
  // min_count is at least the floor.)
  const uint64_t min = tail.floor;
  const bool crowd_hidden = hidden(report.crowd, min);
  std::string body;
  body.reserve(128 + report.fields.size() * 64 + rows * 160);
  JsonWriter w(body);
  w.raw("{").key("crowd");
  write_cell(w, report.crowd, min);
  w.raw(",").key("total");
  write_cell(w, report.total, min);
  w.raw(",\"fields\":[");
  for (std::size_t i = 0; i < report.fields.size(); ++i) {
    const auto& f = report.fields[i];
    if (i) w.raw(",");
    w.raw("{").key("field").string(f.field).raw(",").key("tag_count").number(f.tags).raw(",\"tags\":[");
    for (std::size_t k = 0; k < f.rows.size(); ++k) {
      const auto& row = f.rows[k];
      if (k) w.raw(",");
      const bool count_hidden = crowd_hidden || hidden(row.count, min);
      const bool population_hidden = hidden(row.population, min) || hidden(report.total, min);
      w.raw("{").key("tag").string(name_of(row.tag)).raw(",").key("count");
      write_cell(w, row.count, min);
      w.raw(",").key("share");
      write_ratio(w, count_hidden ? std::nullopt : query::crowd_share(row, report.crowd));
      w.raw(",").key("population");
      write_cell(w, row.population, min);
      w.raw(",").key("population_share");
      write_ratio(w, population_hidden ? std::nullopt : query::population_share(row, report.total));
      w.raw(",").key("tgi");
      write_ratio(w, count_hidden || population_hidden ? std::nullopt : query::tgi(row, report.crowd, report.total));
      w.raw("}");
    }
    w.raw("]}");
  }
  w.raw("]");
  write_tail(w, tail);
  return body;
}

}  // namespace crowd::server
