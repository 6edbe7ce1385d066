#include "tests/support/server_process.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace crowd::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

ServerProcess::ServerProcess(std::vector<std::string> args, int timeout_s)
    : ServerProcess(std::move(args), LaunchOptions{timeout_s, {}}) {}

ServerProcess::ServerProcess(std::vector<std::string> args, const LaunchOptions& options) {
  log_path_ = temp_dir("crowdd-log") + "/stderr.log";
  // Everything the child needs is prepared before fork(): between fork and
  // exec only async-signal-safe calls are allowed (other threads of a test
  // may hold the allocator's lock).
  const char* override_binary = std::getenv("CROWD_TEST_CROWDD");
  std::vector<std::string> full = {override_binary != nullptr && *override_binary != '\0'
                                       ? std::string(override_binary)
                                       : std::string(CROWD_BINARY_DIR) + "/crowdd",
                                   "--host", "127.0.0.1", "--port", "0"};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  if (pipe(out) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    const int err = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) dup2(err, STDERR_FILENO);
    close(out[0]);
    for (const auto& l : options.limits) {
      const rlimit lim{static_cast<rlim_t>(l.soft), static_cast<rlim_t>(l.hard)};
      if (setrlimit(l.resource, &lim) != 0) _exit(126);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  // Records how the child ended once it has (it exits when it cannot start).
  auto reaped = [this](int options_flags) {
    int status = 0;
    if (waitpid(pid_, &status, options_flags) != pid_) return false;
    pid_ = -1;
    if (WIFEXITED(status)) exit_status_ = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) exit_status_ = 128 + WTERMSIG(status);
    return true;
  };
  // Read stdout until the "listening on http://127.0.0.1:PORT" line.
  std::string seen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.timeout_s);
  char buf[256];
  bool eof = false;
  while (std::chrono::steady_clock::now() < deadline) {
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(out[0], &fds);
    timeval tv{1, 0};
    if (select(out[0] + 1, &fds, nullptr, nullptr, &tv) <= 0) {
      if (reaped(WNOHANG)) break;
      continue;
    }
    const auto n = read(out[0], buf, sizeof buf);
    if (n <= 0) {
      eof = true;
      break;
    }
    seen.append(buf, static_cast<std::size_t>(n));
    const auto at = seen.find("listening on http://127.0.0.1:");
    if (at != std::string::npos && seen.find('\n', at) != std::string::npos) {
      port_ = std::atoi(seen.c_str() + at + std::string("listening on http://127.0.0.1:").size());
      break;
    }
  }
  close(out[0]);
  if (eof && pid_ > 0) {
    // stdout closed without the line: the child is exiting. Collect its
    // status (a few seconds at most; the destructor kills it otherwise).
    for (int i = 0; i < 500 && !reaped(WNOHANG); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) stop(SIGKILL, 10);
  std::error_code ignored;
  std::filesystem::remove_all(std::filesystem::path(log_path_).parent_path(), ignored);
}

std::string ServerProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int ServerProcess::stop(int signal, int timeout_s) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      port_ = 0;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  port_ = 0;
  return -1;
}

HttpResult ServerProcess::request(const std::string& method, const std::string& target, const std::string& body,
                                  const std::string& content_type,
                                  const std::vector<std::pair<std::string, std::string>>& headers) const {
  HttpConnection connection(port_);
  return connection.request(method, target, body, content_type, headers);
}

// Asynchronous operations run to completion one at a time, so that the
// stream's deadline (tcp_stream::expires_after) applies: Beast's synchronous
// operations have no timeout.
struct HttpConnection::Impl {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  int port = 0;
  std::chrono::seconds timeout;
  bool open = false;

  void run(beast::error_code& ec) {
    ioc.restart();
    ioc.run();
    if (ec) {
      close();
      throw boost::system::system_error(ec);
    }
  }
  void close() {
    beast::error_code ignored;
    stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    stream.close();
    buffer.clear();
    open = false;
  }
};

HttpConnection::HttpConnection(int port, int timeout_s) : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
  impl_->timeout = std::chrono::seconds(timeout_s);
}

HttpConnection::~HttpConnection() {
  if (impl_->open) impl_->close();
}

HttpResult HttpConnection::request(const std::string& method, const std::string& target, const std::string& body,
                                   const std::string& content_type,
                                   const std::vector<std::pair<std::string, std::string>>& headers) {
  Impl& c = *impl_;
  beast::error_code ec;
  if (!c.open) {
    c.stream.expires_after(c.timeout);
    c.stream.async_connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(c.port)),
                           [&ec](beast::error_code e) { ec = e; });
    c.run(ec);
    c.open = true;
  }
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) req.set(name, value);
  if (!body.empty() || method == "POST") {
    if (!content_type.empty()) req.set(http::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
  }
  c.stream.expires_after(c.timeout);
  http::async_write(c.stream, req, [&ec](beast::error_code e, std::size_t) { ec = e; });
  c.run(ec);
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  c.stream.expires_after(c.timeout);
  http::async_read(c.stream, c.buffer, parser, [&ec](beast::error_code e, std::size_t) { ec = e; });
  c.run(ec);
  auto res = parser.release();
  HttpResult out;
  out.status = res.result_int();
  out.chunked = res.chunked();
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    out.headers[name] = std::string(f.value());
  }
  out.body = std::move(res.body());
  if (!res.keep_alive()) c.close();
  return out;
}

std::string url_encode(const std::string& s) { return boost::urls::encode(s, boost::urls::unreserved_chars); }

std::string temp_dir(const std::string& prefix) {
  std::string templ = "/tmp/" + prefix + "-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return templ;
}

uint64_t proc_status_bytes(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1)) * 1024;
  }
  return 0;
}

void SnapshotRacer::run(int port, uint64_t seed) {
  std::mt19937_64 r(seed);
  HttpConnection c(port, 30);
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + r() % 120));
    try {
      const auto res = c.post("/v1/admin/snapshot", "");
      if (res.status != 200) {
        failure = std::to_string(res.status) + " " + res.body;
        return;
      }
      ++taken;
    } catch (const std::exception&) {
      return;  // the server is gone
    }
  }
}

}  // namespace crowd::test
