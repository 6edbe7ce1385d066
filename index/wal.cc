#include "index/wal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "index/posix_file.h"
#include "index/tuning.h"
#include "index/wal_format.h"

namespace crowd {

struct Wal::Segment {
  uint64_t seq = 0;
  File file;
  // Bytes in the file. Changed by append() and read by rotate(), both under
  // the Store's writer lock.
  uint64_t end = 0;
};

Wal::Wal(std::string dir, FsyncPolicy policy) : dir_(std::move(dir)), policy_(policy) {}

std::unique_ptr<Wal> Wal::start(std::string dir, uint64_t seq, uint64_t first_lsn, FsyncPolicy policy,
                                std::vector<LiveSegment> older, std::string& error) {
  std::unique_ptr<Wal> wal(new Wal(std::move(dir), policy));
  // Recovery replaces only a segment that holds no record; refuse anything
  // else rather than lose it to a rename.
  const std::string path = wal->dir_ + "/" + wal::segment_file_name(seq);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) > wal::kSegmentHeaderBytes) {
    error = path + ": already exists and holds records; the new log cannot start there";
    return nullptr;
  }
  std::shared_ptr<Segment> segment;
  if (first_lsn == 0) first_lsn = 1;
  if (!wal->create_segment(seq, first_lsn, segment, error)) return nullptr;
  wal->lsn_base_ = first_lsn - 1;
  uint64_t total = segment->end;
  for (const auto& s : older) total += s.bytes;
  wal->older_ = std::move(older);
  wal->current_ = std::move(segment);
  wal->bytes_.store(total, std::memory_order_relaxed);
  if (policy != FsyncPolicy::kOff) wal->flusher_ = std::thread([w = wal.get()] { w->flusher_loop(); });
  return wal;
}

Wal::~Wal() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  std::string ignored;  // nobody is left to tell; a failure was reported to the writers it concerned
  (void)flush(ignored);
}

bool Wal::create_segment(uint64_t seq, uint64_t first_lsn, std::shared_ptr<Segment>& out, std::string& error) {
  auto segment = std::make_shared<Segment>();
  segment->seq = seq;
  const std::string path = dir_ + "/" + wal::segment_file_name(seq);
  const std::string tmp = path + ".tmp";
  // O_TRUNC: a .tmp is only ever a leftover of a creation a crash cut short.
  if (!File::open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600, segment->file, error)) return false;
  const std::string header = wal::encode_segment_header(seq, first_lsn);
  if (!segment->file.pwrite_all(header, 0, error) || !segment->file.datasync(error)) {
    ::unlink(tmp.c_str());
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    error = io_error_message(path, "rename from " + tmp, errno);
    ::unlink(tmp.c_str());
    return false;
  }
  if (!sync_directory(dir_, error)) {
    // Holds no record yet, so removing it loses nothing.
    ::unlink(path.c_str());
    return false;
  }
  segment->end = header.size();
  out = std::move(segment);
  return true;
}

bool Wal::append(std::string_view record, uint64_t& ticket, std::string& error) {
  std::shared_ptr<Segment> segment;
  {
    std::lock_guard lock(mu_);
    if (!failure_.empty()) {
      error = "the write-ahead log refuses writes since an earlier failure (" + failure_ +
              "); a successful snapshot clears this";
      return false;
    }
    segment = current_;
  }
  // No mu_ here: the writer lock keeps other appends and rotate() away, and
  // the flusher may fdatasync this file concurrently, which is harmless.
  const uint64_t offset = segment->end;
  if (!segment->file.pwrite_all(record, offset, error)) {
    // A partial record would make every later record "data after a bad
    // record": corruption at the next start. Cut it off.
    std::string cut_error;
    if (!segment->file.truncate(offset, cut_error)) {
      std::lock_guard lock(mu_);
      fail_locked(error + ", then " + cut_error, segment->seq);
    }
    return false;
  }
  segment->end += record.size();
  bytes_.fetch_add(record.size(), std::memory_order_relaxed);
  {
    std::lock_guard lock(mu_);
    ticket = ++appended_;
  }
  if (policy_ != FsyncPolicy::kOff) work_cv_.notify_one();
  return true;
}

bool Wal::wait_durable(uint64_t ticket) {
  if (policy_ == FsyncPolicy::kOff) return true;
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [&] { return synced_ >= ticket || failed_upto_ >= ticket; });
  return synced_ >= ticket;
}

void Wal::flusher_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stop_ || (appended_ > synced_ && failure_.empty()); });
    if (appended_ <= synced_ || !failure_.empty()) {
      if (stop_) return;
      continue;
    }
    if (policy_ == FsyncPolicy::kBatch && !stop_) {
      // Group commit: writes arriving in the window share this sync.
      work_cv_.wait_for(lock, tuning::kGroupCommitWindow, [&] { return stop_; });
    }
    // Every ticket up to `target` is in `segment`: rotate() syncs the old
    // segment and advances synced_ before it switches.
    const uint64_t target = appended_;
    const auto segment = current_;
    lock.unlock();
    std::string error;
    const bool ok = segment->file.datasync(error);
    lock.lock();
    if (ok) {
      synced_ = std::max(synced_, target);
    } else if (failure_.empty()) {
      fail_locked(error, segment->seq);
    }
    done_cv_.notify_all();
  }
}

void Wal::fail_locked(std::string why, uint64_t seq) {
  if (failure_.empty()) {
    failure_ = std::move(why);
    failure_seq_ = seq;
  } else {
    failure_seq_ = std::max(failure_seq_, seq);
  }
  failed_upto_ = appended_;
  done_cv_.notify_all();
}

void Wal::fail(std::string why) {
  std::lock_guard lock(mu_);
  fail_locked(std::move(why), current_->seq);
}

bool Wal::prepare_rotation(std::string& error) {
  uint64_t next = 0;
  {
    std::lock_guard lock(mu_);
    next = current_->seq + 1;
    if (prepared_ && prepared_->seq == next) return true;
  }
  std::shared_ptr<Segment> segment;
  if (!create_segment(next, 0, segment, error)) return false;
  std::lock_guard lock(mu_);
  prepared_ = std::move(segment);
  return true;
}

void Wal::presync() {
  std::shared_ptr<Segment> segment;
  {
    std::lock_guard lock(mu_);
    if (!failure_.empty()) return;
    segment = current_;
  }
  std::string error;
  if (!segment->file.datasync(error)) {
    // A failed fdatasync is reported once per open file; the next one may
    // succeed with the data lost, so this failure has to stick.
    std::lock_guard lock(mu_);
    fail_locked(error, segment->seq);
  }
}

bool Wal::rotate(uint64_t& new_seq, uint64_t& covered_lsn, std::string& error) {
  std::shared_ptr<Segment> old;
  bool have_next = false;
  {
    std::lock_guard lock(mu_);
    old = current_;
    have_next = prepared_ && prepared_->seq == old->seq + 1;
  }
  if (!have_next) {
    std::shared_ptr<Segment> segment;
    if (!create_segment(old->seq + 1, 0, segment, error)) return false;
    std::lock_guard lock(mu_);
    prepared_ = std::move(segment);
  }
  std::string sync_error;
  const bool synced = old->file.datasync(sync_error);
  // The writer lock is held, so every ticket handed out is in `old`, and
  // the next record appended is the new segment's first. Its start block is
  // durable before that record can be: recovery may then insist that `old`
  // holds every record before it.
  uint64_t first_lsn = 0;
  std::shared_ptr<Segment> next;
  {
    std::lock_guard lock(mu_);
    first_lsn = lsn_base_ + appended_ + 1;
    next = std::move(prepared_);
  }
  std::string start_error;
  const bool started = next->file.pwrite_all(wal::encode_start_block(first_lsn), wal::kStartBlockOffset, start_error) &&
                       next->file.datasync(start_error);
  std::lock_guard lock(mu_);
  if (synced) {
    synced_ = std::max(synced_, appended_);
    done_cv_.notify_all();
  } else {
    fail_locked("syncing the log before rotation: " + sync_error, old->seq);
  }
  if (!started) {
    // Appends stop until a snapshot covers the new segment too; recovery
    // reads a segment that was never started as holding nothing.
    fail_locked("starting the next log segment: " + start_error, next->seq);
  }
  older_.push_back(LiveSegment{old->seq, old->end});
  current_ = std::move(next);
  bytes_.fetch_add(current_->end, std::memory_order_relaxed);
  new_seq = current_->seq;
  covered_lsn = first_lsn - 1;
  return true;
}

void Wal::drop_covered(uint64_t first_live) {
  std::vector<uint64_t> doomed;
  {
    std::lock_guard lock(mu_);
    auto keep = older_.begin();
    for (auto it = older_.begin(); it != older_.end(); ++it) {
      if (it->seq < first_live) {
        doomed.push_back(it->seq);
        bytes_.fetch_sub(it->bytes, std::memory_order_relaxed);
      } else {
        *keep++ = *it;
      }
    }
    older_.erase(keep, older_.end());
    if (!failure_.empty() && failure_seq_ < first_live) {
      // Appends stopped at the failure, so every record handed out is in a
      // segment the snapshot covers.
      failure_.clear();
      synced_ = std::max(synced_, appended_);
      done_cv_.notify_all();
    }
  }
  // A file that cannot be removed is harmless: the next start deletes
  // segments below the snapshot's first live one.
  for (const uint64_t seq : doomed) ::unlink((dir_ + "/" + wal::segment_file_name(seq)).c_str());
}

bool Wal::flush(std::string& error) {
  std::shared_ptr<Segment> segment;
  uint64_t target = 0;
  {
    std::lock_guard lock(mu_);
    if (!current_) return true;  // start() failed before there was a segment
    if (!failure_.empty()) {
      error = "the write-ahead log failed earlier: " + failure_;
      return false;
    }
    segment = current_;
    target = appended_;
  }
  if (!segment->file.datasync(error)) {
    std::lock_guard lock(mu_);
    fail_locked(error, segment->seq);
    return false;
  }
  std::lock_guard lock(mu_);
  synced_ = std::max(synced_, target);
  done_cv_.notify_all();
  return true;
}

uint64_t Wal::current_seq() const {
  std::lock_guard lock(mu_);
  return current_->seq;
}

}  // namespace crowd
