#include "server/route.h"

#include <boost/url/segments_view.hpp>

#include <algorithm>

#include "server/api.h"
#include "server/call.h"

namespace crowd::server {
namespace {

// "/v1/crowds/{name}" -> "v1", "crowds", "{name}".
std::vector<std::string_view> pattern_segments(std::string_view pattern) {
  std::vector<std::string_view> out;
  pattern.remove_prefix(1);
  while (true) {
    const auto slash = pattern.find('/');
    out.push_back(pattern.substr(0, slash));
    if (slash == std::string_view::npos) break;
    pattern.remove_prefix(slash + 1);
  }
  return out;
}

bool is_placeholder(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Whether `segments` (decoded) fit `pattern`; the placeholders' values go to
// `values`.
bool fits(std::string_view pattern, const std::vector<std::string>& segments, std::vector<std::string>* values) {
  const auto parts = pattern_segments(pattern);
  if (parts.size() != segments.size()) return false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (is_placeholder(parts[i])) {
      if (segments[i].empty()) return false;
    } else if (parts[i] != segments[i]) {
      return false;
    }
  }
  if (values != nullptr) {
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (is_placeholder(parts[i])) values->push_back(segments[i]);
    }
  }
  return true;
}

std::string_view verb_name(boost::beast::http::verb v) { return boost::beast::http::to_string(v); }

}  // namespace

const std::string& Exchange::path_param(std::string_view name) const {
  const auto parts = pattern_segments(call.route->pattern);
  std::size_t k = 0;
  for (const auto part : parts) {
    if (!is_placeholder(part)) continue;
    if (part.substr(1, part.size() - 2) == name) return call.path_values.at(k);
    ++k;
  }
  throw std::logic_error("route " + std::string(call.route->pattern) + " has no {" + std::string(name) + "}");
}

RouteMatch match_route(std::span<const Route> table, boost::beast::http::verb method,
                       const boost::urls::url_view& url) {
  RouteMatch m;
  const auto path = url.encoded_path();
  if (path.empty() || path.front() != '/') return m;
  std::vector<std::string> segments;
  for (const auto s : url.segments()) segments.emplace_back(s);
  // "/" has no segment; "/v1/count" has two.
  if (path == "/") segments.clear();
  for (const auto& row : table) {
    if (!fits(row.pattern, segments, nullptr)) continue;
    if (row.method == method) {
      m.route = &row;
      fits(row.pattern, segments, &m.values);
      m.allow.clear();
      return m;
    }
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += verb_name(row.method);
  }
  return m;
}

std::string unknown_param(const Route& route, const boost::urls::url_view& url) {
  for (const auto p : url.params()) {
    if (std::find(route.params.begin(), route.params.end(), p.key) == route.params.end()) return p.key;
  }
  return {};
}

std::span<const std::string_view> route_labels() {
  static const std::vector<std::string_view> labels = [] {
    std::vector<std::string_view> out;
    for (const auto& row : Api::routes()) {
      if (std::find(out.begin(), out.end(), row.pattern) == out.end()) out.push_back(row.pattern);
    }
    out.push_back("other");
    return out;
  }();
  return labels;
}

std::size_t route_slot(const Route* route) {
  const auto labels = route_labels();
  if (route == nullptr) return labels.size() - 1;
  return static_cast<std::size_t>(std::find(labels.begin(), labels.end() - 1, route->pattern) - labels.begin());
}

}  // namespace crowd::server
