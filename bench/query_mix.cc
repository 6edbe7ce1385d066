#include "bench/query_mix.h"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace crowd::bench {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// Splits off the first blank-separated word of `s` (already trimmed).
std::string_view next_word(std::string_view& s) {
  std::size_t end = 0;
  while (end < s.size() && !is_blank(s[end])) ++end;
  const auto word = s.substr(0, end);
  s = trim(s.substr(end));
  return word;
}

// Built by appending: GCC 12 warns falsely (-Wrestrict) on "literal" + string.
std::string line_error(int line, std::string_view a, std::string_view b = {}, std::string_view c = {}) {
  std::string out = "line ";
  out += std::to_string(line);
  out += ": ";
  out += a;
  out += b;
  out += c;
  return out;
}

// Fills target and body for the entry's kind. Throws nlohmann::json's
// type_error if an ids query is not valid UTF-8 (JSON cannot carry it).
void build_request(MixEntry& e) {
  switch (e.kind) {
    case MixKind::count:
      // Every reserved character is encoded, as the server's tests do, so a
      // query with & + = # or non-ASCII tags reaches the parser unchanged.
      e.target = "/v1/count?q=";
      e.target += boost::urls::encode(e.arg, boost::urls::unreserved_chars);
      break;
    case MixKind::ids: {
      e.post = true;
      e.target = "/v1/ids";
      // nlohmann escapes quotes, backslashes and control characters and
      // keeps UTF-8 as is.
      const nlohmann::json body = {{"q", e.arg}, {"limit", kIdsPageLimit}};
      e.body = body.dump();
      break;
    }
    case MixKind::get:
      e.target = e.arg;
      break;
    case MixKind::post: {
      e.post = true;
      const auto space = e.arg.find(' ');
      e.target = e.arg.substr(0, space);
      e.body = space == std::string::npos ? "" : e.arg.substr(space + 1);
      break;
    }
  }
}

}  // namespace

std::optional<QueryMix> parse_mix(std::string_view text, std::string& error) {
  QueryMix mix;
  int line_no = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;

    MixEntry e;
    e.line = line_no;
    const auto weight = next_word(line);
    const auto r = std::from_chars(weight.data(), weight.data() + weight.size(), e.weight);
    if (r.ec != std::errc() || r.ptr != weight.data() + weight.size() || !std::isfinite(e.weight) || e.weight <= 0) {
      error = line_error(line_no, "weight '", weight, "' is not a positive number");
      return std::nullopt;
    }
    const auto kind = next_word(line);
    if (kind == "count") {
      e.kind = MixKind::count;
    } else if (kind == "ids") {
      e.kind = MixKind::ids;
    } else if (kind == "get") {
      e.kind = MixKind::get;
    } else if (kind == "post") {
      e.kind = MixKind::post;
    } else if (kind.empty()) {
      error = line_error(line_no, "expected WEIGHT KIND ARG, the kind is missing");
      return std::nullopt;
    } else {
      error = line_error(line_no, "unknown kind '", kind, "' (count, ids, get, post)");
      return std::nullopt;
    }
    if (line.empty()) {
      const bool path = e.kind == MixKind::get || e.kind == MixKind::post;
      error = line_error(line_no, "'", kind, path ? "' needs a path" : "' needs a query");
      return std::nullopt;
    }
    e.arg = std::string(line);
    if (e.kind == MixKind::post) {
      const auto path = std::string_view(e.arg).substr(0, e.arg.find(' '));
      const bool printable = std::all_of(path.begin(), path.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u < 0x7f;
      });
      if (path.front() != '/' || !printable || path.size() == e.arg.size()) {
        error = line_error(line_no, "a post line is PATH BODY: a path starting with / (percent-encoded), a space, "
                                    "a JSON body");
        return std::nullopt;
      }
    }
    if (e.kind == MixKind::get) {
      const bool printable = std::all_of(e.arg.begin(), e.arg.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u < 0x7f;
      });
      if (e.arg.front() != '/' || !printable) {
        error = line_error(line_no, "a get path starts with / and has no spaces or non-ASCII (percent-encode them)");
        return std::nullopt;
      }
    }
    try {
      build_request(e);
    } catch (const nlohmann::json::exception&) {
      error = line_error(line_no, "the query is not valid UTF-8");
      return std::nullopt;
    }
    mix.entries.push_back(std::move(e));
  }
  if (mix.entries.empty()) {
    error = "no requests in the mix";
    return std::nullopt;
  }
  return mix;
}

std::optional<QueryMix> load_mix(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open";
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto mix = parse_mix(ss.str(), error);
  if (!mix) error.insert(0, path + ": ");
  return mix;
}

MixPicker::MixPicker(const QueryMix& mix) {
  double sum = 0;
  cumulative_.reserve(mix.entries.size());
  for (const auto& e : mix.entries) {
    sum += e.weight;
    cumulative_.push_back(sum);
  }
}

std::size_t MixPicker::pick(uint64_t random_bits) const {
  // 53 random bits → a uniform double in [0, 1), scaled to the total weight.
  const double u = static_cast<double>(random_bits >> 11) * 0x1.0p-53 * cumulative_.back();
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  // u < total always, but rounding in the running sums could leave it equal.
  return std::min<std::size_t>(static_cast<std::size_t>(it - cumulative_.begin()), cumulative_.size() - 1);
}

}  // namespace crowd::bench
