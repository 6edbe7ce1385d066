// AuditLog (--audit-log FILE): an append-only record, one JSON object a
// line, of every request to an export or write route -- including the ones
// refused -- so a brand can answer "who pulled which IDs, when":
//
//   {"time":"2026-11-23T07:12:00.123Z","token":"dmp-console","route":"GET /v1/ids",
//    "status":200,"query":"member:brand_x AND ...","ids":52311,"users":0}
//
// `ids` is how many user IDs the answer holds (an export's whole crowd,
// written before the first byte of it is sent), `users` how many users a
// write touched. A deletion is logged without the user's ID: the log must not
// keep what the right to erasure removes.
//
// Each line is one write(2) on an O_APPEND descriptor (lines never
// interleave, even across processes); a background thread fdatasyncs the file
// once a second when lines were added, and the destructor syncs the rest. An
// export whose line cannot be written is refused (503): no unrecorded export.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace crowd::server {

struct AuditEntry {
  std::string_view token;   // the token's name, "-" without --tokens or a valid token
  std::string_view method;  // "GET"
  std::string_view route;   // the path, with a user ID replaced by "{id}"
  unsigned status = 0;
  std::string_view query;   // the query, or empty (written as null)
  uint64_t ids = 0;
  uint64_t users = 0;
};

class AuditLog {
 public:
  // Opens (creating, mode 0600) `path` for appending; null with a message.
  [[nodiscard]] static std::unique_ptr<AuditLog> open(const std::string& path, std::string& error);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one line; false (with the errno text in `error`) when it could
  // not be written whole.
  [[nodiscard]] bool append(const AuditEntry& e, std::string& error);

  // The line append() writes (tests, and the format's one definition).
  [[nodiscard]] static std::string line(const AuditEntry& e, std::string_view time);

 private:
  explicit AuditLog(int fd);
  void sync_loop();

  int fd_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool dirty_ = false;
  bool stopping_ = false;
  std::thread syncer_;
};

}  // namespace crowd::server
