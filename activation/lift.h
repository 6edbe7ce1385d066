// Lift: how much more often the treated part of a crowd converted than its
// hold-out (the members deliberately not pushed), with a confidence
// interval, from the campaign results that flow back.
//
// Relative lift = treated rate / hold-out rate - 1, so 0.5 means the treated
// group converted 50% more often. The interval is Katz's log interval for a
// ratio of two independent proportions (Katz, Baptista, Azen and Pike,
// Biometrics 34, 1978), the one epidemiology textbooks give for a risk
// ratio:
//   ln(RR) ± z·sqrt((1-p1)/x1 + (1-p0)/x0)      x = successes, p = rate
// mapped back with exp and less 1. It is symmetric on the log scale, never
// reaches below -1, and covers close to the nominal 95% once each group has
// a few dozen successes; with a handful it is only approximate.
#pragma once

#include <cstdint>
#include <optional>

namespace crowd::activation {

struct Proportion {
  uint64_t successes = 0;
  uint64_t trials = 0;
};

struct LiftEstimate {
  std::optional<double> treated_rate, holdout_rate;  // successes / trials; nullopt when trials == 0
  std::optional<double> lift;                        // treated_rate / holdout_rate - 1; nullopt when undefined
  std::optional<double> low, high;                   // its CI; nullopt when undefined
};

// The z default is the standard normal's 97.5th percentile (a two-sided
// 95% interval). O(1).
//
// What is undefined, rather than patched:
//   a rate     when its group has no trials, or more successes than trials
//              (not a proportion: a caller's bookkeeping error).
//   the lift   when either rate is undefined or the hold-out rate is 0 (an
//              infinite ratio). A treated rate of 0 gives a lift of -1.
//   the CI     when the lift is, when either group has 0 successes (ln 0),
//              or when z is not a finite number >= 0.
// No continuity correction: adding 0.5 to every cell would report an
// interval for data that has none and shift the estimate itself; a crowd
// whose treated or hold-out group has not converted once is better shown
// as "not enough results yet".
// When every trial of both groups succeeded the variance is 0 and the
// interval collapses to the estimate.
[[nodiscard]] LiftEstimate relative_lift(Proportion treated, Proportion holdout, double z = 1.959963984540054);

}  // namespace crowd::activation
