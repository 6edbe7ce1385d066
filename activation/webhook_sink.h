// The webhook destination: a push's payload POSTed over HTTP/1.1, a chunk at
// a time, with retries, to a receiver the ad channel (or its adapter) runs.
//
// The protocol, which a receiver implements (tools/push_receiver.py is one):
//
//   * Chunks are POSTed one at a time, in order, to the URL; chunk k+1 is sent
//     only after chunk k was answered 2xx. An empty payload is still one POST,
//     with an empty body, so that the receiver learns the new version.
//   * Every POST carries
//       Content-Type          content_type(format)
//       Idempotency-Key       <push id>-<k>
//       X-Crowd-Push          the push id (the same on every attempt)
//       X-Crowd-Chunk         k, from 1
//       X-Crowd-Last          1 on the last chunk, else 0
//       X-Crowd-Mode          full | delta
//       X-Crowd-Version       the version the receiver holds once it applies the push
//       X-Crowd-Base-Version  the version a delta applies to (0 for full)
//       X-Crowd-Seq           the push's number among the crowd's pushes (their order)
//       X-Crowd-Crowd         the crowd's name, UTF-8, percent-encoded
//       X-Crowd-Destination   the destination's name, encoded alike
//       User-Agent: crowd, Host, then the options' extra headers (which
//       replace any of the above of the same name).
//   * The receiver stages chunks and applies the push when the last one
//     arrives: a full push replaces what it holds, a delta applies its removes
//     then its adds, and only if the receiver is at the base version. A push
//     may arrive more than once (a retry, a redelivery): chunk 1 restarts its
//     staging, a repeated chunk and an applied push are answered 2xx again
//     with no effect.
//   * 2xx: the chunk is done. A connection error, no answer within
//     request_timeout, 408, 425, 429 or 5xx: the same chunk is tried again
//     after a backoff (Retry-After, in seconds, is honoured on 429 and 503, up
//     to backoff_max). Any other status (redirects included: they are not
//     followed) fails the delivery at once.
//
// Errors never name the URL, a header value, the response body or payload
// bytes: they may hold secrets or user IDs.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "activation/push_payload.h"

namespace crowd::activation {

struct WebhookOptions {
  std::string url;  // "http://host[:port]/path[?query]": http only, TLS is left to a proxy
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers, e.g. Authorization: secrets
  std::chrono::milliseconds request_timeout{10'000};         // one HTTP exchange (connect + write + read)
  std::chrono::milliseconds deadline{120'000};               // the whole delivery, retries and waits included
  unsigned max_attempts = 8;                                 // tries per chunk
  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_max{15'000};
};

// Why `url` cannot be a webhook URL (not http://, https:// -- TLS is left to
// a proxy --, no host, a bad port, userinfo, a fragment), or nullopt. The
// reason never repeats the URL.
[[nodiscard]] std::optional<std::string> webhook_url_problem(std::string_view url);

// Delivers every chunk of `payload` (restart()ed first) to options.url, in
// order, as the protocol above says. Blocks the calling thread for up to
// options.deadline (plus one poll of 50 ms); `stop` (may be null), set by
// another thread, ends it early with error "stopped" -- checked at least
// every 50 ms, during an exchange or a backoff wait alike.
// Holds one chunk ahead of the one in flight, so memory is two chunks.
// outcome.attempts counts every HTTP request tried, outcome.bytes the body
// bytes of chunks answered 2xx; delivered is true only when every chunk was.
[[nodiscard]] DeliveryOutcome deliver_webhook(const WebhookOptions& options, const PushInfo& push,
                                              PayloadSource& payload, const std::atomic<bool>* stop = nullptr);

}  // namespace crowd::activation
