#include "activation/holdout.h"

#include <cstring>
#include <vector>

#include "identity/digest.h"

namespace crowd::activation {
namespace {

uint64_t splitmix64_output(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

Holdout::Holdout(std::string_view crowd, uint32_t basis_points) : seed_(0), basis_points_(basis_points) {
  const auto digest = identity::sha256(crowd);
  std::memcpy(&seed_, digest.data(), sizeof seed_);
}

uint32_t Holdout::bucket(Ordinal o) const { return static_cast<uint32_t>(splitmix64_output(o ^ seed_) % 10000); }

Bitmap Holdout::split(const Bitmap& users, bool want_held) const {
  if (!any()) return want_held ? Bitmap() : users.clone();
  // Ascending batches: each add_many only appends containers.
  Bitmap b;
  std::vector<uint32_t> batch(4096);
  std::vector<uint32_t> kept;
  kept.reserve(batch.size());
  roaring_uint32_iterator_t it;
  roaring_init_iterator(users.get(), &it);
  while (const uint32_t n = roaring_read_uint32_iterator(&it, batch.data(), static_cast<uint32_t>(batch.size()))) {
    kept.clear();
    for (uint32_t i = 0; i < n; ++i) {
      if (held(batch[i]) == want_held) kept.push_back(batch[i]);
    }
    b.add_many(kept);
  }
  b.optimize();
  return b;
}

Bitmap Holdout::pushed(const Bitmap& users) const { return split(users, false); }
Bitmap Holdout::held_of(const Bitmap& users) const { return split(users, true); }

}  // namespace crowd::activation
