// Small helpers shared by the end-to-end tests of saved crowds, dated tags
// and numeric values (e2e_crowds_test, e2e_dated_tags_test,
// e2e_values_write_test): requests that return parsed JSON, and calendar
// arithmetic done with std::chrono — independent of the server's own
// query/date.h — for the in-test models.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "tests/support/server_process.h"

namespace crowd::test {

// Days since 1970-01-01 of a civil date, and back ("YYYY-MM-DD").
inline int64_t civil_day(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return sys_days(year{y} / month{m} / day{d}).time_since_epoch().count();
}
inline std::string day_text(int64_t days) {
  using namespace std::chrono;
  const year_month_day ymd{sys_days{std::chrono::days{days}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

inline uint64_t json_user_id(const nlohmann::json& v) {
  return v.is_string() ? std::stoull(v.get<std::string>()) : v.get<uint64_t>();
}

// The body parsed as JSON, or null (with a test failure) when it is not JSON.
inline nlohmann::json body_json(const HttpResult& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON (" << r.status << "): " << r.body;
  return j.is_discarded() ? nlohmann::json() : j;
}

// {"error": {"code": ...}}'s code, or "" when absent.
inline std::string error_code(const HttpResult& r) {
  const auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("error") || !j["error"].is_object()) return "";
  return j["error"].value("code", "");
}
inline std::string error_message(const HttpResult& r) {
  const auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("error") || !j["error"].is_object()) return "";
  return j["error"].value("message", "");
}

// POST /v1/count; UINT64_MAX (with a test failure) unless 200.
inline uint64_t count_of(const ServerProcess& s, const std::string& q, bool lenient = false) {
  nlohmann::json req{{"q", q}};
  if (lenient) req["lenient"] = true;
  const auto r = s.post("/v1/count", req.dump());
  EXPECT_EQ(r.status, 200) << q << ": " << r.body;
  if (r.status != 200) return UINT64_MAX;
  return body_json(r)["count"].get<uint64_t>();
}

// POST /v1/count with "as_of" (YYYY-MM-DD): relative windows end on that day.
inline uint64_t count_as_of(const ServerProcess& s, const std::string& q, const std::string& as_of) {
  const auto r = s.post("/v1/count", nlohmann::json{{"q", q}, {"as_of", as_of}}.dump());
  EXPECT_EQ(r.status, 200) << q << " as of " << as_of << ": " << r.body;
  if (r.status != 200) return UINT64_MAX;
  return body_json(r)["count"].get<uint64_t>();
}

// The raw response of POST /v1/count, for error cases.
inline HttpResult count_request(const ServerProcess& s, const std::string& q, bool lenient = false) {
  nlohmann::json req{{"q", q}};
  if (lenient) req["lenient"] = true;
  return s.post("/v1/count", req.dump());
}

// GET /v1/ids?format=csv as a set of IDs (and the raw text in `raw`).
inline std::set<uint64_t> csv_ids(const ServerProcess& s, const std::string& q, std::string* raw = nullptr) {
  const auto r = s.get("/v1/ids?q=" + url_encode(q) + "&format=csv");
  EXPECT_EQ(r.status, 200) << q << ": " << r.body;
  if (raw != nullptr) *raw = r.body;
  std::set<uint64_t> out;
  std::size_t start = 0;
  while (start < r.body.size()) {
    auto end = r.body.find('\n', start);
    if (end == std::string::npos) end = r.body.size();
    if (end > start) out.insert(std::stoull(r.body.substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

// Every page of POST /v1/ids with `limit`, concatenated in order.
inline std::vector<uint64_t> paged_ids(const ServerProcess& s, const std::string& q, int limit) {
  std::vector<uint64_t> out;
  std::string cursor;
  for (int guard = 0; guard < 100000; ++guard) {
    nlohmann::json req{{"q", q}, {"limit", limit}};
    if (!cursor.empty()) req["cursor"] = cursor;
    const auto r = s.post("/v1/ids", req.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) break;
    const auto body = body_json(r);
    for (const auto& id : body["ids"]) out.push_back(json_user_id(id));
    if (body["cursor"].is_null()) break;
    cursor = body["cursor"].get<std::string>();
  }
  return out;
}

// GET /healthz's "users" (the universe).
inline uint64_t universe_of(const ServerProcess& s) {
  const auto r = s.get("/healthz");
  EXPECT_EQ(r.status, 200) << r.body;
  return body_json(r)["users"].get<uint64_t>();
}

}  // namespace crowd::test
