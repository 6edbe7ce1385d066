// Activation: the bookkeeping of saved crowds' versions, destinations and
// pushes (docs/activation.md), and the worker thread that refreshes due
// crowds and delivers pushes.
//
// Every change is one WriteBatch through the Store -- a crowd's members, its
// record and the kept bitmaps a version needs move together, so a crash
// leaves either the old state or the new -- made under one mutex (mu_), which
// orders activation's read-modify-writes of its records. mu_ is never held
// while a payload is delivered: a push is recorded (pending) first, then
// delivered from a view without the lock, then its outcome recorded.
//
// Users are ordinals here; the server draws crowds (saved crowds'
// definitions are its own) through ActivationOptions::draw, and turns
// Refusals into API errors.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "activation/records.h"
#include "index/bitmap.h"
#include "index/index_view.h"
#include "index/store.h"

namespace crowd::activation {

// Why a request was not carried out; nothing changed.
struct Refusal {
  enum class Kind : uint8_t {
    kBadRequest,  // 400
    kNotFound,    // 404
    kConflict,    // 409 (code says which)
    kTooSmall,    // 403 crowd_too_small: --min-export-size
    kWrite,       // the store refused or failed the write (write, result)
  };
  Kind kind = Kind::kBadRequest;
  std::string code;  // kConflict: "crowd_expired", "push_refused", "holdout_locked", ...
  std::string message;
  WriteStatus write = WriteStatus::kOk;
  WriteResult result;
};

// A crowd drawn again from its stored definition.
struct DrawnCrowd {
  Bitmap members;
  std::string definition;  // the definition text to store with it (the server's)
};

struct ActivationOptions {
  // --min-export-size: a push's exported users must reach it.
  uint64_t min_export_size = 0;
  // Unix seconds now (tests move time by hand).
  std::function<int64_t()> now;
  // Draws the saved crowd `name` again, or says why it cannot.
  std::function<std::variant<DrawnCrowd, std::string>(std::string_view name)> draw;
  // Told of every delivered push (the server's audit log): the push and how
  // many IDs it sent. Called without the mutex.
  std::function<void(std::string_view crowd, const PushRecord& push)> delivered;
  // How often the worker looks for due work when nothing wakes it.
  std::chrono::milliseconds tick{1000};
};

// Settings of PUT /v1/crowds/{name}; absent members keep what the crowd has.
struct CrowdSettings {
  std::optional<std::string> refresh;                // schedule text; "" clears it
  std::optional<std::optional<int64_t>> expires_at;  // nullopt inside: never expires
  std::optional<uint32_t> holdout_bp;
  std::optional<std::vector<std::string>> push_to;
};

struct SavedVersion {
  VersionEntry entry;
  CrowdRecord record;
};

// A crowd's record, with what the server shows beside it.
struct CrowdActivation {
  CrowdRecord record;
  std::optional<int64_t> next_refresh;  // unix seconds; none without a schedule or once expired
  bool expired = false;                 // expires_at has passed (the worker may not have handled it yet)
};

// The users first pushed, and first held out, with one version (recorded
// when the version is first delivered); the bitmaps live as long as the view.
struct Cohort {
  uint64_t version = 0;
  const TagBits* treated = nullptr;
  const TagBits* held = nullptr;
};

struct ActivationStats {
  uint64_t refreshes = 0;  // scheduled refreshes made
  uint64_t refresh_failures = 0;
  uint64_t pushes_delivered = 0;
  uint64_t push_attempts_failed = 0;  // deliveries that ended in a retry
  uint64_t push_bytes = 0;
  uint64_t crowds_expired = 0;
};

class Activation {
 public:
  Activation(Store& store, ActivationOptions options);
  // Stops the worker if it runs.
  ~Activation();
  Activation(const Activation&) = delete;
  Activation& operator=(const Activation&) = delete;

  // The worker: refreshes due crowds one at a time, handles expiry, delivers
  // outstanding pushes. start() once; stop() joins it (an attempt under way
  // is told to stop).
  void start();
  void stop();
  // One pass of the worker's work, on the caller's thread (tests, and the
  // worker itself). Returns whether it did anything.
  bool run_due();
  // Wakes the worker (a push was recorded).
  void wake();

  // Saved crowds (the server's crowd routes). Saves `members` as the crowd's
  // newest version with its definition text, and `settings`, in one write.
  // `trigger`: "put", "refresh", "schedule", "upload".
  [[nodiscard]] std::variant<SavedVersion, Refusal> save_crowd(std::string_view name, std::string definition,
                                                               Bitmap members, std::string_view trigger,
                                                               const CrowdSettings& settings = {});
  // Changes the crowd's settings only (PATCH /v1/crowds/{name}).
  [[nodiscard]] std::variant<CrowdRecord, Refusal> update_settings(std::string_view name,
                                                                   const CrowdSettings& settings);
  // Deletes the crowd with its record, pushes and kept bitmaps; its
  // outstanding pushes are dropped.
  [[nodiscard]] std::optional<Refusal> delete_crowd(std::string_view name);
  // The crowd's record in `view` (nullopt: no record, e.g. a crowd saved
  // before activation existed: version 1 is made by its next save or push).
  [[nodiscard]] std::optional<CrowdActivation> crowd(const IndexView& view, std::string_view name) const;

  // Destinations.
  [[nodiscard]] std::optional<Refusal> put_destination(std::string_view name, Destination d, bool& created);
  [[nodiscard]] std::optional<Refusal> delete_destination(std::string_view name);
  [[nodiscard]] static std::optional<Destination> destination(const IndexView& view, std::string_view name);
  [[nodiscard]] static std::vector<std::pair<std::string, Destination>> destinations(const IndexView& view);

  // Records a push of the crowd to the destination and wakes the worker. An
  // outstanding push of that pair is returned instead (and tried now): it
  // must land before another. `full`: force a full push.
  [[nodiscard]] std::variant<PushRecord, Refusal> push(std::string_view crowd, std::string_view destination, bool full,
                                                       std::string_view trigger);
  // The crowd's push records, oldest first.
  [[nodiscard]] static std::vector<PushRecord> pushes(const IndexView& view, std::string_view crowd);

  // Erasure (DELETE /v1/users/...): writes `batch` (which erases the users
  // `ordinals` of `view`) together with, for every destination that holds or
  // will hold one of them, the users' IDs of its type to remove at its next
  // push. Without such destinations it is just store.write(batch).
  [[nodiscard]] WriteStatus erase_users(const IndexView& view, std::span<const Ordinal> ordinals, WriteBatch& batch,
                                        WriteResult& result);

  // The crowd's cohorts, by version.
  [[nodiscard]] static std::vector<Cohort> cohorts(const IndexView& view, std::string_view crowd);

  // Kept bitmaps (count, bytes) in `view`, for /metrics.
  [[nodiscard]] static std::pair<uint64_t, uint64_t> kept(const IndexView& view);
  [[nodiscard]] ActivationStats stats() const;
  // Pushes recorded and not delivered, in `view`.
  [[nodiscard]] static uint64_t outstanding(const IndexView& view);

 private:
  // A push the worker is about to send, with the view it is sent from.
  struct Delivery {
    std::string crowd;
    PushRecord push;
    Destination destination;
    uint32_t holdout_bp = 0;
    std::shared_ptr<const IndexView> view;
  };
  [[nodiscard]] int64_t now() const;
  // mu_ held: adds to `batch` what forgets every crowd's state with the
  // destination (its acknowledged version, the versions only it needed, its
  // erased users' IDs); refused while a push to it is outstanding.
  [[nodiscard]] std::optional<Refusal> forget_destination(const IndexView& view, std::string_view name,
                                                          WriteBatch& batch);
  // The public calls' work, mu_ held.
  [[nodiscard]] std::variant<SavedVersion, Refusal> save_locked(std::string_view name, std::string definition,
                                                                Bitmap members, std::string_view trigger,
                                                                const CrowdSettings& settings);
  [[nodiscard]] std::variant<PushRecord, Refusal> push_locked(std::string_view crowd, std::string_view destination,
                                                              bool full, std::string_view trigger);
  // mu_ held: writes `batch`; a Refusal for a failed write.
  [[nodiscard]] std::optional<Refusal> write(WriteBatch& batch);
  // mu_ held: refreshes one due crowd, expires one, or picks a due push.
  bool refresh_due(const IndexView& view, int64_t now);
  bool expire_due(const IndexView& view, int64_t now);
  std::optional<Delivery> next_delivery(const IndexView& view, int64_t now);
  // Without mu_: sends the push; then records its outcome under mu_.
  void deliver(Delivery d);
  // `gone_lines`: erased users' IDs the push made moot (the first lines of
  // the destination's "gone" record when the push was made).
  // `retry_now`: a failed delivery is tried again at once, not after the
  // retry delay.
  void record_outcome(const Delivery& d, bool delivered, unsigned attempts, std::string error, uint64_t bytes,
                      std::string sha256, uint64_t adds, uint64_t removes, uint64_t held_out, std::size_t gone_lines,
                      bool retry_now = false);
  // Cancels the push (the next one to its destination is full).
  void cancel(const Delivery& d, std::string why);

  Store& store_;
  ActivationOptions options_;
  mutable std::mutex mu_;

  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool woken_ = false;
  std::atomic<bool> stopping_{false};
  std::thread worker_;

  std::atomic<uint64_t> refreshes_{0}, refresh_failures_{0}, pushes_delivered_{0}, attempts_failed_{0}, push_bytes_{0},
      crowds_expired_{0};
};

}  // namespace crowd::activation
