#include "activation/lift.h"

#include <cmath>

namespace crowd::activation {
namespace {

std::optional<double> rate(Proportion p) {
  if (p.trials == 0 || p.successes > p.trials) return std::nullopt;
  return static_cast<double>(p.successes) / static_cast<double>(p.trials);
}

// Katz's variance of ln(RR) for one group, (1 - p) / x, written as
// 1/x - 1/n: the same value without first rounding p, and never negative
// (1/x >= 1/n holds after rounding too, as x <= n).
double log_ratio_variance_term(Proportion p) {
  return 1.0 / static_cast<double>(p.successes) - 1.0 / static_cast<double>(p.trials);
}

}  // namespace

LiftEstimate relative_lift(Proportion treated, Proportion holdout, double z) {
  LiftEstimate e;
  e.treated_rate = rate(treated);
  e.holdout_rate = rate(holdout);
  if (!e.treated_rate || !e.holdout_rate || *e.holdout_rate == 0) return e;
  const double ratio = *e.treated_rate / *e.holdout_rate;
  e.lift = ratio - 1;
  if (treated.successes == 0 || !std::isfinite(z) || z < 0) return e;

  const double margin = z * std::sqrt(log_ratio_variance_term(treated) + log_ratio_variance_term(holdout));
  // expm1 keeps the digits of a lift near 0, where exp(...) - 1 would
  // cancel most of them.
  e.low = std::expm1(std::log(ratio) - margin);
  e.high = std::expm1(std::log(ratio) + margin);
  return e;
}

}  // namespace crowd::activation
