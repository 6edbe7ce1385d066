// The `file` destination: each push becomes two files in a directory that a
// channel's uploader (or an operator) picks up.
//
//   <crowd>.v<version>.p<seq>.<push_id>.<ndjson|csv>    the payload (push_payload.h)
//   <crowd>.v<version>.p<seq>.<push_id>.manifest.json   what it is, and its digest
//
// The manifest is the commit marker: it is renamed into place only after
// the payload is on disk under its final name, so a reader that applies only
// pushes whose manifest exists never sees half a payload. Files are written
// under hidden temporary names (".<name>.<random>.tmp"), synced and renamed,
// so a reader globbing "*.manifest.json" or "*.ndjson" never meets one.
// Mode 0640: group-readable for the uploader, whatever the server's umask.
//
// The manifest, one JSON object:
//   {"push_id", "crowd", "destination", "mode": "full"|"delta", "version",
//    "base_version", "format": "ndjson"|"csv", "adds", "removes", "bytes",
//    "sha256": hex of the payload file, "payload": its file name,
//    "created": "2026-12-07T05:21:50Z"}
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "activation/push_payload.h"

namespace crowd::activation {

// Why `directory` cannot take pushes, or nullopt when it can. A missing
// directory is created (mode 0700, its last component only: a missing parent
// is a configuration mistake, not something to paper over); one that is not
// a directory, or is not writable (probed by creating and removing a hidden
// temporary file), is a problem. The text names the path and says why.
[[nodiscard]] std::optional<std::string> file_directory_problem(const std::string& directory);

// Writes one push: the payload file, then its manifest, each under a
// temporary name, synced, renamed; then the directory synced. Delivering
// the same push again (same push_id) rewrites the same two names, so a retry
// is harmless. The payload is streamed chunk by chunk (payload.restart()
// first) and hashed as it goes; it is never held whole.
//
// On any failure the temporary files are removed and the outcome says
// delivered = false with the path and errno text (never payload bytes). A
// payload already renamed when its manifest then fails is left in place:
// without a manifest no reader applies it, and it may be the committed
// payload of an earlier delivery of the same push. A push_id that is not 32
// lower-case hex characters or an empty crowd name is refused before
// anything is written (the id is part of a file name). An exception from
// the payload source propagates, after the temporary file is removed.
//
// attempts = 1; bytes = payload size; sha256 = hex SHA-256 of the payload.
// The manifest's "created" is `created_unix_seconds`, or the time of
// writing in the first form; a caller wanting a retry's manifest to be
// byte-identical passes the push's own creation time.
[[nodiscard]] DeliveryOutcome deliver_file(const std::string& directory, const PushInfo& push, PayloadSource& payload);
[[nodiscard]] DeliveryOutcome deliver_file(const std::string& directory, const PushInfo& push, PayloadSource& payload,
                                           int64_t created_unix_seconds);

// The two file names a push gets (also used by tests and docs):
// "<crowd>.v<version>.p<seq>.<push_id>.<ndjson|csv>" (version and seq 10 digits, zero-padded) and the
// same stem + ".manifest.json". <crowd> is the crowd name with every byte
// outside [A-Za-z0-9._-] percent-encoded (%XX, upper-case), and a leading
// '.' too (it would hide the file), so any UTF-8 name is one safe file name
// component. The encoded name is cut, at a character boundary, to 128 bytes
// to keep within NAME_MAX (255) with room for the temporary suffix: the
// push_id keeps names unique and the manifest carries the full crowd name.
struct PushFileNames {
  std::string payload, manifest;
};
[[nodiscard]] PushFileNames push_file_names(const PushInfo& push);

}  // namespace crowd::activation
