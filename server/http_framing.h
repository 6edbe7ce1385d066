// Message framing checks Beast leaves to us (RFC 9112 §3.2, §6.1, §6.3).
//
// Beast frames a request as chunked only when "chunked" is the final
// transfer coding; any other Transfer-Encoding it ignores, so
// `Transfer-Encoding: chunked, identity` with a Content-Length was framed by
// the length, and `Transfer-Encoding: foo` as no body at all — a
// request-smuggling shape when a proxy in front frames it otherwise. It also
// serves HTTP/1.1 requests with no Host. These checks run on the header
// before anything else, and every refusal closes the connection, since the
// rest of the stream can no longer be trusted to start a message.
#pragma once

#include <optional>

#include "server/api_error.h"
#include "server/reply.h"

namespace crowd::server {

// nullopt when the header frames a request crowd can read. Otherwise:
//   400 bad_request: Transfer-Encoding whose final coding is not chunked
//       (RFC 9112 §6.3: a request's length cannot be determined), chunked
//       applied twice, Transfer-Encoding in an HTTP/1.0 request (§6.1), an
//       HTTP/1.1 request without exactly one Host (§3.2);
//   501 not_implemented: a coding before the final chunked (gzip, chunked):
//       crowd decodes no transfer coding but chunked (§6.1: "SHOULD respond
//       with 501").
// O(header fields).
[[nodiscard]] std::optional<ApiError> framing_problem(const RequestHeader& header);

}  // namespace crowd::server
