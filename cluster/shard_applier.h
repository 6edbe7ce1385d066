// A shard replica's write side (docs/cluster.md#write-path-jetstream): the
// shard's stream applied to the replica's Store in stream order, exactly
// once, across restarts.
//
// Every message is a WriteBatch encoded as in the write-ahead log. The
// applier adds the message's sequence to the batch (its stream position, a
// metadata entry) and writes it with Store::write: the effects and the
// position go to the log in one record, so after a crash the index and its
// position never disagree, and a restarted replica reads on from the
// position its own log recovered -- nothing applied twice, nothing skipped.
// Replicas of a shard read the same messages in the same order through the
// same Store::write, so they hand out the same ordinals: identical indexes
// with no election of their own.
//
// A batch the index refuses (WriteStatus::kConflict: an ID conflict decided
// by state) is refused the same way by every replica; its position is
// still recorded so the stream moves on, and the outcome says so. A
// message that does not decode stops the applier with an error: it is
// never skipped silently.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cluster/jetstream.h"
#include "index/store.h"

namespace crowd::cluster {

struct AppliedMessage {
  uint64_t sequence = 0;
  WriteStatus status = WriteStatus::kOk;  // kOk or kConflict (refused, position recorded)
  std::string refusal;                    // why, for kConflict
  WriteResult result;                     // what it changed (kOk), as a crowdd's write answers
};

class ShardApplier {
 public:
  // Applies `stream` (its name is the position's key, its subject is read).
  ShardApplier(Store& store, JetStream& js, StreamSettings stream);

  // The sequence of the last message the store holds (0: none).
  [[nodiscard]] uint64_t position() const;

  // Applies the next message if one comes within `timeout`: its outcome, or
  // nullopt (error empty: nothing came; error set: reading or writing failed,
  // and the next call starts reading again from position() + 1).
  //
  // A reader can go silent for good: after a NATS server died, the client
  // may fail to re-create the ordered consumer that lived there and never
  // say so. So after kStallCheck without a message the stream's last
  // sequence is asked for, and a reader that is behind it is replaced.
  [[nodiscard]] std::optional<AppliedMessage> apply_next(std::chrono::milliseconds timeout, std::string& error);

 private:
  Store& store_;
  JetStream& js_;
  StreamSettings stream_;
  static constexpr std::chrono::seconds kStallCheck{2};
  std::unique_ptr<JetStream::Reader> reader_;
  std::chrono::steady_clock::time_point last_progress_ = std::chrono::steady_clock::now();
};

}  // namespace crowd::cluster
