// The API error for a write the store did not acknowledge (503s), shared by
// every route that writes.
#pragma once

#include <optional>

#include "index/store.h"
#include "server/api_error.h"

namespace crowd::server {

[[nodiscard]] inline std::optional<ApiError> write_failure(WriteStatus status) {
  switch (status) {
    case WriteStatus::kOk: return std::nullopt;
    case WriteStatus::kFull: return unavailable("no user ordinal left (the index holds 2^32-1 users); nothing changed");
    case WriteStatus::kIoError: return unavailable("could not append to the write-ahead log; nothing changed");
    case WriteStatus::kNotDurable:
      return unavailable("the write was applied but the log could not be synced; it may not survive a crash");
  }
  return unavailable("unknown write status");
}

}  // namespace crowd::server
