#include "server/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <simdjson.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>

#include "identity/digest.h"
#include "server/json_writer.h"

namespace crowd::server {
namespace {

// "2026-11-23T07:12:00.123Z"
std::string utc_millis() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm t{};
  gmtime_r(&seconds, &t);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(millis));
  return buf;
}

// Query text that failed to parse may be any bytes; the log stays valid JSON.
std::string valid_utf8(std::string_view s) {
  if (simdjson::validate_utf8(s.data(), s.size())) return std::string(s);
  std::string out;
  for (const char c : s) out.push_back(static_cast<unsigned char>(c) < 0x80 ? c : '?');
  return out;
}

// At most `max` bytes of `s`, not ending inside a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // s[n] starts the cut-off part
  return s.substr(0, n);
}

int open_for_append(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

}  // namespace

std::unique_ptr<AuditLog> AuditLog::open(const std::string& path, const AuditOptions& options, std::string& error) {
  const int fd = open_for_append(path);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    error = "cannot open --audit-log " + path + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<AuditLog>(new AuditLog(path, options, fd, static_cast<uint64_t>(st.st_size)));
}

AuditLog::AuditLog(std::string path, const AuditOptions& options, int fd, uint64_t size)
    : path_(std::move(path)), options_(options), fd_(fd), size_(size), syncer_([this] { sync_loop(); }) {}

AuditLog::~AuditLog() {
  {
    const std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  syncer_.join();
  ::fdatasync(fd_);
  ::close(fd_);
}

std::string AuditLog::line(const AuditEntry& e, std::string_view time) {
  std::string out;
  const std::string_view kept = utf8_prefix(e.query, kQueryPrefixBytes);
  out.reserve(256 + kept.size());
  JsonWriter w(out);
  w.raw("{").key("time").string(time).raw(",").key("token").string(e.token);
  std::string route(e.method);
  route += ' ';
  route += e.route;
  w.raw(",").key("route").string(valid_utf8(route)).raw(",").key("status").number(e.status);
  w.raw(",").key("query");
  if (e.query.empty()) {
    w.null();
  } else {
    w.string(valid_utf8(kept));
  }
  if (kept.size() < e.query.size()) {
    // Cut: the whole text's length and digest, so it can still be matched.
    w.raw(",").key("query_bytes").number(e.query.size());
    w.raw(",").key("query_sha256").string(identity::sha256_hex(e.query));
  }
  w.raw(",").key("ids").number(e.ids).raw(",").key("users").number(e.users).raw("}\n");
  return out;
}

bool AuditLog::rotate(std::string& error) {
  // FILE.<keep-1> -> FILE.<keep> (replacing the oldest), ..., FILE -> FILE.1;
  // with keep = 0 the full file is simply dropped.
  ::fdatasync(fd_);
  if (options_.keep == 0) {
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
      error = std::string("cannot drop the full audit log: ") + std::strerror(errno);
      return false;
    }
  }
  for (unsigned i = options_.keep; i >= 1; --i) {
    const std::string from = i == 1 ? path_ : path_ + "." + std::to_string(i - 1);
    const std::string to = path_ + "." + std::to_string(i);
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
      error = "cannot rotate the audit log (" + from + " -> " + to + "): " + std::strerror(errno);
      return false;
    }
  }
  const int fd = open_for_append(path_);
  if (fd < 0) {
    error = "cannot open a new audit log after rotating: " + std::string(std::strerror(errno));
    return false;
  }
  ::close(fd_);
  fd_ = fd;
  size_.store(0, std::memory_order_relaxed);
  rotations_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool AuditLog::append(const AuditEntry& e, std::string& error) {
  const std::string text = line(e, utc_millis());
  const auto fail = [&](std::string message) {
    error = std::move(message);
    failing_.store(true, std::memory_order_relaxed);
    write_failures_.fetch_add(1, std::memory_order_relaxed);
    return false;
  };
  const auto crosses = [&] {
    const uint64_t size = size_.load(std::memory_order_relaxed);
    return options_.max_bytes > 0 && size > 0 && size + text.size() > options_.max_bytes;
  };
  if (crosses()) {
    const std::unique_lock alone(rotate_);
    // Another appender may have rotated while this one waited.
    if (crosses() && !rotate(error)) return fail(std::move(error));
  }
  const std::shared_lock shared(rotate_);
  // One write: with O_APPEND the kernel places it whole at the end.
  const ssize_t n = ::write(fd_, text.data(), text.size());
  if (n > 0) size_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
  if (n != static_cast<ssize_t>(text.size())) return fail(n < 0 ? std::strerror(errno) : "short write");
  failing_.store(false, std::memory_order_relaxed);
  {
    const std::lock_guard lock(mu_);
    dirty_ = true;
  }
  return true;
}

AuditLog::Stats AuditLog::stats() const {
  Stats s;
  s.failing = failing_.load(std::memory_order_relaxed);
  s.write_failures = write_failures_.load(std::memory_order_relaxed);
  s.rotations = rotations_.load(std::memory_order_relaxed);
  s.bytes = size_.load(std::memory_order_relaxed);
  return s;
}

void AuditLog::sync_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
    if (!dirty_) continue;
    dirty_ = false;
    lock.unlock();  // never hold mu_ across the sync
    {
      // Shared: appenders go on; a rotation waits for the sync to finish.
      const std::shared_lock shared(rotate_);
      ::fdatasync(fd_);
    }
    lock.lock();
  }
}

}  // namespace crowd::server
