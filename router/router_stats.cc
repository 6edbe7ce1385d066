// The router's /v1/stats. Count, sum, min and max of the crowd's values add
// up over shards; nearest-rank percentiles do not. They are found exactly
// with counts the shards answer anyway: the pN value is the smallest v with
// at least rank(N) of the crowd's values <= v, so each percentile is a
// binary search over [min, max], each step one fan-out of
// "(q) AND attr <= v" -- the three percentiles' steps asked together as the
// crowds of one /v1/overlap. About log2(max - min) fan-outs: 13 for values
// up to 10,000, 64 at most.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "query/attribute.h"
#include "router/router_context.h"
#include "server/analytics_replies.h"
#include "server/json_writer.h"
#include "server/stats_request.h"

namespace crowd::router {
namespace {

namespace http = boost::beast::http;
using query::Int128;
using server::Reply;

// A shard's "sum": a JSON integer, or decimal digits in a string past int64.
Int128 sum_of(simdjson::dom::element root) {
  int64_t small = 0;
  if (!root.at_key("sum").get(small)) return small;
  std::string_view digits;
  if (root.at_key("sum").get(digits)) return 0;
  const bool negative = !digits.empty() && digits[0] == '-';
  Int128 v = 0;
  for (const char ch : digits.substr(negative ? 1 : 0)) v = v * 10 + (ch - '0');
  return negative ? -v : v;
}

int64_t member_int(simdjson::dom::element e, std::string_view key) {
  int64_t v = 0;
  if (e.at_key(key).get(v)) return 0;
  return v;
}

}  // namespace

Reply Router::stats(const server::Request& req, Context& c) {
  const auto parsed = server::read_stats_request(req.body());
  if (const auto* e = std::get_if<server::ApiError>(&parsed)) return server::error_reply(*e);
  const auto& r = std::get<server::StatsRequest>(parsed);
  const int64_t today = r.as_of.value_or(options_.clock.today());
  auto fanned = query_all(c, false, [&](uint32_t, bool lenient) {
    return shard_request("/v1/stats", req.body(), lenient, today);
  });
  if (auto* reply = std::get_if<Reply>(&fanned)) return std::move(*reply);
  const bool lenient = std::get<Fanned>(fanned).lenient || r.lenient;
  query::AttributeStats s;
  uint64_t crowd = 0;
  {
    ShardDocs docs;
    bool first = true;
    for (const auto& a : std::get<Fanned>(fanned).answers) {
      const auto root = docs.parse(a.body);
      if (!root) return server::error_reply(server::unavailable("a shard's answer is not JSON"));
      crowd += member_uint(*root, "crowd");
      const uint64_t n = member_uint(*root, "count");
      if (n == 0) continue;
      s.count += n;
      s.sum += sum_of(*root);
      const int64_t lo = member_int(*root, "min");
      const int64_t hi = member_int(*root, "max");
      s.min = first ? lo : std::min(s.min, lo);
      s.max = first ? hi : std::max(s.max, hi);
      first = false;
    }
  }
  if (s.count > 0) {
    s.mean = query::mean_of(s.sum, s.count);
    constexpr std::array<uint64_t, 3> kPercents = {50, 90, 99};
    std::array<Int128, 3> lo{};
    std::array<Int128, 3> hi{};
    std::array<uint64_t, 3> rank{};
    for (std::size_t j = 0; j < 3; ++j) {
      lo[j] = s.min;
      hi[j] = s.max;
      rank[j] = query::nearest_rank(s.count, kPercents[j]);
    }
    // Built with append: GCC 12 warns falsely (-Wrestrict) on "lit" + string.
    std::string scoped(1, '(');
    scoped.append(r.q).append(") AND ").append(r.attr).append(" <= ");
    for (;;) {
      std::vector<std::size_t> open;
      std::vector<int64_t> mid;
      for (std::size_t j = 0; j < 3; ++j) {
        if (lo[j] < hi[j]) {
          open.push_back(j);
          mid.push_back(static_cast<int64_t>(lo[j] + (hi[j] - lo[j]) / 2));
        }
      }
      if (open.empty()) break;
      std::string crowds;
      server::JsonWriter w(crowds);
      w.raw("{");
      // An overlap takes at least two crowds: the last is asked twice when alone.
      for (std::size_t i = 0; i < std::max<std::size_t>(open.size(), 2); ++i) {
        const int64_t v = mid[std::min(i, mid.size() - 1)];
        std::string name(1, 'p');
        name.append(std::to_string(i));
        w.raw(i > 0 ? "," : "").key(name).string(scoped + std::to_string(v));
      }
      w.raw("}");
      const auto answers = fanout_.gather(
          *c.layout, shard_list(c.shards()),
          [&](uint32_t) {
            return shard_request("/v1/overlap", "{}", lenient, today, {{"crowds", crowds}});
          },
          c.deadline);
      std::vector<uint64_t> at_most(open.size(), 0);
      ShardDocs docs;
      for (uint32_t k = 0; k < answers.size(); ++k) {
        auto listed = answer_array(docs, k, answers[k], "crowds");
        if (auto* reply = std::get_if<Reply>(&listed)) return std::move(*reply);
        const auto list = std::get<simdjson::dom::array>(listed);
        std::size_t i = 0;
        for (const auto item : list) {
          if (i < at_most.size()) at_most[i] += member_uint(item, "count");
          ++i;
        }
      }
      for (std::size_t i = 0; i < open.size(); ++i) {
        const std::size_t j = open[i];
        if (at_most[i] >= rank[j]) {
          hi[j] = mid[i];
        } else {
          lo[j] = static_cast<Int128>(mid[i]) + 1;
        }
      }
    }
    s.p50 = static_cast<int64_t>(lo[0]);
    s.p90 = static_cast<int64_t>(lo[1]);
    s.p99 = static_cast<int64_t>(lo[2]);
  }
  const server::AnalyticsTail tail{0, nullptr, c.took_us(), options_.min_export_size};
  return server::json_reply(http::status::ok, server::stats_body(r.attr, s, crowd, tail));
}

}  // namespace crowd::router
