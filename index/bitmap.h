// Bitmap: an owning, move-only handle on a CRoaring bitmap of user ordinals.
//
// Copies are explicit (clone()) because an accidental copy of a 1.25 MB dense
// tag on a hot path is the classic Roaring performance bug.
#pragma once

#include <roaring/roaring.h>

#include <cstdint>
#include <span>
#include <utility>

namespace crowd {

class Bitmap {
 public:
  Bitmap() : r_(roaring_bitmap_create()) {}
  explicit Bitmap(roaring_bitmap_t* adopted) : r_(adopted) {}
  ~Bitmap() {
    if (r_ != nullptr) roaring_bitmap_free(r_);
  }
  Bitmap(Bitmap&& other) noexcept : r_(std::exchange(other.r_, nullptr)) {}
  Bitmap& operator=(Bitmap&& other) noexcept {
    if (this != &other) {
      if (r_ != nullptr) roaring_bitmap_free(r_);
      r_ = std::exchange(other.r_, nullptr);
    }
    return *this;
  }
  Bitmap(const Bitmap&) = delete;
  Bitmap& operator=(const Bitmap&) = delete;

  // O(size): a deep copy.
  [[nodiscard]] Bitmap clone() const { return Bitmap(roaring_bitmap_copy(r_)); }

  [[nodiscard]] roaring_bitmap_t* get() { return r_; }
  [[nodiscard]] const roaring_bitmap_t* get() const { return r_; }

  // O(number of containers).
  [[nodiscard]] uint64_t cardinality() const { return roaring_bitmap_get_cardinality(r_); }
  [[nodiscard]] bool empty() const { return roaring_bitmap_is_empty(r_); }
  [[nodiscard]] bool contains(uint32_t v) const { return roaring_bitmap_contains(r_, v); }
  // Returns true when v was not present before.
  bool add(uint32_t v) { return roaring_bitmap_add_checked(r_, v); }
  // Returns true when v was present before.
  bool remove(uint32_t v) { return roaring_bitmap_remove_checked(r_, v); }
  void add_many(std::span<const uint32_t> vs) { roaring_bitmap_add_many(r_, vs.size(), vs.data()); }
  // Chooses run containers where they are smaller; call after bulk loads.
  void optimize() {
    roaring_bitmap_run_optimize(r_);
    roaring_bitmap_shrink_to_fit(r_);
  }
  // Heap bytes used, approximately (the portable serialized size is a close
  // and cheap proxy: CRoaring 0.2.66 has no exact allocation counter).
  [[nodiscard]] std::size_t bytes() const { return roaring_bitmap_portable_size_in_bytes(r_); }

 private:
  roaring_bitmap_t* r_;
};

}  // namespace crowd
