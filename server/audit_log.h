// AuditLog (--audit-log FILE): an append-only record, one JSON object a
// line, of every authenticated request to an export or write route --
// including the ones refused -- so a brand can answer "who pulled which IDs,
// when":
//
//   {"time":"2026-11-23T07:12:00.123Z","token":"dmp-console","route":"GET /v1/ids",
//    "status":200,"query":"member:brand_x AND ...","ids":52311,"users":0}
//
// `ids` is how many user IDs the answer holds (an export's whole crowd,
// written before the first byte of it is sent), `users` how many users a
// write touched. A deletion is logged without the user's ID: the log must not
// keep what the right to erasure removes.
//
// The log must not be a way to fill a disk. So (issue 14):
//  - a request refused before authentication (401) writes no line; Api
//    counts those in /metrics instead;
//  - a line holds at most kQueryPrefixBytes of the query; a longer query is
//    cut at a character boundary and the line adds its length and SHA-256
//    (libcrypto), which an auditor can match against the full text;
//  - the file rotates by size: past max_bytes it becomes FILE.1 (FILE.1
//    becomes FILE.2, ...) and the oldest beyond `keep` is deleted, so the log
//    holds at most (keep + 1) x max_bytes plus one line.
// A line that cannot be written (a full or failing volume) sets the alarm
// (stats().failing, crowd_audit_log_failing in /metrics) until a later line
// is written; Api refuses exports and writes meanwhile (503).
//
// Each line is one write(2) on an O_APPEND descriptor (lines never
// interleave); appenders share a lock that only a rotation takes alone, so
// lines are never serialised behind one another. A background thread
// fdatasyncs the file once a second when lines were added, and the
// destructor syncs the rest.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>

namespace crowd::server {

struct AuditEntry {
  std::string_view token;   // the token's name, "-" without --tokens
  std::string_view method;  // "GET"
  std::string_view route;   // the path, with a user ID replaced by "{id}"
  unsigned status = 0;
  std::string_view query;   // the query, or empty (written as null)
  uint64_t ids = 0;
  uint64_t users = 0;
};

struct AuditOptions {
  // Rotate when the file would grow past this (--audit-max-mb); 0: never.
  uint64_t max_bytes = 64ull << 20;
  // Rotated files kept, FILE.1 (newest) .. FILE.<keep> (--audit-keep).
  unsigned keep = 8;
};

// The query text a line keeps whole; longer ones keep a prefix and a hash.
inline constexpr std::size_t kQueryPrefixBytes = 256;

class AuditLog {
 public:
  // Opens (creating, mode 0600) `path` for appending; null with a message.
  [[nodiscard]] static std::unique_ptr<AuditLog> open(const std::string& path, const AuditOptions& options,
                                                      std::string& error);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one line, rotating first when it would cross max_bytes; false
  // (with the errno text in `error`) when it could not be written whole.
  [[nodiscard]] bool append(const AuditEntry& e, std::string& error);

  // The line append() writes (tests, and the format's one definition).
  [[nodiscard]] static std::string line(const AuditEntry& e, std::string_view time);

  struct Stats {
    bool failing = false;        // the last line could not be written
    uint64_t write_failures = 0; // lines that could not be written, since start
    uint64_t rotations = 0;
    uint64_t bytes = 0;          // in the current file
  };
  [[nodiscard]] Stats stats() const;
  [[nodiscard]] bool failing() const { return failing_.load(std::memory_order_relaxed); }

 private:
  AuditLog(std::string path, const AuditOptions& options, int fd, uint64_t size);
  void sync_loop();
  // With rotate_ held alone: FILE -> FILE.1 -> ... and a fresh FILE.
  bool rotate(std::string& error);

  const std::string path_;
  const AuditOptions options_;
  mutable std::shared_mutex rotate_;  // shared: append, sync; alone: rotate
  int fd_;
  std::atomic<uint64_t> size_;
  std::atomic<bool> failing_{false};
  std::atomic<uint64_t> write_failures_{0};
  std::atomic<uint64_t> rotations_{0};

  std::mutex mu_;
  std::condition_variable wake_;
  bool dirty_ = false;
  bool stopping_ = false;
  std::thread syncer_;
};

}  // namespace crowd::server
