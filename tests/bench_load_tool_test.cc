// The load tool's pure parts: the latency histogram against exact
// percentiles of a sorted sample, the mix-file parser and the weighted
// choice, and the JSON report's shape.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "bench/latency_histogram.h"
#include "bench/load_report.h"
#include "bench/query_mix.h"

namespace crowd::bench {
namespace {

// The nearest-rank percentile of a sorted sample, the plain way.
uint64_t exact_percentile(const std::vector<uint64_t>& sorted, double p) {
  const auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * n - 1e-9));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

const std::vector<double> kPs = {0, 0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100};

void expect_close_to_exact(const LatencyHistogram& h, const std::vector<uint64_t>& sorted) {
  for (const double p : kPs) {
    const auto want = static_cast<double>(exact_percentile(sorted, p));
    const auto got = static_cast<double>(h.percentile(p));
    EXPECT_LE(std::abs(got - want), want * LatencyHistogram::kMaxRelativeError)
        << "p" << p << ": " << got << " vs " << want;
  }
}

TEST(LatencyHistogram, PercentilesWithinTheStatedErrorOfASortedSample) {
  // Log-uniform from 1 ns to ~17 s, the spread of real latencies and then some.
  std::mt19937_64 rng(20240611);
  std::uniform_real_distribution<double> exponent(0.0, 34.0);
  std::vector<uint64_t> sample;
  LatencyHistogram h;
  for (int i = 0; i < 200'000; ++i) {
    const auto v = static_cast<uint64_t>(std::exp2(exponent(rng)));
    sample.push_back(v);
    h.record(v);
  }
  std::sort(sample.begin(), sample.end());
  ASSERT_EQ(h.count(), sample.size());
  EXPECT_EQ(h.min(), sample.front());
  EXPECT_EQ(h.max(), sample.back());
  EXPECT_EQ(h.percentile(100), sample.back());
  long double sum = 0;
  for (const auto v : sample) sum += v;
  EXPECT_NEAR(h.mean(), static_cast<double>(sum / sample.size()), 1e-6 * static_cast<double>(sum / sample.size()));
  expect_close_to_exact(h, sample);
  EXPECT_LE(LatencyHistogram::kMaxRelativeError, 0.01);
}

TEST(LatencyHistogram, LatencyLikeSampleWithATail) {
  // 100 µs ± jitter with a 1 % tail of 10–50 ms stalls, in nanoseconds.
  std::mt19937_64 rng(7);
  std::normal_distribution<double> body(100'000, 15'000);
  std::uniform_real_distribution<double> tail(10e6, 50e6);
  std::uniform_real_distribution<double> coin(0, 1);
  std::vector<uint64_t> sample;
  LatencyHistogram h;
  for (int i = 0; i < 50'000; ++i) {
    const double v = coin(rng) < 0.01 ? tail(rng) : std::max(1.0, body(rng));
    sample.push_back(static_cast<uint64_t>(v));
    h.record(sample.back());
  }
  std::sort(sample.begin(), sample.end());
  expect_close_to_exact(h, sample);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  std::vector<uint64_t> sample;
  for (uint64_t v = 0; v < 128; ++v) {
    h.record(v, 3);
    sample.insert(sample.end(), 3, v);
  }
  for (const double p : kPs) EXPECT_EQ(h.percentile(p), exact_percentile(sample, p)) << p;
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(3);
  LatencyHistogram all, a, b;
  for (int i = 0; i < 20'000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    all.record(v);
    (i % 3 == 0 ? a : b).record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (const double p : kPs) EXPECT_EQ(a.percentile(p), all.percentile(p)) << p;
}

TEST(LatencyHistogram, EmptyAndExtremes) {
  LatencyHistogram h;
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  h.record(UINT64_MAX);
  h.record(0);
  EXPECT_EQ(h.max(), UINT64_MAX);
  EXPECT_EQ(h.percentile(100), UINT64_MAX);
  EXPECT_EQ(h.percentile(50), 0u);
  LatencyHistogram empty;
  h.merge(empty);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(LatencyHistogram, PercentilesAreMonotone) {
  std::mt19937_64 rng(11);
  LatencyHistogram h;
  for (int i = 0; i < 5'000; ++i) h.record(rng() % 10'000'000);
  uint64_t last = 0;
  for (double p = 0; p <= 100; p += 0.25) {
    EXPECT_GE(h.percentile(p), last) << p;
    last = h.percentile(p);
  }
}

QueryMix parse_ok(const std::string& text) {
  std::string error;
  auto mix = parse_mix(text, error);
  EXPECT_TRUE(mix) << error;
  return mix ? *mix : QueryMix{};
}

std::string parse_error(const std::string& text) {
  std::string error;
  EXPECT_FALSE(parse_mix(text, error)) << text;
  return error;
}

TEST(QueryMix, ParsesKindsWeightsCommentsAndBlankLines) {
  const auto mix = parse_ok(
      "# a comment\n"
      "\n"
      "   \t\n"
      "10 count gender:female AND age:25-29\r\n"
      "  # an indented comment\n"
      "0.5\tids  student:yes AND \"兴趣:美妆\"  \n"
      "1e1 get /healthz?x=1\n");
  ASSERT_EQ(mix.entries.size(), 3u);

  const auto& c = mix.entries[0];
  EXPECT_EQ(c.weight, 10.0);
  EXPECT_EQ(c.kind, MixKind::count);
  EXPECT_EQ(c.line, 4);
  EXPECT_EQ(c.arg, "gender:female AND age:25-29");
  EXPECT_FALSE(c.post);
  EXPECT_EQ(c.target, "/v1/count?q=gender%3Afemale%20AND%20age%3A25-29");

  const auto& i = mix.entries[1];
  EXPECT_EQ(i.weight, 0.5);
  EXPECT_EQ(i.kind, MixKind::ids);
  EXPECT_EQ(i.line, 6);
  EXPECT_TRUE(i.post);
  EXPECT_EQ(i.target, "/v1/ids");
  const auto body = nlohmann::json::parse(i.body);
  EXPECT_EQ(body["q"], "student:yes AND \"兴趣:美妆\"");
  EXPECT_EQ(body["limit"], 1000);

  const auto& g = mix.entries[2];
  EXPECT_EQ(g.weight, 10.0);
  EXPECT_EQ(g.kind, MixKind::get);
  EXPECT_EQ(g.target, "/healthz?x=1");
  EXPECT_FALSE(g.post);
}

TEST(QueryMix, PercentEncodesEveryReservedCharacterAndUtf8) {
  const auto mix = parse_ok("1 count 兴趣:美妆 AND a&b=c+d#e/f?\n");
  EXPECT_EQ(mix.entries[0].target,
            "/v1/count?q=%E5%85%B4%E8%B6%A3%3A%E7%BE%8E%E5%A6%86%20AND%20a%26b%3Dc%2Bd%23e%2Ff%3F");
}

TEST(QueryMix, EscapesQuotesAndBackslashesInIdsBodies) {
  const auto mix = parse_ok("1 ids \"a\\\"b\" AND c\\d\n");
  const auto body = nlohmann::json::parse(mix.entries[0].body);
  EXPECT_EQ(body["q"], "\"a\\\"b\" AND c\\d");
}

TEST(QueryMix, PostLinesCarryAPathAndABodyVerbatim) {
  const auto mix = parse_ok("2 post /v1/membership {\"id_type\": \"oaid\", \"lookups\": [\"a b\"]}\n");
  const auto& p = mix.entries[0];
  EXPECT_EQ(p.kind, MixKind::post);
  EXPECT_TRUE(p.post);
  EXPECT_EQ(p.target, "/v1/membership");
  EXPECT_EQ(p.body, "{\"id_type\": \"oaid\", \"lookups\": [\"a b\"]}");
  EXPECT_EQ(parse_error("1 post /v1/membership\n"),
            "line 1: a post line is PATH BODY: a path starting with / (percent-encoded), a space, a JSON body");
  EXPECT_EQ(parse_error("1 post v1 {}\n"),
            "line 1: a post line is PATH BODY: a path starting with / (percent-encoded), a space, a JSON body");
}

TEST(QueryMix, ErrorsNameTheLine) {
  EXPECT_EQ(parse_error("1 count a\nx count b\n"), "line 2: weight 'x' is not a positive number");
  EXPECT_EQ(parse_error("0 count a\n"), "line 1: weight '0' is not a positive number");
  EXPECT_EQ(parse_error("-1 count a\n"), "line 1: weight '-1' is not a positive number");
  EXPECT_EQ(parse_error("inf count a\n"), "line 1: weight 'inf' is not a positive number");
  EXPECT_EQ(parse_error("nan count a\n"), "line 1: weight 'nan' is not a positive number");
  EXPECT_EQ(parse_error("2x count a\n"), "line 1: weight '2x' is not a positive number");
  EXPECT_EQ(parse_error("# c\n\n1 cnt a\n"), "line 3: unknown kind 'cnt' (count, ids, get, post)");
  EXPECT_EQ(parse_error("1\n"), "line 1: expected WEIGHT KIND ARG, the kind is missing");
  EXPECT_EQ(parse_error("1 count\n"), "line 1: 'count' needs a query");
  EXPECT_EQ(parse_error("1 ids   \r\n"), "line 1: 'ids' needs a query");
  EXPECT_EQ(parse_error("1 get healthz\n"),
            "line 1: a get path starts with / and has no spaces or non-ASCII (percent-encode them)");
  EXPECT_EQ(parse_error("1 get /a b\n"),
            "line 1: a get path starts with / and has no spaces or non-ASCII (percent-encode them)");
  EXPECT_EQ(parse_error("1 ids \xff\xfe\n"), "line 1: the query is not valid UTF-8");
  EXPECT_EQ(parse_error("# nothing\n\n"), "no requests in the mix");
  EXPECT_EQ(parse_error(""), "no requests in the mix");
}

TEST(QueryMix, LoadMixNamesTheFile) {
  std::string error;
  EXPECT_FALSE(load_mix("/nonexistent/x.mix", error));
  EXPECT_EQ(error, "/nonexistent/x.mix: cannot open");
}

TEST(MixPicker, FollowsTheWeights) {
  const auto mix = parse_ok("1 count a\n3 count b\n0.5 get /c\n");
  const MixPicker picker(mix);
  SplitMix64 rng(99);
  std::vector<int> seen(3, 0);
  const int n = 450'000;
  for (int i = 0; i < n; ++i) ++seen[picker.pick(rng())];
  // Expected shares 1/4.5, 3/4.5, 0.5/4.5; 450k draws put 5 sigma well
  // under 0.005.
  EXPECT_NEAR(seen[0] / double(n), 1 / 4.5, 0.005);
  EXPECT_NEAR(seen[1] / double(n), 3 / 4.5, 0.005);
  EXPECT_NEAR(seen[2] / double(n), 0.5 / 4.5, 0.005);
}

TEST(MixPicker, SameSeedSameSequence) {
  const auto mix = parse_ok("1 count a\n1 count b\n1 count c\n1 count d\n");
  const MixPicker picker(mix);
  auto sequence = [&](uint64_t seed) {
    SplitMix64 rng(seed);
    std::vector<std::size_t> out;
    for (int i = 0; i < 64; ++i) out.push_back(picker.pick(rng()));
    return out;
  };
  EXPECT_EQ(sequence(5), sequence(5));
  EXPECT_NE(sequence(5), sequence(6));
}

TEST(MixPicker, ExtremeDrawsStayInRange) {
  const auto mix = parse_ok("0.1 count a\n0.2 count b\n");
  const MixPicker picker(mix);
  EXPECT_EQ(picker.pick(0), 0u);
  EXPECT_EQ(picker.pick(UINT64_MAX), 1u);
}

TEST(LoadReport, JsonHasEveryFieldAndNullsWhenNothingWasAnswered) {
  LoadResult r;
  r.connections = 2;
  r.threads = 1;
  r.requests = 3;
  r.connection_errors = 3;
  r.duration_s = 1.5;
  const auto j = report_json(r);
  EXPECT_EQ(j["mode"], "closed");
  EXPECT_TRUE(j["rate"].is_null());
  EXPECT_EQ(j["errors"], 3);
  EXPECT_EQ(j["throughput_rps"], 2.0);
  EXPECT_TRUE(j["status"].is_object());
  EXPECT_TRUE(j["status"].empty());
  for (const char* k : {"p50", "p90", "p99", "p999", "max", "mean"}) EXPECT_TRUE(j["latency_us"][k].is_null()) << k;
  for (const char* k : {"behind_schedule", "queued", "late_dispatch"}) EXPECT_EQ(j[k], 0) << k;
  EXPECT_TRUE(j["send_delay_us"]["max"].is_null());

  r.open_loop = true;
  r.rate = 100;
  r.status[200] = 2;
  r.status[400] = 1;
  r.non_2xx = 1;
  r.connection_errors = 0;
  r.latency_ns.record(1'500);
  r.latency_ns.record(2'000'000);
  const auto o = report_json(r);
  EXPECT_EQ(o["mode"], "open");
  EXPECT_EQ(o["rate"], 100.0);
  EXPECT_EQ(o["status"]["200"], 2);
  EXPECT_EQ(o["status"]["400"], 1);
  EXPECT_EQ(o["errors"], 1);
  EXPECT_EQ(o["latency_us"]["max"], 2000.0);
  EXPECT_EQ(o["latency_us"]["p50"], 1.5);
  EXPECT_NE(format_report(r).find("behind schedule"), std::string::npos);
}

}  // namespace
}  // namespace crowd::bench
