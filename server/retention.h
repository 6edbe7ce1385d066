// Retention of dated tags: day bitmaps older than a horizon are dropped.
//
// The horizon counts back from today by the server's day clock (event_days.h:
// the wall clock's UTC date, or --as-of), never from the newest day in the
// index: an event's date is the feed's word, and one event dated 9999-12-31
// used to move the horizon past every real day, wiping history on arrival
// and at every restart (issues 14 and 17). Events dated before the horizon
// are refused at the door (event_days.h), and a day later than today is never
// dropped. Data loaded in arrears (the Taobao sample is from 2017) is older
// than any horizon: run it without --retention-days, or with --as-of.
//
// A run that would drop more than kMaxDropShare of the dated days (a clock
// that jumped, a much shorter --retention-days, a server down for weeks) is
// refused unless forced (--retention-force, start-up only): it drops nothing
// and says what it would have dropped. plan() is the dry run. The plain tags
// an event set stay: they say "ever", which retention does not take back.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "index/store.h"
#include "index/write_batch.h"

namespace crowd::server {

// What a run would drop: the dated days (distinct dates of non-empty day
// tags) and the day tags older than the horizon.
struct RetentionPlan {
  int64_t horizon = 0;         // the oldest day kept
  uint64_t dates_held = 0;     // distinct dates with a non-empty day tag
  uint64_t dates_dropped = 0;  // ... of which older than the horizon
  uint64_t tags_dropped = 0;   // non-empty day tags older than the horizon
  uint64_t users_dropped = 0;  // sum of their cardinalities (user-days)
  std::optional<int64_t> first_dropped, last_dropped;
  std::vector<TagId> tags;  // the day tags to clear

  // Whether a run may drop this without force: at most kMaxDropShare of the
  // dates held, or a single date (the day that just left the window).
  [[nodiscard]] bool within_share() const;
  // "would drop 120 of 180 dated days (2026-06-10 .. 2026-10-07), 3,400 day
  // tags, 1,234,567 user-days"; no tag names (they may hold personal data).
  [[nodiscard]] std::string describe() const;
};

class Retention {
 public:
  static constexpr double kMaxDropShare = 0.25;
  // Today as days since 1970-01-01 (UTC); tests pass a fixed clock.
  using Today = std::function<int64_t()>;

  // days >= 1: keep today and the days-1 before it.
  Retention(Store& store, uint32_t days, Today today);

  // What a run would drop now. O(day tags).
  [[nodiscard]] RetentionPlan plan() const;

  // Clears every non-empty day tag older than the horizon, in one logged
  // write. When the day has changed since the last run (and at the first)
  // that is a scan of every day tag, O(day tags); otherwise only the day
  // tags `written` (the batch just acknowledged, if any) named are checked.
  // Days expire when the date changes, at the next write or restart. Any
  // thread (runs are serialised). Returns the number of day tags cleared;
  // nullopt and `error` when the write failed or the run was refused for
  // dropping more than kMaxDropShare without `force` (then nothing is
  // dropped, and the next run asks again).
  std::optional<uint64_t> enforce(const WriteBatch* written, std::string& error, bool force = false);

  [[nodiscard]] uint32_t days() const { return days_; }
  // Runs refused for their share since start (/metrics).
  [[nodiscard]] uint64_t refused() const;

 private:
  [[nodiscard]] RetentionPlan plan_for(const IndexView& view, int64_t today, const WriteBatch* written) const;

  Store& store_;
  const uint32_t days_;
  const Today today_;
  mutable std::mutex running_;        // serialises runs
  int64_t enforced_for_ = INT64_MIN;  // today at the last full scan; guarded by running_
  uint64_t refused_ = 0;              // guarded by running_
  int64_t refused_for_ = INT64_MIN;   // today at the last refused run; guarded by running_
};

}  // namespace crowd::server
