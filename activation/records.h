// Activation's records, as stored (JSON text in index metadata entries,
// keys in record_keys.h) and as the routes show them. Every record decodes
// what encode wrote; decode returns nullopt for anything else, and the
// callers treat such a record as absent (never as a crash).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "activation/push_payload.h"

namespace crowd::activation {

struct Destination {
  enum class Kind : uint8_t { kFile, kWebhook };
  Kind kind = Kind::kFile;
  std::string path;  // kFile: the directory
  std::string url;   // kWebhook
  // kWebhook: extra request headers; secrets, never shown or logged.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string id_type = "uid";
  PayloadFormat format = PayloadFormat::kNdjson;
  uint64_t min_size = 0;           // 0: no floor
  uint64_t max_size = 0;           // 0: no ceiling
  uint64_t timeout_ms = 10'000;    // kWebhook: one request
  uint64_t deadline_ms = 300'000;  // kWebhook: one delivery, retries included
  int64_t created = 0;             // unix seconds
};

[[nodiscard]] std::string encode_destination(const Destination& d);
[[nodiscard]] std::optional<Destination> decode_destination(std::string_view text);

struct VersionEntry {
  uint64_t version = 0;
  int64_t at = 0;  // unix seconds
  uint64_t size = 0;
  uint64_t adds = 0;
  uint64_t removes = 0;
  std::string trigger;  // "put", "refresh", "schedule", "upload"
};

// Where one destination stands with a crowd.
struct DestinationState {
  uint64_t acknowledged = 0;  // the version it holds; 0: none yet
  uint64_t outstanding = 0;   // the seq of the push not yet delivered; 0: none
};

struct CrowdRecord {
  // Settings (PUT /v1/crowds/{name}).
  std::string refresh;                // schedule text (schedule.h); empty: none
  std::optional<int64_t> expires_at;  // unix seconds
  uint32_t holdout_bp = 0;            // basis points, 0..5000
  std::vector<std::string> push_to;   // destinations pushed after a scheduled refresh
  // State.
  uint64_t version = 0;                // the newest version (the crowd's members)
  int64_t last_refresh = 0;            // unix seconds of the newest version
  int64_t retry_at = 0;                // after a failed scheduled refresh: not before
  std::string last_error;              // of the last scheduled refresh, "" when it worked
  bool expired = false;                // expiry handled (pushes cancelled, versions dropped)
  uint64_t next_push = 1;              // seq of the next push
  std::vector<VersionEntry> versions;  // oldest first, at most kVersionHistory
  std::map<std::string, DestinationState> destinations;
  std::vector<uint64_t> pushed_versions;  // versions whose cohorts are recorded, ascending
};

inline constexpr std::size_t kVersionHistory = 100;

[[nodiscard]] std::string encode_crowd_record(const CrowdRecord& c);
[[nodiscard]] std::optional<CrowdRecord> decode_crowd_record(std::string_view text);

struct PushRecord {
  // kRetrying: an attempt failed and the same push will be sent again at
  // next_attempt; a push is never given up (the receiver may hold part of
  // it), only cancelled with its crowd or destination.
  enum class Status : uint8_t { kPending, kRetrying, kDelivered, kCancelled };
  uint64_t seq = 0;
  std::string id;  // 32 hex characters
  std::string destination;
  bool full = false;
  uint64_t version = 0;
  uint64_t base_version = 0;
  Status status = Status::kPending;
  unsigned attempts = 0;  // requests or file writes, every delivery together
  unsigned failures = 0;  // deliveries that failed (the retry delay doubles with each)
  std::string error;
  int64_t created = 0;
  int64_t finished = 0;      // delivered or cancelled; 0: not yet
  int64_t next_attempt = 0;  // a pending push is not tried before this
  std::string trigger;       // "request", "schedule"
  // Of the last attempt: lines of each op, users held out of the push,
  // payload bytes, and for files the payload's SHA-256.
  uint64_t adds = 0;
  uint64_t removes = 0;
  uint64_t held_out = 0;
  uint64_t bytes = 0;
  std::string sha256;
};

[[nodiscard]] const char* status_name(PushRecord::Status s);
[[nodiscard]] std::string encode_push_record(const PushRecord& p);
[[nodiscard]] std::optional<PushRecord> decode_push_record(std::string_view text);

// Push records kept per crowd; older delivered or cancelled ones
// are dropped when a new one is made (an outstanding one never is).
inline constexpr std::size_t kPushHistory = 200;

}  // namespace crowd::activation
