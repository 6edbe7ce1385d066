// Api: the request handler. A function from request to reply: it never sees a
// socket (the session owns the stream) and never throws for bad input (every
// error becomes an ApiError reply, CONTRACT §4).
//
// Routes live in files by concern: query routes (count, ids), write routes
// (ingest, assign, delete), and info routes (tags, fields, health, metrics,
// snapshot).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/url/url_view.hpp>

#include "index/store.h"
#include "server/api_error.h"
#include "server/metrics.h"
#include "server/reply.h"

namespace crowd::query {
class UnionCache;
}  // namespace crowd::query

namespace crowd::server {

class Retention;

class Api {
 public:
  // `unions` (optional, outlives the Api): where unions of many tags are kept
  // between queries (query/union_cache.h).
  // `retention` (optional, outlives the Api): applied after writes.
  Api(Store& store, Metrics& metrics, query::UnionCache* unions = nullptr, Retention* retention = nullptr)
      : store_(store), metrics_(metrics), unions_(unions), retention_(retention) {}

  // Answers one request; `route` says which route it was, for metrics.
  // `req` may be modified (the ingest body is padded for simdjson in place).
  [[nodiscard]] Reply handle(Request& req, Route& route);

 private:
  using Clock = std::chrono::steady_clock;

  // Query routes (api_query.cc).
  Reply count_get(const boost::urls::url_view& url, Clock::time_point start);
  Reply count_post(const Request& req, Clock::time_point start);
  Reply ids_get(const boost::urls::url_view& url, Clock::time_point start);
  Reply ids_post(const Request& req, Clock::time_point start);
  Reply ids_page(std::string_view q, bool lenient, uint64_t limit, std::string_view cursor, Clock::time_point start);
  Reply ids_export(std::string_view q, bool lenient, std::string_view format);

  // Write routes (api_write.cc).
  Reply ingest(Request& req);
  Reply assign(const Request& req);
  Reply delete_user(std::string_view id_text);
  // After a write that may have brought a newer or an old day (retention.h).
  void apply_retention(const WriteBatch& written);

  // Analytics routes, one file each (api_<route>.cc); saved crowds in
  // api_crowds.cc (`name_path`: what follows /v1/crowds, "" or "/<name>...").
  Reply insight(const Request& req, Clock::time_point start);
  Reply overlap(const Request& req, Clock::time_point start);
  Reply flow(const Request& req, Clock::time_point start);
  Reply funnel(const Request& req, Clock::time_point start);
  Reply lookalike(const Request& req, Clock::time_point start);
  Reply stats(const Request& req, Clock::time_point start);
  Reply crowds(const Request& req, std::string_view name_path, Clock::time_point start);

  // Info routes (api_info.cc).
  Reply tags(const boost::urls::url_view& url);
  Reply fields();
  Reply health();
  Reply metrics_text();
  Reply snapshot();

  Store& store_;
  Metrics& metrics_;
  query::UnionCache* unions_;
  Retention* retention_;
};

// Microseconds since `start`.
[[nodiscard]] inline uint64_t micros_since(std::chrono::steady_clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace crowd::server
