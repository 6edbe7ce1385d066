// The API error for a write the store did not acknowledge (503s), shared by
// every route that writes.
#pragma once

#include <optional>

#include "index/store.h"
#include "server/api_error.h"

namespace crowd::server {

// `result` is the write's; a refused batch's reason is in it.
// `line_of_person` maps a refused person to the request line that named it
// (0: the request has no lines).
[[nodiscard]] inline std::optional<ApiError> write_failure(WriteStatus status, const WriteResult& result,
                                                           uint64_t line_of_person = 0) {
  switch (status) {
    case WriteStatus::kOk: return std::nullopt;
    case WriteStatus::kFull: return unavailable("no user ordinal left (the index holds 2^32-1 users); nothing changed");
    case WriteStatus::kIoError: return unavailable("could not append to the write-ahead log; nothing changed");
    case WriteStatus::kNotDurable:
      return unavailable("the write was applied but the log could not be synced; it may not survive a crash");
    case WriteStatus::kConflict:
      return id_conflict(result.refusal + "; nothing changed",
                         line_of_person != 0 ? std::optional<uint64_t>(line_of_person) : std::nullopt);
  }
  return unavailable("unknown write status");
}

}  // namespace crowd::server
