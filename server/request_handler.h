// RequestHandler: what the HTTP front end (http_server.h) serves requests
// with, in the two steps it needs -- admit from the header, then serve with
// the body. Api (a crowdd with an index) is one; a cluster router
// (router/router.h), which has no index and answers by asking shards, is
// the other.
#pragma once

#include <cstddef>
#include <optional>

#include "server/api_error.h"
#include "server/call.h"
#include "server/reply.h"

namespace crowd::server {

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;

  // From the request's header: the route (into `call`) and whether the
  // caller may use it. A reply here is the answer and the body is not read.
  [[nodiscard]] virtual std::optional<Reply> admit(const RequestHeader& header, Call& call) = 0;
  // The most body bytes the admitted route reads, and the 413 that says so.
  [[nodiscard]] virtual std::size_t body_limit(const Call& call) const = 0;
  [[nodiscard]] virtual ApiError body_too_large(const Call& call) const = 0;
  // Answers an admitted request (see Api::serve for `call.yield_at`).
  [[nodiscard]] virtual Reply serve(Request& req, Call& call) = 0;
};

}  // namespace crowd::server
