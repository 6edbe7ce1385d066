#include "bench/naive_roaring.h"

#include <roaring/roaring.h>

#include <utility>
#include <vector>

#include "index/bitmap.h"

namespace crowd::bench {
namespace {

using query::AstKind;
using query::AstNode;

// A node's set: borrowed from the view, or owned by this handle.
class Set {
 public:
  static Set borrowed(const roaring_bitmap_t* b) { return Set(b, nullptr); }
  static Set owned(roaring_bitmap_t* b) { return Set(nullptr, b); }
  Set(Set&& o) noexcept : borrowed_(o.borrowed_), owned_(std::exchange(o.owned_, nullptr)) {}
  Set& operator=(Set&& o) noexcept {
    if (this != &o) {
      if (owned_ != nullptr) roaring_bitmap_free(owned_);
      borrowed_ = o.borrowed_;
      owned_ = std::exchange(o.owned_, nullptr);
    }
    return *this;
  }
  Set(const Set&) = delete;
  Set& operator=(const Set&) = delete;
  ~Set() {
    if (owned_ != nullptr) roaring_bitmap_free(owned_);
  }
  [[nodiscard]] const roaring_bitmap_t* get() const { return owned_ != nullptr ? owned_ : borrowed_; }
  [[nodiscard]] roaring_bitmap_t* mutable_owned() const { return owned_; }

 private:
  Set(const roaring_bitmap_t* b, roaring_bitmap_t* o) : borrowed_(b), owned_(o) {}
  const roaring_bitmap_t* borrowed_;
  roaring_bitmap_t* owned_;
};

enum class Op { kAnd, kOr, kAndNot };

class Walker {
 public:
  explicit Walker(const IndexView& view) : view_(view), universe_(view.universe().bits.get()) {}

  std::string error;

  Set eval(const AstNode& n) {
    switch (n.kind) {
      case AstKind::kTag: {
        const auto id = view_.dictionary().find(n.text);
        if (!id) return fail("unknown tag " + n.text);
        return Set::borrowed(view_.tag(*id).bits.get());
      }
      case AstKind::kPrefix: {
        const auto ids = view_.dictionary().with_prefix(n.text);
        if (ids.empty()) return fail("prefix " + n.text + "* matches no tag");
        if (ids.size() == 1) return Set::borrowed(view_.tag(ids[0]).bits.get());
        std::vector<const roaring_bitmap_t*> bits;
        bits.reserve(ids.size());
        for (const TagId id : ids) bits.push_back(view_.tag(id).bits.get());
        return Set::owned(roaring_bitmap_or_many(bits.size(), bits.data()));
      }
      case AstKind::kAll:
        return Set::borrowed(universe_);
      case AstKind::kNot: {
        const Set x = eval(n.children[0]);
        return Set::owned(roaring_bitmap_andnot(universe_, x.get()));
      }
      case AstKind::kAnd:
      case AstKind::kOr:
        return fold(n, n.children.size());
      default:
        return fail("the baselines support tags, prefixes, ALL, NOT, AND and OR only");
    }
  }

  uint64_t count(const AstNode& root, NaiveEnd end) {
    if (end == NaiveEnd::kMaterialize) return roaring_bitmap_get_cardinality(eval(root).get());
    switch (root.kind) {
      case AstKind::kNot: {
        const Set x = eval(root.children[0]);
        return roaring_bitmap_andnot_cardinality(universe_, x.get());
      }
      case AstKind::kAnd:
      case AstKind::kOr: {
        const Set acc = fold(root, root.children.size() - 1);
        const AstNode& last = root.children.back();
        if (root.kind == AstKind::kOr) return roaring_bitmap_or_cardinality(acc.get(), eval(last).get());
        if (last.kind == AstKind::kNot) {
          return roaring_bitmap_andnot_cardinality(acc.get(), eval(last.children[0]).get());
        }
        return roaring_bitmap_and_cardinality(acc.get(), eval(last).get());
      }
      default:
        return roaring_bitmap_get_cardinality(eval(root).get());
    }
  }

 private:
  Set fail(std::string message) {
    if (error.empty()) error = std::move(message);
    static const Bitmap empty;
    return Set::borrowed(empty.get());
  }

  // acc op b: in place when acc is ours, else into a new bitmap.
  static Set combine(Set acc, const Set& b, Op op) {
    if (roaring_bitmap_t* mine = acc.mutable_owned()) {
      if (op == Op::kAnd) roaring_bitmap_and_inplace(mine, b.get());
      if (op == Op::kOr) roaring_bitmap_or_inplace(mine, b.get());
      if (op == Op::kAndNot) roaring_bitmap_andnot_inplace(mine, b.get());
      return acc;
    }
    if (op == Op::kAnd) return Set::owned(roaring_bitmap_and(acc.get(), b.get()));
    if (op == Op::kOr) return Set::owned(roaring_bitmap_or(acc.get(), b.get()));
    return Set::owned(roaring_bitmap_andnot(acc.get(), b.get()));
  }

  // The AND or OR of children[0, to), left to right (to >= 1). Under AND an
  // operand NOT x is an and-not of x; an AND starting with one starts from
  // the universe.
  Set fold(const AstNode& n, std::size_t to) {
    const auto& c = n.children;
    if (n.kind == AstKind::kOr) {
      Set acc = eval(c[0]);
      for (std::size_t i = 1; i < to; ++i) acc = combine(std::move(acc), eval(c[i]), Op::kOr);
      return acc;
    }
    std::size_t i = 0;
    Set acc = c[0].kind == AstKind::kNot ? Set::borrowed(universe_) : eval(c[i++]);
    for (; i < to; ++i) {
      if (c[i].kind == AstKind::kNot) {
        acc = combine(std::move(acc), eval(c[i].children[0]), Op::kAndNot);
      } else {
        acc = combine(std::move(acc), eval(c[i]), Op::kAnd);
      }
    }
    return acc;
  }

  const IndexView& view_;
  const roaring_bitmap_t* universe_;
};

}  // namespace

bool naive_count(const query::Ast& ast, const IndexView& view, NaiveEnd end, uint64_t& count, std::string& error) {
  Walker walker(view);
  count = walker.count(ast, end);
  error = std::move(walker.error);
  return error.empty();
}

}  // namespace crowd::bench
