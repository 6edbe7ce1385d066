// FsyncPolicy: when an acknowledged write is on disk (`--fsync`).
#pragma once

#include <optional>
#include <string_view>

namespace crowd {

enum class FsyncPolicy {
  // Every write waits for an fdatasync of its log record; writes that arrive
  // while a sync runs share the next one.
  kAlways,
  // Group commit: the flusher waits tuning::kGroupCommitWindow after the
  // first unsynced write, then one fdatasync acknowledges everything written
  // meanwhile. As durable as kAlways, with a little more latency per write
  // and far fewer syncs under load.
  kBatch,
  // Acknowledged after write(2): survives a crash of the process, promises
  // nothing across a crash of the machine. The log is synced only on
  // rotation (snapshots) and shutdown.
  kOff,
};

// "always", "batch", "off".
[[nodiscard]] constexpr std::string_view fsync_policy_name(FsyncPolicy p) {
  switch (p) {
    case FsyncPolicy::kAlways:
      return "always";
    case FsyncPolicy::kBatch:
      return "batch";
    case FsyncPolicy::kOff:
      return "off";
  }
  return "?";
}

// The policy named by a `--fsync` value; nullopt for anything else.
[[nodiscard]] constexpr std::optional<FsyncPolicy> parse_fsync_policy(std::string_view s) {
  if (s == "always") return FsyncPolicy::kAlways;
  if (s == "batch") return FsyncPolicy::kBatch;
  if (s == "off") return FsyncPolicy::kOff;
  return std::nullopt;
}

}  // namespace crowd
