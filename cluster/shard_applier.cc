#include "cluster/shard_applier.h"

#include <utility>

#include "index/system_view.h"
#include "index/tuning.h"

namespace crowd::cluster {

ShardApplier::ShardApplier(Store& store, JetStream& js, StreamSettings stream, std::size_t max_group)
    : store_(store), js_(js), stream_(std::move(stream)), max_group_(max_group) {}

uint64_t ShardApplier::position() const { return store_.view()->system().stream_position(stream_.name).value_or(0); }

std::optional<AppliedMessage> ShardApplier::apply_next(std::chrono::milliseconds timeout, std::string& error) {
  if (auto out = next_outcome()) return out;
  if (!deferred_error_.empty()) {
    error = std::exchange(deferred_error_, {});
    return std::nullopt;
  }
  const uint64_t at = position();
  auto first = read_next(at, timeout, error);
  if (!first) return std::nullopt;
  if (!Index::joins_others(first->batch)) return apply_alone(*first, error);
  // Whatever is already waiting joins it: a replica that is up to date
  // finds nothing and applies the message alone, at no extra wait.
  std::vector<Decoded> group;
  std::size_t ops = first->batch.ops().size();
  group.push_back(std::move(*first));
  while (group.size() < max_group_ && ops < tuning::kGroupOps) {
    std::string read_error;  // the reader was dropped; the next call makes another
    auto more = read_next(group.back().sequence, std::chrono::milliseconds(0), read_error);
    if (!more) break;
    if (!Index::joins_others(more->batch)) {
      held_ = std::move(more);
      break;
    }
    ops += more->batch.ops().size();
    group.push_back(std::move(*more));
  }
  if (!apply_group(group, deferred_error_)) {
    held_.reset();
    reader_.reset();
  }
  // The stall clock counts time spent waiting for messages, not applying
  // them: a group can take seconds, and its end is no sign of a stall.
  last_progress_ = std::chrono::steady_clock::now();
  // The outcomes of what was written first; a failure after them next.
  if (auto out = next_outcome()) return out;
  error = std::exchange(deferred_error_, {});
  return std::nullopt;
}

std::optional<AppliedMessage> ShardApplier::next_outcome() {
  if (outcomes_.empty()) return std::nullopt;
  AppliedMessage out = std::move(outcomes_.front());
  outcomes_.pop_front();
  return out;
}

std::optional<ShardApplier::Decoded> ShardApplier::read_next(uint64_t at, std::chrono::milliseconds timeout,
                                                             std::string& error) {
  if (held_) {
    auto out = std::move(held_);
    held_.reset();
    return out;
  }
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
  Decoded out;
  out.sequence = message->sequence;
  if (!out.batch.decode(message->data)) {
    reader_.reset();
    error = "stream " + stream_.name + " message " + std::to_string(message->sequence) + " is not a write batch";
    return std::nullopt;
  }
  out.batch.set_stream_position(stream_.name, message->sequence);
  return out;
}

std::optional<AppliedMessage> ShardApplier::apply_alone(Decoded& message, std::string& error) {
  AppliedMessage out{message.sequence, WriteStatus::kOk, {}, {}};
  WriteStatus status = store_.write(message.batch, out.result);
  last_progress_ = std::chrono::steady_clock::now();  // as after a group
  if (status == WriteStatus::kConflict) {
    // Refused by the index's state, as on every replica: record the position alone.
    out.status = status;
    out.refusal = out.result.refusal;
    WriteBatch position_only;
    position_only.set_stream_position(stream_.name, message.sequence);
    WriteResult ignored;
    status = store_.write(position_only, ignored);
  }
  if (status != WriteStatus::kOk) {
    held_.reset();
    reader_.reset();
    error = "stream " + stream_.name + " message " + std::to_string(message.sequence) +
            " could not be written: " + store_.last_io_error();
    return std::nullopt;
  }
  return out;
}

bool ShardApplier::apply_group(std::vector<Decoded>& group, std::string& error) {
  std::vector<WriteBatch> batches;
  batches.reserve(group.size());
  for (auto& m : group) batches.push_back(std::move(m.batch));
  std::vector<WriteResult> results(batches.size());
  std::size_t written = 0;
  const WriteStatus status = store_.write_each(batches, results, written);
  if (status == WriteStatus::kNotDurable) {
    error = "stream " + stream_.name + " messages up to " + std::to_string(group.back().sequence) +
            " were applied but not synced: " + store_.last_io_error();
    return false;
  }
  for (std::size_t i = 0; i < written; ++i) {
    outcomes_.push_back(AppliedMessage{group[i].sequence, WriteStatus::kOk, {}, std::move(results[i])});
  }
  // What the group could not take (a full user table, a failed log write)
  // goes alone, which tells the two apart and stops at a failure.
  for (std::size_t i = written; i < group.size(); ++i) {
    Decoded alone{group[i].sequence, std::move(batches[i])};
    auto out = apply_alone(alone, error);
    if (!out) return false;
    outcomes_.push_back(std::move(*out));
  }
  return true;
}

}  // namespace crowd::cluster
