// Retention of dated tags: day bitmaps older than a horizon are dropped.
//
// The horizon counts back from the newest day in the index, not from the
// wall clock: audience data is loaded in arrears (the Taobao sample is from
// 2017), and "the last 90 days of data" is what a brand means. The plain
// tags an event set stay: they say "ever", which retention does not take
// back (remove them with /v1/assign if they must go).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "index/store.h"
#include "index/write_batch.h"

namespace crowd::server {

class Retention {
 public:
  // days >= 1: keep the newest day and the days-1 before it.
  Retention(Store& store, uint32_t days) : store_(store), days_(days) {}

  // Clears every non-empty day tag older than the horizon, in one logged
  // write. When the newest day has moved since the last run that is a scan
  // of every day tag, O(day tags); otherwise only the day tags `written`
  // (the batch just acknowledged, if any) named are checked — an old event
  // written late goes at once, not at the next restart. Any thread (runs are
  // serialised). Returns the number of day tags cleared; on a failed write,
  // nullopt and `error`.
  std::optional<uint64_t> enforce(const WriteBatch* written, std::string& error);

  [[nodiscard]] uint32_t days() const { return days_; }

 private:
  Store& store_;
  const uint32_t days_;
  std::mutex running_;                // serialises runs
  int64_t enforced_for_ = INT64_MIN;  // the newest day at the last full scan; guarded by running_
};

}  // namespace crowd::server
