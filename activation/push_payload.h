// What one push sends, as the destinations see it: the push's identity and
// a source of its lines, produced a chunk at a time so that a push of 50M
// IDs never sits in memory whole.
//
// Lines, in the destination's format (docs/activation.md, "Payloads"):
//   ndjson  {"op":"remove","id":"..."} / {"op":"add","id":"..."}, one a line
//   csv     a header line "op,id", then remove,<id> / add,<id> lines (an ID
//           holding ',' or '"' quoted as RFC 4180 says)
// Every remove comes before every add. A full push has adds only and
// replaces what the receiver holds; a delta's removes and adds apply to it.
// IDs are text in the destination's ID type (digests as lower-case hex,
// uids in decimal), always JSON strings in NDJSON.
#pragma once

#include <cstdint>
#include <string>

namespace crowd::activation {

enum class PayloadFormat : uint8_t { kNdjson, kCsv };

// "ndjson" / "csv"; the MIME type a webhook sends with.
[[nodiscard]] const char* format_name(PayloadFormat f);
[[nodiscard]] const char* content_type(PayloadFormat f);

struct PushInfo {
  std::string push_id;      // 32 lower-case hex characters; the same on every attempt
  std::string crowd;        // the saved crowd's name (UTF-8)
  std::string destination;  // the destination's name
  bool full = false;        // full: replace; else a delta against base_version
  // The push's number among the crowd's pushes: receivers apply a crowd's
  // pushes to one destination in this order (two pushes may carry the same
  // version: the second then only removes erased users).
  uint64_t seq = 0;
  uint64_t version = 0;       // the crowd version the receiver holds once it applies this push
  uint64_t base_version = 0;  // delta: the version it applies to; full: 0
  PayloadFormat format = PayloadFormat::kNdjson;
  uint64_t adds = 0;  // lines of each op the payload holds
  uint64_t removes = 0;
};

// Produces a push's payload, a chunk at a time; restart() begins it again
// for the next attempt, which sends the same lines.
class PayloadSource {
 public:
  virtual ~PayloadSource() = default;
  // Replaces `out` with the next chunk (whole lines, the CSV header in the
  // first); false, with `out` empty, when there is none left.
  virtual bool next(std::string& out) = 0;
  virtual void restart() = 0;
};

// How one delivery attempt (or a webhook's run of retries) ended.
struct DeliveryOutcome {
  bool delivered = false;
  unsigned attempts = 0;  // HTTP requests or file writes tried
  uint64_t bytes = 0;     // payload bytes delivered
  std::string error;      // why not delivered; never holds an ID or a secret
  std::string sha256;     // file destinations: the payload's digest (hex)
};

}  // namespace crowd::activation
