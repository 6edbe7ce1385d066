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
// A replica that is behind (catching up after a restart, or under a bulk
// load faster than it applies) takes the messages already waiting as one
// group (Store::write_each): still a log record and an outcome per message,
// but one new view and one sync, so a dense tag is copied once a group
// rather than once a message. Messages with persons or ID types are
// applied alone.
//
// A batch the index refuses (WriteStatus::kConflict: an ID conflict decided
// by state) is refused the same way by every replica; its position is
// still recorded so the stream moves on, and the outcome says so. A
// message that does not decode stops the applier with an error: it is
// never skipped silently.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/jetstream.h"
#include "index/store.h"
#include "index/write_batch.h"

namespace crowd::cluster {

struct AppliedMessage {
  uint64_t sequence = 0;
  WriteStatus status = WriteStatus::kOk;  // kOk or kConflict (refused, position recorded)
  std::string refusal;                    // why, for kConflict
  WriteResult result;                     // what it changed (kOk), as a crowdd's write answers
};

class ShardApplier {
 public:
  // At most this many messages in one group (and tuning::kGroupOps operations).
  static constexpr std::size_t kGroupMessages = 256;

  // Applies `stream` (its name is the position's key, its subject is read),
  // at most `max_group` messages at a time (1: each alone).
  ShardApplier(Store& store, JetStream& js, StreamSettings stream, std::size_t max_group = kGroupMessages);

  // The sequence of the last message the store holds (0: none).
  [[nodiscard]] uint64_t position() const;

  // Applies the next message if one comes within `timeout` (and, with it,
  // those waiting behind it, whose outcomes the next calls return): its
  // outcome, or nullopt (error empty: nothing came; error set: reading or
  // writing failed, and the next call starts reading again from
  // position() + 1).
  //
  // A reader can go silent for good: after a NATS server died, the client
  // may fail to re-create the ordered consumer that lived there and never
  // say so. So after kStallCheck without a message the stream's last
  // sequence is asked for, and a reader that is behind it is replaced.
  [[nodiscard]] std::optional<AppliedMessage> apply_next(std::chrono::milliseconds timeout, std::string& error);

 private:
  struct Decoded {
    uint64_t sequence = 0;
    WriteBatch batch;
  };
  // The next message after position() (the one held back first), decoded
  // and given its position; nullopt as apply_next says.
  [[nodiscard]] std::optional<Decoded> read_next(uint64_t at, std::chrono::milliseconds timeout, std::string& error);
  // One message alone through Store::write: a refusal recorded as its position.
  [[nodiscard]] std::optional<AppliedMessage> apply_alone(Decoded& message, std::string& error);
  // Messages that join others, through Store::write_each; what was not
  // written goes alone. False with `error` when a write failed.
  [[nodiscard]] bool apply_group(std::vector<Decoded>& group, std::string& error);
  // The next outcome of a group not yet returned.
  [[nodiscard]] std::optional<AppliedMessage> next_outcome();

  Store& store_;
  JetStream& js_;
  StreamSettings stream_;
  std::size_t max_group_;
  static constexpr std::chrono::seconds kStallCheck{2};
  std::unique_ptr<JetStream::Reader> reader_;
  std::optional<Decoded> held_;          // read after a group, not joining it
  std::deque<AppliedMessage> outcomes_;  // of a group, not yet returned
  std::string deferred_error_;           // a group's failure, after its outcomes
  std::chrono::steady_clock::time_point last_progress_ = std::chrono::steady_clock::now();
};

}  // namespace crowd::cluster
