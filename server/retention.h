// Retention of dated tags: day bitmaps older than a horizon are dropped.
//
// The horizon counts back from today by the server's wall clock (UTC), never
// from the newest day in the index: an event's date is the feed's word, and
// one event dated 9999-12-31 used to move the horizon past every real day,
// wiping history on arrival and at every restart (issue 14, item 4). Data
// loaded in arrears (the Taobao sample is from 2017) is therefore older than
// any horizon: run it without --retention-days. A day later than today is
// never dropped; events later than today plus --max-future-days are refused
// at the door (event_days.h). The plain tags an event set stay: they say
// "ever", which retention does not take back (remove them with /v1/assign if
// they must go).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "index/store.h"
#include "index/write_batch.h"

namespace crowd::server {

class Retention {
 public:
  // Today as days since 1970-01-01 (UTC); tests pass a fixed clock.
  using Today = std::function<int64_t()>;

  // days >= 1: keep today and the days-1 before it.
  Retention(Store& store, uint32_t days, Today today);

  // Clears every non-empty day tag older than the horizon, in one logged
  // write. When the day has changed since the last run (and at the first)
  // that is a scan of every day tag, O(day tags); otherwise only the day
  // tags `written` (the batch just acknowledged, if any) named are checked —
  // an old event written late goes at once. Days expire when the date
  // changes, at the next write or restart. Any thread (runs are serialised).
  // Returns the number of day tags cleared; on a failed write, nullopt and
  // `error`.
  std::optional<uint64_t> enforce(const WriteBatch* written, std::string& error);

  [[nodiscard]] uint32_t days() const { return days_; }

 private:
  Store& store_;
  const uint32_t days_;
  const Today today_;
  std::mutex running_;                // serialises runs
  int64_t enforced_for_ = INT64_MIN;  // today at the last full scan; guarded by running_
};

}  // namespace crowd::server
