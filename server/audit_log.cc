#include "server/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <simdjson.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>

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

}  // namespace

std::unique_ptr<AuditLog> AuditLog::open(const std::string& path, std::string& error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot open --audit-log " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<AuditLog>(new AuditLog(fd));
}

AuditLog::AuditLog(int fd) : fd_(fd), syncer_([this] { sync_loop(); }) {}

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
  out.reserve(160 + e.query.size());
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
    w.string(valid_utf8(e.query));
  }
  w.raw(",").key("ids").number(e.ids).raw(",").key("users").number(e.users).raw("}\n");
  return out;
}

bool AuditLog::append(const AuditEntry& e, std::string& error) {
  const std::string text = line(e, utc_millis());
  // One write: with O_APPEND the kernel places it whole at the end.
  const ssize_t n = ::write(fd_, text.data(), text.size());
  if (n != static_cast<ssize_t>(text.size())) {
    error = n < 0 ? std::strerror(errno) : "short write";
    return false;
  }
  {
    const std::lock_guard lock(mu_);
    dirty_ = true;
  }
  return true;
}

void AuditLog::sync_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
    if (!dirty_) continue;
    dirty_ = false;
    lock.unlock();  // never hold the lock across the sync
    ::fdatasync(fd_);
    lock.lock();
  }
}

}  // namespace crowd::server
