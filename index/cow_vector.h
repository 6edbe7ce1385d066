// CowVector: an immutable vector whose new versions share what they did not
// change.
//
// Items live in chunks of kChunk behind shared pointers. An Editor starts from
// a version, copies a chunk the first time it writes into it, and finish()
// yields the next version; every chunk it did not write stays shared. So a
// version that changes k items among n costs O(n / kChunk) pointer copies plus
// O(k * kChunk) item copies, where a flat vector costs O(n): a saved crowd's
// PUT touched one tag and copied the pointer of every other (issue 14, 8b).
//
// Versions are values: copying one copies chunk pointers. They are never
// changed once made, so readers on any thread may hold and read them while an
// editor builds the next. Ownership is explicit (the editor remembers the
// chunks it made) rather than guessed from use_count(), which readers on
// other threads could be changing.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace crowd {

template <class T, std::size_t kChunk = 256>
class CowVector {
  using Chunk = std::vector<T>;

 public:
  CowVector() = default;
  explicit CowVector(std::vector<T> items) {
    Editor e{CowVector()};
    for (auto& item : items) e.push_back(std::move(item));
    *this = std::move(e).finish();
  }

  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  // i < size().
  [[nodiscard]] const T& operator[](std::size_t i) const { return (*chunks_[i / kChunk])[i % kChunk]; }
  // Whether item i's storage is shared with `other` (tests: what an edit copied).
  [[nodiscard]] bool shares_chunk_with(const CowVector& other, std::size_t i) const {
    return i < size_ && i < other.size_ && chunks_[i / kChunk] == other.chunks_[i / kChunk];
  }

  // Builds the next version from `base`, which it does not change.
  class Editor {
   public:
    explicit Editor(const CowVector& base) : chunks_(base.chunks_), mine_(base.chunks_.size(), nullptr), size_(base.size_) {}

    [[nodiscard]] std::size_t size() const { return size_; }
    [[nodiscard]] const T& operator[](std::size_t i) const { return (*chunks_[i / kChunk])[i % kChunk]; }
    void set(std::size_t i, T item) { (*own(i / kChunk))[i % kChunk] = std::move(item); }
    void push_back(T item) {
      if (size_ % kChunk == 0) {
        auto fresh = std::make_shared<Chunk>();
        fresh->reserve(kChunk);
        mine_.push_back(fresh.get());
        chunks_.push_back(std::move(fresh));
      }
      own(size_ / kChunk)->push_back(std::move(item));
      ++size_;
    }
    // The new version; the editor is spent.
    [[nodiscard]] CowVector finish() && {
      CowVector out;
      out.chunks_ = std::move(chunks_);
      out.size_ = size_;
      return out;
    }

   private:
    // Chunk c, copied first unless this editor made it.
    Chunk* own(std::size_t c) {
      if (mine_[c] == nullptr) {
        auto copy = std::make_shared<Chunk>();
        copy->reserve(kChunk);
        copy->assign(chunks_[c]->begin(), chunks_[c]->end());
        mine_[c] = copy.get();
        chunks_[c] = std::move(copy);
      }
      return mine_[c];
    }

    std::vector<std::shared_ptr<const Chunk>> chunks_;
    std::vector<Chunk*> mine_;  // by chunk: the editor's own copy, or null while shared
    std::size_t size_;
  };

 private:
  std::vector<std::shared_ptr<const Chunk>> chunks_;
  std::size_t size_ = 0;
};

}  // namespace crowd
