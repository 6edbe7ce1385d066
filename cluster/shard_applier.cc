#include "cluster/shard_applier.h"

#include "index/system_view.h"
#include "index/write_batch.h"

namespace crowd::cluster {

ShardApplier::ShardApplier(Store& store, JetStream& js, StreamSettings stream)
    : store_(store), js_(js), stream_(std::move(stream)) {}

uint64_t ShardApplier::position() const { return store_.view()->system().stream_position(stream_.name).value_or(0); }

std::optional<AppliedMessage> ShardApplier::apply_next(std::chrono::milliseconds timeout, std::string& error) {
  const uint64_t at = position();
  if (!reader_) {
    reader_ = js_.read(stream_.subject, at + 1, error);
    if (!reader_) return std::nullopt;
  }
  std::optional<StreamMessage> message;
  do {  // skipping anything already applied (a reader is made from at + 1, so this is a guard)
    message = reader_->next(timeout, error);
    if (!message) {
      if (!error.empty()) {
        reader_.reset();
      } else if (std::chrono::steady_clock::now() - last_progress_ >= kStallCheck) {
        last_progress_ = std::chrono::steady_clock::now();
        const auto last = js_.last_sequence(stream_.name, error);
        if (last && *last > at) {
          reader_.reset();
          error = "stream " + stream_.name + " has messages up to " + std::to_string(*last) +
                  " but its reader stalled after " + std::to_string(at) + ": reading again";
        }
      }
      return std::nullopt;
    }
  } while (message->sequence <= at);
  last_progress_ = std::chrono::steady_clock::now();
  if (message->sequence != at + 1) {
    // The stream lost messages this replica never applied (purged past its
    // position): it must be re-seeded from a snapshot, not go on.
    reader_.reset();
    error = "stream " + stream_.name + " jumps from " + std::to_string(at) + " to " +
            std::to_string(message->sequence) + ": messages this replica never applied are gone";
    return std::nullopt;
  }
  WriteBatch batch;
  if (!batch.decode(message->data)) {
    reader_.reset();
    error = "stream " + stream_.name + " message " + std::to_string(message->sequence) + " is not a write batch";
    return std::nullopt;
  }
  batch.set_stream_position(stream_.name, message->sequence);
  AppliedMessage out{message->sequence, WriteStatus::kOk, {}, {}};
  WriteResult& result = out.result;
  WriteStatus status = store_.write(batch, result);
  if (status == WriteStatus::kConflict) {
    // Refused by the index's state, as on every replica: record the position alone.
    out.status = status;
    out.refusal = result.refusal;
    WriteBatch position_only;
    position_only.set_stream_position(stream_.name, message->sequence);
    WriteResult ignored;
    status = store_.write(position_only, ignored);
  }
  if (status != WriteStatus::kOk) {
    reader_.reset();
    error = "stream " + stream_.name + " message " + std::to_string(message->sequence) +
            " could not be written: " + store_.last_io_error();
    return std::nullopt;
  }
  return out;
}

}  // namespace crowd::cluster
