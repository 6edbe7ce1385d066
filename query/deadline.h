// Deadline: the per-request time budget (issue 5). A request's handler sets
// the calling thread's deadline for its duration (Deadline::Scope); the long
// loops of evaluation call Deadline::check() every so often (every few
// chunks of 65,536 users, every tag of a profile), which throws TimedOut once
// the deadline has passed. The server answers 503 timeout instead of holding
// a worker; nothing has been written, since writes never check.
//
// A thread-local rather than a parameter: the checks sit many calls deep in
// every evaluator, and a request runs on one thread from start to end.
// Without a Scope there is no deadline and check() reads no clock.
#pragma once

#include <chrono>
#include <exception>

namespace crowd::query {

struct TimedOut : std::exception {
  [[nodiscard]] const char* what() const noexcept override { return "time budget exceeded"; }
};

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  // Installs `at` as the calling thread's deadline until destroyed (then the
  // previous one is back).
  class Scope {
   public:
    explicit Scope(Clock::time_point at) : previous_(at_) { at_ = at; }
    ~Scope() { at_ = previous_; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Clock::time_point previous_;
  };

  // Throws TimedOut when the calling thread's deadline has passed.
  static void check() {
    if (at_ != Clock::time_point::max() && Clock::now() >= at_) throw TimedOut();
  }
  // Whether a deadline is set at all (loops may skip their countdown).
  [[nodiscard]] static bool set() { return at_ != Clock::time_point::max(); }

 private:
  static inline thread_local Clock::time_point at_ = Clock::time_point::max();
};

// Checks on the first call of tick() and every `Stride` calls after: for
// loops whose iterations are too short to read the clock each time (a chunk
// of a count is ~0.3 us).
template <unsigned Stride>
class DeadlineTicker {
 public:
  void tick() {
    if (n_++ % Stride == 0) Deadline::check();
  }

 private:
  unsigned n_ = 0;
};

}  // namespace crowd::query
