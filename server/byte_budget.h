// ByteBudget: a process-wide cap on memory of one kind that clients make the
// server hold — request bodies being read, reply bytes waiting for a slow
// reader — shared by every session, with the bytes held as a gauge for
// /metrics. Taking is one compare-and-swap; nothing is locked.
//
// BudgetHold is one session's share: it grows as the session needs more and
// gives everything back when reset or destroyed, so no error path can leak
// budget.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace crowd::server {

class ByteBudget {
 public:
  explicit ByteBudget(std::size_t limit) : limit_(limit) {}
  ByteBudget(const ByteBudget&) = delete;
  ByteBudget& operator=(const ByteBudget&) = delete;

  // Takes n bytes if the total stays within the limit; otherwise takes
  // nothing, counts a refusal and returns false.
  [[nodiscard]] bool try_take(std::size_t n) {
    std::size_t held = held_.load(std::memory_order_relaxed);
    do {
      if (n > limit_ - held) {
        refusals_.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
    } while (!held_.compare_exchange_weak(held, held + n, std::memory_order_relaxed));
    return true;
  }
  // Takes n bytes whatever the limit: memory already spent that the gauge
  // must still show (see BudgetHold::account).
  void take(std::size_t n) { held_.fetch_add(n, std::memory_order_relaxed); }
  void give_back(std::size_t n) { held_.fetch_sub(n, std::memory_order_relaxed); }

  [[nodiscard]] std::size_t held() const { return held_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t limit() const { return limit_; }
  [[nodiscard]] uint64_t refusals() const { return refusals_.load(std::memory_order_relaxed); }

 private:
  const std::size_t limit_;
  std::atomic<std::size_t> held_{0};
  std::atomic<uint64_t> refusals_{0};
};

class BudgetHold {
 public:
  BudgetHold() = default;  // holds nothing, from no budget
  explicit BudgetHold(ByteBudget& budget) : budget_(&budget) {}
  ~BudgetHold() { reset(); }
  BudgetHold(BudgetHold&& other) noexcept : budget_(other.budget_), held_(other.held_) { other.held_ = 0; }
  BudgetHold& operator=(BudgetHold&& other) noexcept {
    if (this != &other) {
      reset();
      budget_ = other.budget_;
      held_ = other.held_;
      other.held_ = 0;
    }
    return *this;
  }

  // Grows the share to `bytes` in all if the budget has room (true when it
  // already holds that much); on false the share is unchanged.
  [[nodiscard]] bool grow_to(std::size_t bytes) {
    if (bytes <= held_) return true;
    if (budget_ == nullptr || !budget_->try_take(bytes - held_)) return false;
    held_ = bytes;
    return true;
  }
  // Grows the share to `bytes` without asking: for memory that is already
  // spent (a buffer that grew past what was granted), so the gauge tells the
  // truth.
  void account(std::size_t bytes) {
    if (bytes <= held_ || budget_ == nullptr) return;
    budget_->take(bytes - held_);
    held_ = bytes;
  }
  void reset() {
    if (held_ != 0) budget_->give_back(held_);
    held_ = 0;
  }
  [[nodiscard]] std::size_t held() const { return held_; }

 private:
  ByteBudget* budget_ = nullptr;
  std::size_t held_ = 0;
};

}  // namespace crowd::server
