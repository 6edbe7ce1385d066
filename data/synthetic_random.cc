#include "data/synthetic_random.h"

#include <algorithm>
#include <stdexcept>

namespace crowd::synth {

AliasTable::AliasTable(std::span<const double> weights)
    : size_(static_cast<uint32_t>(weights.size())), slots_(weights.size()) {
  double total = 0;
  for (const double w : weights) total += std::max(w, 0.0);
  if (weights.empty() || !(total > 0)) throw std::invalid_argument("AliasTable: no positive weight");

  // Scaled so the average slot holds exactly 1; slots below 1 are topped up
  // from one slot above 1 (its alias). Every slot ends with one alias at most.
  std::vector<double> scaled(weights.size());
  std::vector<uint32_t> small, large;
  for (uint32_t i = 0; i < size_; ++i) {
    scaled[i] = std::max(weights[i], 0.0) * size_ / total;
    (scaled[i] < 1.0 ? small : large).push_back(i);
  }
  const auto keep_of = [](double fraction) { return static_cast<uint32_t>(std::min(fraction, 1.0) * 4294967295.0); };
  while (!small.empty() && !large.empty()) {
    const uint32_t s = small.back();
    small.pop_back();
    const uint32_t l = large.back();
    slots_[s] = {keep_of(scaled[s]), l};
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // Whatever is left holds 1 up to rounding: keep it always.
  for (const auto* rest : {&large, &small}) {
    for (const uint32_t i : *rest) {
      slots_[i] = {0xffffffffu, i};
    }
  }
}

}  // namespace crowd::synth
