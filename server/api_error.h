// ApiError: an error as the API reports it (CONTRACT §4): a status, a stable
// code, a message, and where known the byte position in the query or the
// line of a batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/reply.h"

namespace crowd::server {

struct ApiError {
  http::status status = http::status::bad_request;
  std::string code;
  std::string message;
  std::optional<std::size_t> position;
  std::optional<uint64_t> line;
  std::vector<std::string> suggestions;  // "did you mean", for unknown_tag
};

[[nodiscard]] inline ApiError bad_request(std::string message) {
  return {http::status::bad_request, "bad_request", std::move(message), {}, {}, {}};
}
[[nodiscard]] inline ApiError bad_line(uint64_t line, std::string message) {
  return {http::status::bad_request, "bad_line", std::move(message), {}, line, {}};
}
[[nodiscard]] inline ApiError not_found(std::string message) {
  return {http::status::not_found, "not_found", std::move(message), {}, {}, {}};
}
[[nodiscard]] inline ApiError too_large(std::string message) {
  return {http::status::payload_too_large, "too_large", std::move(message), {}, {}, {}};
}
[[nodiscard]] inline ApiError unavailable(std::string message) {
  return {http::status::service_unavailable, "unavailable", std::move(message), {}, {}, {}};
}

[[nodiscard]] inline ApiError unauthorized(std::string message) {
  return {http::status::unauthorized, "unauthorized", std::move(message), {}, {}, {}};
}
[[nodiscard]] inline ApiError forbidden(std::string message) {
  return {http::status::forbidden, "forbidden", std::move(message), {}, {}, {}};
}
// A privacy guard (--min-export-size, --min-seed-size) refused the crowd.
[[nodiscard]] inline ApiError crowd_too_small(std::string message) {
  return {http::status::forbidden, "crowd_too_small", std::move(message), {}, {}, {}};
}
// A write naming IDs that belong to different users (issue 15), or an ID
// type defined again differently: nothing was applied.
[[nodiscard]] inline ApiError id_conflict(std::string message, std::optional<uint64_t> line = std::nullopt) {
  return {http::status::conflict, "id_conflict", std::move(message), {}, line, {}};
}
// A write sent to a cluster replica, which changes only by its stream.
[[nodiscard]] inline ApiError read_only_replica(std::string message) {
  return {http::status::conflict, "read_only_replica", std::move(message), {}, {}, {}};
}
// The request's time budget ran out (--time-budget-ms).
[[nodiscard]] inline ApiError timed_out(std::string message) {
  return {http::status::service_unavailable, "timeout", std::move(message), {}, {}, {}};
}
// Too many requests in progress (--max-queue); the reply says Retry-After.
[[nodiscard]] inline ApiError too_many_requests(std::string message) {
  return {http::status::too_many_requests, "too_many_requests", std::move(message), {}, {}, {}};
}

// {"error": {"code", "message", "position"?, "line"?, "suggestions"?}}
[[nodiscard]] Reply error_reply(const ApiError& error);
// 405 with the Allow header, e.g. allow = "GET, POST".
[[nodiscard]] Reply method_not_allowed(std::string_view allow);

}  // namespace crowd::server
