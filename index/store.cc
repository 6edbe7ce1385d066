#include "index/store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/unordered/unordered_flat_set.hpp>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "index/tuning.h"
#include "index/wal.h"
#include "index/wal_format.h"
#include "index/wal_recovery.h"

namespace crowd {
namespace {

// Whether a batch holds only users' tag operations (add, remove, erase).
bool tag_ops_only(const WriteBatch& batch) {
  if (!batch.persons().empty() || !batch.spaces().empty()) return false;
  return std::all_of(batch.ops().begin(), batch.ops().end(), [](const WriteBatch::Op& op) {
    return op.kind == WriteBatch::Kind::kAdd || op.kind == WriteBatch::Kind::kRemove ||
           op.kind == WriteBatch::Kind::kErase;
  });
}

// Appends `from` (tag operations only) to `into`. Replay applies consecutive
// such records as one batch: Index::apply runs a batch's tag operations in
// order, exactly as it runs consecutive batches, and creates tags and hands
// out ordinals in order of the operations, so the result — TagIds and
// ordinals included — is the same as applying the records one by one, at a
// fraction of the cost. Records with other operations (values apply after a
// batch's tag operations) are applied alone, as they were written.
void concatenate(WriteBatch& into, const WriteBatch& from) {
  std::vector<uint32_t> local(from.names().size());
  for (std::size_t i = 0; i < local.size(); ++i) local[i] = into.intern(from.names()[i]);
  std::vector<uint32_t> tags;
  for (const auto& op : from.ops()) {
    tags.clear();
    for (const uint32_t t : from.tags_of(op)) tags.push_back(local[t]);
    switch (op.kind) {
      case WriteBatch::Kind::kAdd:
        into.add(op.user, tags);
        break;
      case WriteBatch::Kind::kRemove:
        into.remove(op.user, tags);
        break;
      case WriteBatch::Kind::kErase:
        into.erase(op.user);
        break;
      default:
        break;  // not concatenated (tag_ops_only)
    }
  }
}

uint64_t millis_since(std::chrono::steady_clock::time_point t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t).count());
}

}  // namespace

Store::Store(StoreOptions options) : options_(std::move(options)) {}

Store::~Store() = default;

std::unique_ptr<Store> Store::open(const StoreOptions& options, std::string& error, std::string* notes) {
  std::unique_ptr<Store> store(new Store(options));
  if (!store->persistent()) return store;
  std::string found;
  bool needs_snapshot = false;
  if (!store->recover(found, needs_snapshot, error)) return nullptr;
  if (needs_snapshot) {
    // --accept-log-loss skipped a gap: the snapshot makes the index as
    // restored the new starting point, so the next start finds a whole log
    // (the damaged segments were kept aside by recovery).
    SnapshotInfo info;
    if (!store->snapshot(info, error)) {
      error = "after accepting the log loss, the snapshot that makes it final failed: " + error;
      return nullptr;
    }
    found += "wrote " + info.path + " (" + std::to_string(info.bytes) +
             " bytes): the restored index is the new starting point\n";
  }
  if (notes != nullptr) *notes = std::move(found);
  return store;
}

bool Store::lock_directory(std::string& error) {
  const std::string path = options_.data_dir + "/LOCK";
  if (!File::open(path, O_RDWR | O_CREAT, 0600, lock_file_, error)) return false;
  if (::flock(lock_file_.fd(), LOCK_EX | LOCK_NB) != 0) {
    error = errno == EWOULDBLOCK
                ? options_.data_dir + ": data directory in use by another process (" + path + " is locked)"
                : io_error_message(path, "flock", errno);
    return false;
  }
  return true;
}

bool Store::recover(std::string& notes, bool& needs_snapshot, std::string& error) {
  const std::string& dir = options_.data_dir;
  auto note = [&notes](const std::string& line) {
    notes += line;
    notes += '\n';
  };
  std::error_code ec;
  // A new data directory is the owner's only (0700): it holds every user's
  // tags. An existing one keeps the mode its owner gave it.
  if (std::filesystem::create_directories(dir, ec) && !ec) {
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  }
  if (ec) {
    error = dir + ": cannot create the data directory: " + ec.message();
    return false;
  }
  if (!lock_directory(error)) return false;

  // A snapshot that was being written when the process died.
  const std::string tmp = dir + "/" + std::string(kSnapshotTempFileName);
  if (::unlink(tmp.c_str()) == 0) note("removed an unfinished snapshot (" + tmp + ")");

  const auto started = std::chrono::steady_clock::now();
  const std::string snapshot_path = dir + "/" + std::string(kSnapshotFileName);
  const bool have_snapshot = std::filesystem::exists(snapshot_path, ec);
  if (ec) {
    error = snapshot_path + ": " + ec.message();
    return false;
  }
  LogStart log_start;
  if (have_snapshot) {
    SnapshotContents snap;
    if (!read_snapshot(snapshot_path, snap, error)) return false;
    log_start.have_snapshot = true;
    log_start.first_seq = snap.first_live_segment;
    log_start.lsn_known = snap.lsn_known;
    log_start.covered_lsn = snap.covered_lsn;
    log_start.snapshot_path = snapshot_path;
    for (const auto& n : snap.notes) note(snapshot_path + ": " + n);
    const auto users = snap.universe.cardinality();
    const auto tags = snap.tags.size();
    index_.restore(std::move(snap.users), std::move(snap.dictionary), std::move(snap.tags), std::move(snap.universe),
                   std::move(snap.entries), std::move(snap.spaces), std::move(snap.uidless));
    note("restored " + snapshot_path + ": " + std::to_string(users) + " users, " + std::to_string(tags) + " tags in " +
         std::to_string(millis_since(started)) + " ms");
  }

  const auto replay_started = std::chrono::steady_clock::now();
  // Consecutive records that join others are applied as one group;
  // consecutive tag-op-only records within it are first concatenated.
  std::vector<WriteBatch> group;
  std::size_t group_ops = 0;
  std::vector<WriteResult> ignored;
  auto apply_group = [&](std::string& why) {
    if (group.empty()) return true;
    ignored.resize(group.size());
    if (index_.apply_each(group, ignored) != group.size()) {
      why = "the user table filled up while replaying the log";
      return false;
    }
    group.clear();
    group_ops = 0;
    return true;
  };
  const RecordSink sink = [&](std::string_view payload, uint64_t, std::string& why) {
    WriteBatch batch;
    if (!batch.decode(payload)) {
      why = "the record's checksum is right but it does not decode as a write batch";
      return false;
    }
    if (!Index::joins_others(batch)) {
      if (!apply_group(why)) return false;
      WriteResult applied;
      if (!index_.apply(batch, applied)) {
        // A refused batch is never logged (Store::write checks first).
        why = applied.refusal.empty() ? "the user table filled up while replaying the log"
                                      : "a logged batch is refused on replay: " + applied.refusal;
        return false;
      }
      return true;
    }
    group_ops += batch.ops().size();
    if (tag_ops_only(batch) && !group.empty() && tag_ops_only(group.back()) &&
        group.back().ops().size() < tuning::kReplayBatchOps) {
      concatenate(group.back(), batch);
    } else {
      group.push_back(std::move(batch));
    }
    return group_ops < tuning::kGroupOps || apply_group(why);
  };
  LogRecovery log;
  if (!recover_log(dir, log_start, options_.accept_log_loss, sink, log, error)) return false;
  if (!apply_group(error)) return false;
  for (const auto& n : log.notes) note(n);
  for (const auto& n : log.lost) note("LOG LOSS ACCEPTED (--accept-log-loss): " + n);
  needs_snapshot = log.needs_snapshot;
  if (log.records > 0) {
    note("replayed " + std::to_string(log.records) + " log records from " + std::to_string(log.live.size()) +
         " segment(s) in " + std::to_string(millis_since(replay_started)) + " ms");
  }

  wal_ = Wal::start(dir, log.next_seq, log.next_lsn, options_.fsync, std::move(log.live), error);
  return wal_ != nullptr;
}

bool Store::has_room(const WriteBatch& batch) {
  const uint64_t used = index_.users().size();
  if (used + batch.ops().size() + batch.persons().size() <= UINT32_MAX) return true;
  if (!batch.persons().empty()) return false;  // rather refused than counted, 4 billion users in
  // Within a batch's size of 2^32 users: count the new ones exactly.
  boost::unordered_flat_set<UserId> fresh;
  for (const auto& op : batch.ops()) {
    const bool adds_user = op.kind == WriteBatch::Kind::kAdd || op.kind == WriteBatch::Kind::kSetValue;
    if (adds_user && !index_.users().find(op.user)) fresh.insert(op.user);
  }
  return used + fresh.size() <= UINT32_MAX;
}

void Store::find_uids(std::span<const UserId> uids, std::span<std::optional<Ordinal>> out) {
  std::lock_guard lock(writer_);
  for (std::size_t i = 0; i < uids.size(); ++i) out[i] = index_.users().find(uids[i]);
}

bool Store::encode_record(const WriteBatch& batch, std::string& record) {
  const std::size_t start = wal::begin_record(record);
  batch.encode(record);
  if (record.size() - wal::kRecordHeaderBytes > tuning::kMaxLogRecordBytes) {
    note_io_error("a write batch of " + std::to_string(record.size()) + " bytes exceeds the log record limit of " +
                  std::to_string(tuning::kMaxLogRecordBytes));
    return false;
  }
  wal::seal_record(record, start);
  return true;
}

WriteStatus Store::write(const WriteBatch& batch, WriteResult& result) {
  if (batch.empty()) {
    result = WriteResult();
    return WriteStatus::kOk;
  }
  if (!wal_) {
    std::lock_guard lock(writer_);
    if (index_.apply(batch, result)) return WriteStatus::kOk;
    return result.refusal.empty() ? WriteStatus::kFull : WriteStatus::kConflict;
  }

  // Encoded before taking the lock: it needs nothing but the batch, so
  // concurrent writers encode in parallel.
  std::string record;
  if (!encode_record(batch, record)) return WriteStatus::kIoError;

  uint64_t ticket = 0;
  {
    std::lock_guard lock(writer_);
    if (!has_room(batch)) return WriteStatus::kFull;
    // Planned once: the dry run's plan is the apply's (the lock is held).
    PersonPlan plan;
    if (!index_.check(batch, result, &plan)) return WriteStatus::kConflict;
    if (index_.erases_nobody(batch, &plan)) {
      result = WriteResult();
      result.users = batch.ops().size();
      return WriteStatus::kOk;
    }
    std::string error;
    if (!wal_->append(record, ticket, error)) {
      note_io_error(error);
      return WriteStatus::kIoError;
    }
    // Cannot fail: has_room() and check() covered both ways it can.
    const bool applied = index_.apply(batch, result, &plan);
    (void)applied;
  }
  if (!wal_->wait_durable(ticket)) {
    note_io_error("a write was applied but its log record could not be synced (see the log's earlier failure)");
    return WriteStatus::kNotDurable;
  }
  return WriteStatus::kOk;
}

WriteStatus Store::write_each(std::span<const WriteBatch> batches, std::span<WriteResult> results,
                              std::size_t& written) {
  written = 0;
  for (auto& r : results) r = WriteResult();
  std::vector<std::string> records(batches.size());
  uint64_t ops = 0;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    if (!Index::joins_others(batches[i])) {
      results[i].refusal = "a batch with persons, ID spaces or ID types is written alone";
      batches = batches.first(i);
      break;
    }
    ops += batches[i].ops().size();
    if (wal_ && !encode_record(batches[i], records[i])) {
      batches = batches.first(i);
      break;
    }
  }
  const auto why_stopped = [&] {
    if (written == records.size()) return WriteStatus::kOk;
    return results[written].refusal.empty() ? WriteStatus::kIoError : WriteStatus::kConflict;
  };
  uint64_t ticket = 0;
  {
    std::lock_guard lock(writer_);
    // Every op a new user: more than enough room, counted without a lookup.
    if (index_.users().size() + ops > UINT32_MAX) return WriteStatus::kFull;
    std::size_t logged = batches.size();
    if (wal_) {
      std::string error;
      for (logged = 0; logged < batches.size(); ++logged) {
        if (!wal_->append(records[logged], ticket, error)) {
          note_io_error(error);
          break;
        }
      }
    }
    // Cannot stop short: each batch joins others and there is room.
    written = index_.apply_each(batches.first(logged), results);
  }
  if (written > 0 && wal_ && !wal_->wait_durable(ticket)) {
    note_io_error("a write was applied but its log record could not be synced (see the log's earlier failure)");
    return WriteStatus::kNotDurable;
  }
  return why_stopped();
}

bool Store::write_and_drop(const IndexView& view, uint64_t first_live, uint64_t covered_lsn, SnapshotInfo& info,
                           std::string& error, const SnapshotIds* ids) {
  if (!write_snapshot(view, first_live, covered_lsn, options_.data_dir, info, error, tuning::kSnapshotSectionBytes,
                      ids)) {
    return false;
  }
  wal_->drop_covered(first_live);
  return true;
}

bool Store::snapshot(SnapshotInfo& info, std::string& error) {
  if (!persistent()) {
    error = "snapshot: the store is memory-only (started without a data directory)";
    return false;
  }
  std::lock_guard snapshot_lock(snapshot_);
  // File creation and the bulk of the sync happen before the writer lock.
  if (!wal_->prepare_rotation(error)) return false;
  wal_->presync();
  std::shared_ptr<const IndexView> view;
  uint64_t first_live = 0;
  uint64_t covered_lsn = 0;
  SnapshotIds ids;
  {
    std::lock_guard lock(writer_);
    if (!wal_->rotate(first_live, covered_lsn, error)) return false;
    // Every write in the view is in a segment below first_live, and every
    // later write goes to first_live or above.
    view = index_.view();
    // ID links live in spaces the writer changes in place, not in the
    // immutable view: they are copied now, while no write runs (a walk of
    // every link, ~0.1 s at 10M; nothing when there are none).
    ids = encode_snapshot_ids(*view);
  }
  return write_and_drop(*view, first_live, covered_lsn, info, error, &ids);
}

bool Store::bulk_load(const std::function<void(Index&)>& load, std::string& error) {
  if (!persistent()) {
    std::lock_guard lock(writer_);
    load(index_);
    return true;
  }
  std::lock_guard snapshot_lock(snapshot_);
  if (!wal_->prepare_rotation(error)) return false;  // before the load: failing here changes nothing
  std::lock_guard lock(writer_);
  load(index_);
  uint64_t first_live = 0;
  uint64_t covered_lsn = 0;
  SnapshotInfo info;
  if (!wal_->rotate(first_live, covered_lsn, error) ||
      !write_and_drop(*index_.view(), first_live, covered_lsn, info, error)) {
    // The loaded data is in memory only; a write logged now would be
    // replayed after a crash onto an index without it.
    wal_->fail("a bulk load could not be made durable: " + error);
    return false;
  }
  return true;
}

void Store::flush() {
  if (!wal_) return;
  std::string error;
  if (!wal_->flush(error)) note_io_error(error);
}

uint64_t Store::wal_bytes() const { return wal_ ? wal_->bytes() : 0; }

void Store::note_io_error(const std::string& error) {
  std::lock_guard lock(io_error_mu_);
  io_error_ = error;
}

std::string Store::last_io_error() const {
  std::lock_guard lock(io_error_mu_);
  return io_error_;
}

}  // namespace crowd
