// The hold-out of a crowd's pushes (issue 16, item 5): a deterministic share
// of users never pushed, so that results can be compared with those who
// were. A user is held out of crowd C when
//     mix(ordinal XOR seed(C)) mod 10000 < basis points
// where seed(C) is the first 8 bytes of SHA-256(C) (libcrypto) and mix is
// SplitMix64's output function (Steele, Lea and Flood 2014), a fixed
// bijection of 64-bit words whose output bits each depend on every input
// bit. Fixed forever: a user held out of a crowd stays held out at every
// refresh and across restarts (ordinals are stable with the data), and two
// crowds hold out unrelated users.
#pragma once

#include <cstdint>
#include <string_view>

#include "index/bitmap.h"
#include "index/ids.h"

namespace crowd::activation {

inline constexpr uint32_t kMaxHoldoutBasisPoints = 5000;

class Holdout {
 public:
  Holdout(std::string_view crowd, uint32_t basis_points);

  [[nodiscard]] bool any() const { return basis_points_ > 0; }
  [[nodiscard]] bool held(Ordinal o) const { return any() && bucket(o) < basis_points_; }
  // `users` without / with only the held-out ones. O(|users|), a few ns a user.
  [[nodiscard]] Bitmap pushed(const Bitmap& users) const;
  [[nodiscard]] Bitmap held_of(const Bitmap& users) const;

  // mix(o XOR seed) mod 10000: exposed for the tests of its distribution.
  [[nodiscard]] uint32_t bucket(Ordinal o) const;

 private:
  [[nodiscard]] Bitmap split(const Bitmap& users, bool want_held) const;

  uint64_t seed_;
  uint32_t basis_points_;
};

}  // namespace crowd::activation
