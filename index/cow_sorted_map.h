// CowSortedMap: an immutable map from strings (std::string, or string_view
// into storage that outlives every version) to V, in byte order of keys,
// whose new versions share what they did not change.
//
// Entries live in sorted leaves of at most 2 * kLeaf behind shared pointers;
// a version is the sorted list of its leaves. An Editor copies a leaf the
// first time it writes into it and finish() yields the next version, so
// setting one key among n costs O(n / kLeaf) pointer copies plus one leaf,
// where a std::map costs a node per entry: copying the saved crowds'
// definitions was most of a crowd PUT at 29k crowds (issue 14, 8b).
//
// Versions are values, never changed once made (see cow_vector.h for why the
// editor tracks the leaves it made instead of asking use_count()).
#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crowd {

template <class V, std::size_t kLeaf = 64, class Key = std::string>
class CowSortedMap {
 public:
  using value_type = std::pair<Key, V>;

 private:
  using Leaf = std::vector<value_type>;
  using Leaves = std::vector<std::shared_ptr<const Leaf>>;

  // The first leaf that could hold `key` (whose last key is not below it),
  // or leaves.size() when key is above every key.
  static std::size_t leaf_for(const Leaves& leaves, std::string_view key) {
    return static_cast<std::size_t>(
        std::partition_point(leaves.begin(), leaves.end(),
                             [key](const std::shared_ptr<const Leaf>& l) { return l->back().first < key; }) -
        leaves.begin());
  }
  static typename Leaf::const_iterator lower_in(const Leaf& leaf, std::string_view key) {
    return std::lower_bound(leaf.begin(), leaf.end(), key,
                            [](const value_type& e, std::string_view k) { return e.first < k; });
  }

 public:
  class const_iterator {
   public:
    using value_type = CowSortedMap::value_type;
    using reference = const value_type&;
    using pointer = const value_type*;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::forward_iterator_tag;

    const_iterator() = default;
    reference operator*() const { return (*(*leaves_)[leaf_])[pos_]; }
    pointer operator->() const { return &**this; }
    const_iterator& operator++() {
      if (++pos_ == (*leaves_)[leaf_]->size()) {
        ++leaf_;
        pos_ = 0;
      }
      return *this;
    }
    const_iterator operator++(int) {
      auto was = *this;
      ++*this;
      return was;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) {
      return a.leaf_ == b.leaf_ && a.pos_ == b.pos_;
    }

   private:
    friend class CowSortedMap;
    const_iterator(const Leaves* leaves, std::size_t leaf, std::size_t pos) : leaves_(leaves), leaf_(leaf), pos_(pos) {
      if (leaf_ < leaves_->size() && pos_ == (*leaves_)[leaf_]->size()) {  // past a leaf's end: the next leaf
        ++leaf_;
        pos_ = 0;
      }
    }
    const Leaves* leaves_ = nullptr;
    std::size_t leaf_ = 0;
    std::size_t pos_ = 0;
  };

  CowSortedMap() = default;
  template <class K, class Less>
  explicit CowSortedMap(const std::map<K, V, Less>& sorted) {
    Editor e{CowSortedMap()};
    for (const auto& [key, value] : sorted) e.set(key, value);
    *this = std::move(e).finish();
  }

  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  [[nodiscard]] const_iterator begin() const { return {&leaves_, 0, 0}; }
  [[nodiscard]] const_iterator end() const { return {&leaves_, leaves_.size(), 0}; }
  // The first entry whose key is not below `key`. O(log n).
  [[nodiscard]] const_iterator lower_bound(std::string_view key) const {
    const std::size_t l = leaf_for(leaves_, key);
    if (l == leaves_.size()) return end();
    return {&leaves_, l, static_cast<std::size_t>(lower_in(*leaves_[l], key) - leaves_[l]->begin())};
  }
  [[nodiscard]] const_iterator find(std::string_view key) const {
    const auto it = lower_bound(key);
    return it != end() && it->first == key ? it : end();
  }
  [[nodiscard]] bool contains(std::string_view key) const { return find(key) != end(); }
  [[nodiscard]] const V& at(std::string_view key) const {
    const auto it = find(key);
    if (it == end()) throw std::out_of_range("CowSortedMap::at");
    return it->second;
  }
  friend bool operator==(const CowSortedMap& a, const CowSortedMap& b) {
    return a.size_ == b.size_ && std::equal(a.begin(), a.end(), b.begin());
  }
  // Whether the entry for `key` is stored in the same leaf in both (tests).
  [[nodiscard]] bool shares_leaf_with(const CowSortedMap& other, std::string_view key) const {
    const std::size_t a = leaf_for(leaves_, key);
    const std::size_t b = leaf_for(other.leaves_, key);
    return a < leaves_.size() && b < other.leaves_.size() && leaves_[a] == other.leaves_[b];
  }

  // Builds the next version from `base`, which it does not change.
  class Editor {
   public:
    explicit Editor(const CowSortedMap& base)
        : leaves_(base.leaves_), mine_(base.leaves_.size(), nullptr), size_(base.size_) {}

    void set(Key key, V value) {
      std::size_t l = leaf_for(leaves_, key);
      if (l == leaves_.size()) {
        if (leaves_.empty()) {
          auto fresh = std::make_shared<Leaf>();
          mine_.push_back(fresh.get());
          leaves_.push_back(std::move(fresh));
        }
        l = leaves_.size() - 1;  // above every key: the last leaf's end
      }
      Leaf& leaf = *own(l);
      const auto at = leaf.begin() + (lower_in(leaf, key) - leaf.cbegin());
      if (at != leaf.end() && at->first == key) {
        at->second = std::move(value);
        return;
      }
      leaf.emplace(at, std::move(key), std::move(value));
      ++size_;
      if (leaf.size() > 2 * kLeaf) split(l);
    }
    // Whether `key` was there.
    bool erase(std::string_view key) {
      const std::size_t l = leaf_for(leaves_, key);
      if (l == leaves_.size()) return false;
      const auto in_base = lower_in(*leaves_[l], key);
      if (in_base == leaves_[l]->end() || in_base->first != key) return false;
      const auto offset = in_base - leaves_[l]->begin();
      Leaf& leaf = *own(l);
      leaf.erase(leaf.begin() + offset);
      --size_;
      if (leaf.empty()) {  // leaves are never empty (leaf_for reads back())
        leaves_.erase(leaves_.begin() + static_cast<std::ptrdiff_t>(l));
        mine_.erase(mine_.begin() + static_cast<std::ptrdiff_t>(l));
      }
      return true;
    }
    // The new version; the editor is spent.
    [[nodiscard]] CowSortedMap finish() && {
      CowSortedMap out;
      out.leaves_ = std::move(leaves_);
      out.size_ = size_;
      return out;
    }

   private:
    Leaf* own(std::size_t l) {
      if (mine_[l] == nullptr) {
        auto copy = std::make_shared<Leaf>(*leaves_[l]);
        mine_[l] = copy.get();
        leaves_[l] = std::move(copy);
      }
      return mine_[l];
    }
    // Leaf l (this editor's) into two halves.
    void split(std::size_t l) {
      Leaf& full = *mine_[l];
      const auto middle = full.begin() + static_cast<std::ptrdiff_t>(full.size() / 2);
      auto upper = std::make_shared<Leaf>(std::make_move_iterator(middle), std::make_move_iterator(full.end()));
      full.erase(middle, full.end());
      const auto at = static_cast<std::ptrdiff_t>(l + 1);
      mine_.insert(mine_.begin() + at, upper.get());
      leaves_.insert(leaves_.begin() + at, std::move(upper));
    }

    Leaves leaves_;
    std::vector<Leaf*> mine_;  // by leaf: the editor's own copy, or null while shared
    std::size_t size_;
  };

 private:
  Leaves leaves_;
  std::size_t size_ = 0;
};

}  // namespace crowd
