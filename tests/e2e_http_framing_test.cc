// End-to-end tests of HTTP/1.1 message framing against the real crowdd
// (issue 14, item 8a; RFC 9112 §3.2, §6.1, §6.3): raw bytes over a socket,
// the answer read back whole until the server closes. The expectations are
// the RFC's, not the server's code: a Transfer-Encoding that does not end in
// chunked cannot frame a request (400, close), whatever Content-Length says;
// codings crowd cannot decode are 501; an HTTP/1.1 request needs one Host.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>

#include "tests/support/server_process.h"

namespace crowd::test {
namespace {

using Clock = std::chrono::steady_clock;

// Sends `bytes` on a fresh connection and returns everything the server
// sends back until it closes (or `wait` passes; `closed` says which).
std::string exchange(int port, std::string_view bytes, bool& closed,
                     std::chrono::milliseconds wait = std::chrono::milliseconds(3000)) {
  closed = false;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    while (!bytes.empty()) {
      const auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) break;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    const auto until = Clock::now() + wait;
    char buf[4096];
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
      if (left <= 0) break;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        closed = true;
        break;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

// The status of the first response in `raw` ("HTTP/1.1 400 ..."), 0 if none.
int first_status(const std::string& raw) {
  if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12) return 0;
  return std::stoi(raw.substr(9, 3));
}
int responses(const std::string& raw) {
  int n = 0;
  for (std::size_t at = raw.find("HTTP/1."); at != std::string::npos; at = raw.find("HTTP/1.", at + 1)) ++n;
  return n;
}

class Framing : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{"--threads", "2"});
    ASSERT_TRUE(server_->ok()) << server_->log();
    ASSERT_EQ(server_->post("/v1/ingest", "{\"id\": 1, \"tags\": [\"a\"]}\n", "application/x-ndjson").status, 200);
  }
  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->stop(), 0) << server_->log();
    }
  }
  std::unique_ptr<ServerProcess> server_;
};

// A second request hidden in what Content-Length frames as the body, and
// what the chunked framing would read as the next request: the smuggling
// shape. It must be answered once, with 400, and never reach /healthz.
const std::string kSmuggled = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

TEST_F(Framing, ATransferEncodingNotEndingInChunkedIsRefusedEvenWithAContentLength) {
  const std::string body = "0\r\n\r\n" + kSmuggled;
  for (const std::string te : {"chunked, identity", "identity", "gzip", "x-unknown", "chunked, gzip"}) {
    bool closed = false;
    const std::string request = "POST /v1/count HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                "Transfer-Encoding: " + te + "\r\nContent-Length: " + std::to_string(body.size()) +
                                "\r\n\r\n" + body;
    const auto raw = exchange(server_->port(), request, closed);
    EXPECT_EQ(first_status(raw), 400) << te << "\n" << raw;
    EXPECT_EQ(responses(raw), 1) << te << "\n" << raw;
    EXPECT_TRUE(closed) << te;
  }
}

TEST_F(Framing, AnUnknownTransferCodingIsNeverReadAsNoBody) {
  // Without Content-Length: before, "no body", and the bytes after the
  // header were served as the next request.
  for (const std::string te : {"x-unknown", "identity", "gzip"}) {
    bool closed = false;
    const auto raw = exchange(server_->port(),
                              "POST /v1/count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te + "\r\n\r\n" + kSmuggled,
                              closed);
    EXPECT_EQ(first_status(raw), 400) << te << "\n" << raw;
    EXPECT_EQ(responses(raw), 1) << te << "\n" << raw;
    EXPECT_TRUE(closed) << te;
  }
}

TEST_F(Framing, CodingsBeforeChunkedAre501) {
  // gzip, chunked: the chunks are read, but the gzip inside is not
  // decoded by crowd: 501, never an attempt to read gzip as JSON.
  const std::string body = R"({"q": "a"})";
  for (const std::string te : {"gzip, chunked", "deflate,chunked", "x-unknown, chunked"}) {
    bool closed = false;
    char size[16];
    std::snprintf(size, sizeof size, "%zx", body.size());
    const auto raw = exchange(server_->port(),
                              "POST /v1/count HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              "Transfer-Encoding: " + te + "\r\n\r\n" + size + "\r\n" + body + "\r\n0\r\n\r\n",
                              closed);
    EXPECT_EQ(first_status(raw), 501) << te << "\n" << raw;
    EXPECT_NE(raw.find("not_implemented"), std::string::npos) << raw;
    EXPECT_TRUE(closed) << te;
  }
}

TEST_F(Framing, ChunkedAloneStillWorksOnAKeptAliveConnection) {
  const std::string body = R"({"q": "a"})";
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  const std::string one = "POST /v1/count HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n" + std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
  bool closed = false;
  const auto raw = exchange(server_->port(), one + one + "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                            closed);
  EXPECT_EQ(first_status(raw), 200) << raw;
  EXPECT_EQ(responses(raw), 3) << raw;
  EXPECT_NE(raw.find("\"count\":1"), std::string::npos) << raw;
}

TEST_F(Framing, AnHttp11RequestNeedsExactlyOneHost) {
  bool closed = false;
  auto raw = exchange(server_->port(), "GET /healthz HTTP/1.1\r\n\r\n", closed);
  EXPECT_EQ(first_status(raw), 400) << raw;
  EXPECT_NE(raw.find("Host"), std::string::npos) << raw;
  EXPECT_TRUE(closed);
  raw = exchange(server_->port(), "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", closed);
  EXPECT_EQ(first_status(raw), 400) << raw;
  // HTTP/1.0 has no Host requirement.
  raw = exchange(server_->port(), "GET /healthz HTTP/1.0\r\n\r\n", closed);
  EXPECT_EQ(first_status(raw), 200) << raw;
  // Transfer-Encoding in HTTP/1.0 is refused (RFC 9112 §6.1).
  raw = exchange(server_->port(), "POST /v1/count HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", closed);
  EXPECT_EQ(first_status(raw), 400) << raw;
}

}  // namespace
}  // namespace crowd::test
