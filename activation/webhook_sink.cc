#include "activation/webhook_sink.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <random>
#include <thread>

namespace crowd::activation {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using Request = http::request<http::string_body>;
using std::chrono::milliseconds;

// How often a blocked delivery looks at `stop` (the header promises 50 ms).
constexpr milliseconds kStopPoll{50};
// The answer's body is read so the connection ends cleanly, then dropped
// unseen: only the status and Retry-After matter, and a body may hold
// anything. A bigger body ends the read; the status is known by then.
constexpr std::uint64_t kAnswerBodyLimit = 64 * 1024;
// 2^20 backoff doublings outgrow any sensible backoff_max; more would overflow.
constexpr unsigned kMaxDoublings = 20;

bool is_set(const std::atomic<bool>* stop) { return stop != nullptr && stop->load(std::memory_order_relaxed); }

// Where the requests go, taken apart once per delivery.
struct Destination {
  std::string host;        // for the resolver: a name, or an address without brackets
  std::string port;        // decimal; "80" when the URL has none
  std::string host_field;  // the Host header: host[:port] as the URL writes it
  std::string target;      // the path (at least "/") and the query
};

Destination destination_of(std::string_view url) {
  const auto u = boost::urls::parse_uri(url).value();  // webhook_url_problem() accepted it
  Destination d;
  d.host = u.host_address();
  d.port = u.has_port() ? std::string(u.port()) : std::string("80");
  d.host_field = std::string(u.encoded_host_and_port());
  d.target = u.encoded_path().empty() ? std::string("/") : std::string(u.encoded_path());
  if (u.has_query()) d.target += "?" + std::string(u.encoded_query());
  return d;
}

bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) != 0 || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A CR or LF in an extra header would smuggle more headers into the request:
// refused before anything is sent, naming only the header's position (its
// value may be a secret).
std::optional<std::string> extra_header_problem(const std::vector<std::pair<std::string, std::string>>& headers) {
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const auto& [name, value] = headers[i];
    const bool good_name = !name.empty() && std::all_of(name.begin(), name.end(), is_token_char);
    const bool good_value = value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
    if (!good_name || !good_value) return "extra header " + std::to_string(i + 1) + " is malformed";
  }
  return std::nullopt;
}

std::string percent_encoded(const std::string& text) {
  return boost::urls::encode(text, boost::urls::unreserved_chars);
}

Request chunk_request(const Destination& to, const WebhookOptions& options, const PushInfo& push, unsigned k, bool last,
                      std::string body) {
  Request request{http::verb::post, to.target, 11};
  request.set(http::field::content_type, content_type(push.format));
  request.set("Idempotency-Key", push.push_id + "-" + std::to_string(k));
  request.set("X-Crowd-Push", push.push_id);
  request.set("X-Crowd-Chunk", std::to_string(k));
  request.set("X-Crowd-Last", last ? "1" : "0");
  request.set("X-Crowd-Mode", push.full ? "full" : "delta");
  request.set("X-Crowd-Version", std::to_string(push.version));
  request.set("X-Crowd-Base-Version", std::to_string(push.base_version));
  request.set("X-Crowd-Seq", std::to_string(push.seq));
  request.set("X-Crowd-Crowd", percent_encoded(push.crowd));
  request.set("X-Crowd-Destination", percent_encoded(push.destination));
  request.set(http::field::user_agent, "crowd");
  request.set(http::field::host, to.host_field);
  // One connection per request (see Delivery): say so, so the receiver does
  // not hold it open for another.
  request.set(http::field::connection, "close");
  for (const auto& [name, value] : options.headers) request.set(name, value);
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

// How one HTTP exchange ended.
struct Answer {
  unsigned status = 0;  // 0: none came (the connection failed or timed out)
  std::string failure;  // with status 0: what happened, in words safe to show
  std::optional<milliseconds> retry_after;
  bool stopped = false;  // `stop` was set meanwhile
};

std::string failure_words(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  if (ec == net::error::connection_refused) return "connection refused";
  if (ec == net::error::host_not_found || ec == net::error::host_not_found_try_again) return "host not found";
  if (ec == net::error::connection_reset || ec == net::error::eof || ec == http::error::end_of_stream) {
    return "connection closed without an answer";
  }
  return "network error (" + ec.message() + ")";  // the system's words: no URL, no data
}

// Retry-After in seconds; nullopt for the HTTP-date form, left to the backoff.
std::optional<milliseconds> retry_after_of(std::string_view value) {
  std::uint32_t seconds = 0;
  const char* end = value.data() + value.size();
  const auto [stopped_at, ec] = std::from_chars(value.data(), end, seconds);
  if (ec != std::errc() || stopped_at != end) return std::nullopt;
  return milliseconds(std::int64_t{seconds} * 1000);
}

// One request on a fresh connection: resolve, connect, write, read, chained
// asynchronously because Beast's timeouts (the stream's expiry, which bounds
// connect + write + read together) apply only to asynchronous operations.
// The io_context runs in kStopPoll slices so that `stop` and the resolver
// (which has no expiry of its own) are watched too.
Answer exchange(net::io_context& ioc, const Destination& to, const Request& request, Clock::time_point give_up,
                const std::atomic<bool>* stop) {
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kAnswerBodyLimit);
  beast::error_code failed;
  resolver.async_resolve(to.host, to.port, [&](beast::error_code resolve_ec, const tcp::resolver::results_type& found) {
    if (resolve_ec) {
      failed = resolve_ec;
      return;
    }
    stream.expires_at(give_up);
    stream.async_connect(found, [&](beast::error_code connect_ec, const tcp::endpoint&) {
      if (connect_ec) {
        failed = connect_ec;
        return;
      }
      http::async_write(stream, request, [&](beast::error_code write_ec, std::size_t) {
        if (write_ec) {
          failed = write_ec;
          return;
        }
        http::async_read(stream, buffer, parser, [&](beast::error_code read_ec, std::size_t) { failed = read_ec; });
      });
    });
  });

  Answer answer;
  bool abandoned = false;
  ioc.restart();
  while (!ioc.stopped()) {
    ioc.run_for(kStopPoll);
    if (ioc.stopped() || abandoned) continue;
    answer.stopped = is_set(stop);
    if (answer.stopped || Clock::now() >= give_up) {
      // Cancelled operations still complete (with operation_aborted): the
      // loop runs on until they have, as they refer to this frame.
      abandoned = true;
      resolver.cancel();
      stream.close();
    }
  }
  if (answer.stopped) return answer;
  if (parser.is_header_done()) {
    // The status line counts even if the body then broke off or ran long.
    const auto& head = parser.get();
    answer.status = head.result_int();
    if (answer.status == 429 || answer.status == 503) {
      const auto found = head.find(http::field::retry_after);
      if (found != head.end()) answer.retry_after = retry_after_of(found->value());
    }
    return answer;
  }
  answer.failure = abandoned ? "timed out" : failure_words(failed);
  return answer;
}

bool is_retryable(unsigned status) {
  return status == 408 || status == 425 || status == 429 || (status >= 500 && status <= 599);
}

// "400 Bad Request", in the standard's words, never the receiver's own.
std::string status_words(unsigned status) {
  const auto known = http::int_to_status(status);
  if (known == http::status::unknown) return std::to_string(status);
  return std::to_string(status) + " " + std::string(http::obsolete_reason(known));
}

std::string seconds_words(milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  char text[32];
  std::snprintf(text, sizeof text, "%.3g s", static_cast<double>(d.count()) / 1000.0);
  return text;
}

// Sleeps until `until`, looking at `stop` every kStopPoll; false if stopped.
bool wait_until(Clock::time_point until, const std::atomic<bool>* stop) {
  while (!is_set(stop)) {
    const auto now = Clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(std::min<Clock::duration>(until - now, kStopPoll));
  }
  return false;
}

// One delivery's fixed context and its running count of tries. A fresh
// connection per request: chunks are large, so a handshake costs little
// beside one, and no request ever meets a kept-alive connection the receiver
// has meanwhile closed (which would cost a try, or a guess about whether the
// request got there).
class Delivery {
 public:
  Delivery(const WebhookOptions& options, const std::atomic<bool>* stop)
      : options_(options),
        to_(destination_of(options.url)),
        deadline_(Clock::now() + options.deadline),
        stop_(stop),
        jitter_(std::random_device{}()) {}

  // Sends chunk k until it is answered 2xx (nullopt), or returns why not.
  std::optional<std::string> send(const Request& request, unsigned k) {
    std::string last_failure;
    for (unsigned tries = 1; tries <= options_.max_attempts; ++tries) {
      if (is_set(stop_)) return "stopped";
      const auto now = Clock::now();
      if (now >= deadline_) return deadline_passed(k);
      ++attempts_;
      const Answer answer = exchange(ioc_, to_, request, std::min(deadline_, now + options_.request_timeout), stop_);
      if (answer.stopped) return "stopped";
      if (answer.status >= 200 && answer.status <= 299) return std::nullopt;
      if (answer.status != 0 && !is_retryable(answer.status)) {
        return "receiver refused chunk " + std::to_string(k) + ": HTTP " + status_words(answer.status);
      }
      last_failure = answer.status == 0 ? answer.failure : "HTTP " + status_words(answer.status);
      if (tries == options_.max_attempts) break;
      const milliseconds pause =
          answer.retry_after ? std::min(*answer.retry_after, options_.backoff_max) : backoff(tries);
      // A try that could only start after the deadline will never be made.
      if (Clock::now() + pause >= deadline_) return deadline_passed(k);
      if (!wait_until(Clock::now() + pause, stop_)) return "stopped";
    }
    return "chunk " + std::to_string(k) + " of push: " + last_failure + " after " +
           std::to_string(options_.max_attempts) + " attempts";
  }

  [[nodiscard]] unsigned attempts() const { return attempts_; }
  [[nodiscard]] const Destination& destination() const { return to_; }

 private:
  // Full jitter: uniform in [0, min(backoff_max, backoff_initial * 2^(tries-1))],
  // so that many senders failing together do not retry together.
  milliseconds backoff(unsigned tries) {
    const auto doublings = std::min(tries - 1, kMaxDoublings);
    const auto grown = std::max<std::int64_t>(options_.backoff_initial.count(), 0) << doublings;
    const auto cap = std::clamp<std::int64_t>(grown, 0, std::max<std::int64_t>(options_.backoff_max.count(), 0));
    return milliseconds(std::uniform_int_distribution<std::int64_t>(0, cap)(jitter_));
  }

  std::string deadline_passed(unsigned k) const {
    return "deadline of " + seconds_words(options_.deadline) + " passed at chunk " + std::to_string(k);
  }

  const WebhookOptions& options_;
  const Destination to_;
  const Clock::time_point deadline_;
  const std::atomic<bool>* stop_;
  net::io_context ioc_;
  std::mt19937_64 jitter_;
  unsigned attempts_ = 0;
};

// 1 to 65535, in decimal. Not port_number(): Boost 1.81 wraps 99999 into a
// 16-bit number rather than reporting it unrepresentable.
bool is_port(std::string_view digits) {
  std::uint32_t port = 0;
  const char* end = digits.data() + digits.size();
  const auto [stopped_at, ec] = std::from_chars(digits.data(), end, port);
  return ec == std::errc() && stopped_at == end && port >= 1 && port <= 65535;
}

}  // namespace

std::optional<std::string> webhook_url_problem(std::string_view url) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return "not an absolute URL";
  const auto& u = *parsed;
  if (u.scheme_id() == boost::urls::scheme::https) {
    return "https:// is not supported: TLS is left to a proxy: give the proxy's http:// address";
  }
  if (u.scheme_id() != boost::urls::scheme::http) return "only http:// URLs are supported";
  if (u.has_userinfo()) return "userinfo (user:password@) is not allowed: give credentials in a header";
  if (u.has_fragment()) return "a fragment (#...) is not allowed";
  if (u.encoded_host().empty()) return "no host";
  if (u.has_port() && !is_port(u.port())) return "bad port";
  return std::nullopt;
}

DeliveryOutcome deliver_webhook(const WebhookOptions& options, const PushInfo& push, PayloadSource& payload,
                                const std::atomic<bool>* stop) {
  DeliveryOutcome outcome;
  if (auto problem = webhook_url_problem(options.url)) {
    outcome.error = "webhook URL: " + *problem;
    return outcome;
  }
  if (auto problem = extra_header_problem(options.headers)) {
    outcome.error = *problem;
    return outcome;
  }
  if (options.max_attempts == 0) {
    outcome.error = "max_attempts must be at least 1";
    return outcome;
  }
  Delivery delivery(options, stop);
  // One chunk is pulled ahead, so the one sent knows whether it is the last.
  // An empty payload still makes one (empty) chunk: the receiver must learn
  // the version.
  payload.restart();
  std::string chunk;
  std::string upcoming;
  bool more = payload.next(chunk) && payload.next(upcoming);
  for (unsigned k = 1;; ++k) {
    const Request request = chunk_request(delivery.destination(), options, push, k, !more, std::move(chunk));
    const auto failure = delivery.send(request, k);
    outcome.attempts = delivery.attempts();
    if (failure) {
      outcome.error = *failure;
      return outcome;
    }
    outcome.bytes += request.body().size();
    if (!more) break;
    chunk.swap(upcoming);
    more = payload.next(upcoming);
  }
  outcome.delivered = true;
  return outcome;
}

}  // namespace crowd::activation
