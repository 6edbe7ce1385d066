// Reply: what a handler returns — a whole response, or a response head plus a
// source of body chunks that the session streams with chunked encoding.
#pragma once

#include <boost/beast/http.hpp>

#include <memory>
#include <string>

#include "server/byte_budget.h"

namespace crowd::server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using RequestHeader = http::request_header<>;
using Response = http::response<http::string_body>;

// Produces a streamed body piece by piece, so memory stays flat whatever the
// total size. Called on the session's strand, one call at a time.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  // Replaces `out` with the next piece; returns false when there is no more
  // (then `out` is ignored).
  virtual bool next(std::string& out) = 0;
  // The most memory one piece may take: what a stream holds while its
  // reader is slow (reply_budget.h).
  [[nodiscard]] virtual std::size_t piece_bytes() const = 0;
};

struct Reply {
  Response message;                     // status, fields, and the body unless streaming
  std::unique_ptr<ChunkSource> stream;  // set: the body comes from here, chunked
  // The reply's share of the queued-reply budget (reply_budget.h), given
  // back when the reply is destroyed, i.e. once its reader has taken it.
  BudgetHold held;
};

// A JSON reply with the given status and body.
[[nodiscard]] Reply json_reply(http::status status, std::string body);

}  // namespace crowd::server
