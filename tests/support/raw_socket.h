// RawSocket: a blocking TCP connection to the server, for requests the
// ordinary client cannot make -- a header sent a byte at a time, a body that
// never comes, a reply left unread -- and read_reply(), which parses one
// reply from it with Beast (RawSocket is a SyncReadStream). For end-to-end
// tests of limits and overload (e2e_limits_test, e2e_memory_test).
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace crowd::test {

// A blocking TCP connection to 127.0.0.1:port. Reads wait at most until the
// deadline (set_deadline); as a SyncReadStream it can feed Beast's parser.
class RawSocket {
 public:
  // `rcvbuf` > 0 sets SO_RCVBUF before connecting (which also turns off the
  // kernel's receive-buffer autotuning for this socket).
  explicit RawSocket(int port, int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    if (rcvbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) close();
  }
  ~RawSocket() { close(); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  [[nodiscard]] bool ok() const { return fd_ >= 0; }
  [[nodiscard]] int receive_buffer() const {
    int v = 0;
    socklen_t len = sizeof v;
    getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &v, &len);
    return v;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Sends all of `bytes`; false once the peer has closed or reset.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Whether the peer closes the connection (end of stream or reset) within
  // `timeout`. Bytes that arrive meanwhile are appended to `received`.
  bool closed_within(std::chrono::milliseconds timeout, std::string* received = nullptr) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
      pollfd p{fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left)));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;  // nothing within the time: still open
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) return true;
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return true;  // reset
      }
      if (received != nullptr) received->append(buf, static_cast<std::size_t>(n));
    }
  }

  void set_deadline(std::chrono::steady_clock::time_point at) { deadline_ = at; }

  // SyncReadStream.
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, boost::beast::error_code& ec) {
    ec = {};
    const boost::asio::mutable_buffer b = *boost::asio::buffer_sequence_begin(buffers);
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now()).count();
      pollfd p{fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left)));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        ec = boost::beast::error_code(errno, boost::system::system_category());
        return 0;
      }
      if (r == 0) {
        ec = boost::beast::error::timeout;
        return 0;
      }
      const auto n = ::recv(fd_, b.data(), b.size(), 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n < 0) {
        ec = boost::beast::error_code(errno, boost::system::system_category());
        return 0;
      }
      if (n == 0) ec = boost::asio::error::eof;
      return static_cast<std::size_t>(n);
    }
  }
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers) {
    boost::beast::error_code ec;
    const auto n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  int fd_ = -1;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::now();
};

struct RawReply {
  int status = 0;  // 0: no complete reply (see error)
  std::string body;
  std::string retry_after;
  bool keep_alive = true;
  boost::beast::error_code error;
};

// Reads one whole reply from `s` within `timeout`.
inline RawReply read_reply(RawSocket& s, boost::beast::flat_buffer& buffer,
                           std::chrono::seconds timeout = std::chrono::seconds(10)) {
  RawReply out;
  boost::beast::http::response_parser<boost::beast::http::string_body> parser;
  parser.body_limit(boost::none);
  s.set_deadline(std::chrono::steady_clock::now() + timeout);
  boost::beast::http::read(s, buffer, parser, out.error);
  if (out.error) return out;
  const auto& m = parser.get();
  out.status = m.result_int();
  out.body = m.body();
  out.retry_after = std::string(m[boost::beast::http::field::retry_after]);
  out.keep_alive = m.keep_alive();
  return out;
}

}  // namespace crowd::test
