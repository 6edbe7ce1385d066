// fused_count against the operator-at-a-time Evaluator (itself checked against
// the naive model in query_evaluator_test.cc, which also runs the fused path on
// every random query of every seed) on hand-built views where each chunk of
// each tag is chosen to be missing, an array, a bitset, a run container, a
// full run, or a copy-on-write shared container; on empty universes; and on
// random plans of every node kind.
#include <algorithm>
#include <gtest/gtest.h>

// The one includer of CRoaring's container headers outside
// index/chunk_cursor.cc: container_kinds() below checks that the hand-built
// fixtures really hold copy-on-write shared containers, which ChunkCursor
// deliberately reads through and so cannot report.
#include <roaring/containers/containers.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "query/evaluator.h"
#include "query/fused_evaluator.h"
#include "query/plan.h"
#include "tests/support/random_index.h"

namespace crowd::query {
namespace {

// A view over hand-made bitmaps. `tags` must be subsets of `universe`.
struct HandView {
  std::vector<Bitmap> cow_sources;  // keep shared containers' owners alive
  std::unique_ptr<IndexView> view;
};

HandView make_view(std::vector<Bitmap> tags, Bitmap universe, std::vector<Bitmap> cow_sources = {}) {
  IndexView::Parts parts;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    std::string name(1, 't');  // appended, not "t" + ...: GCC 12 warns spuriously on that
    name += std::to_string(i);
    names.push_back(std::move(name));
  }
  parts.dictionary = TagDictionary::from_names(names);
  std::vector<std::shared_ptr<const TagBits>> bits;
  for (auto& t : tags) bits.push_back(std::make_shared<const TagBits>(std::move(t)));
  parts.tags = IndexView::Tags(std::move(bits));
  parts.universe = std::make_shared<const TagBits>(std::move(universe));
  HandView out;
  out.cow_sources = std::move(cow_sources);
  out.view = std::make_unique<IndexView>(std::move(parts));
  return out;
}

// Counts of each container kind (after unwrapping shared ones) over every tag.
struct Kinds {
  std::size_t bitset = 0, array = 0, run = 0, shared = 0, full_run = 0;
};
Kinds container_kinds(const IndexView& view) {
  Kinds k;
  for (TagId id = 0; id < view.tag_count(); ++id) {
    const roaring_array_t& ra = view.tag(id).bits.get()->high_low_container;
    for (int32_t i = 0; i < ra.size; ++i) {
      uint8_t type = ra.typecodes[i];
      const void* c = ra.containers[i];
      if (type == SHARED_CONTAINER_TYPE_CODE) {
        ++k.shared;
        type = static_cast<const shared_container_t*>(c)->typecode;
        c = static_cast<const shared_container_t*>(c)->container;
      }
      if (type == BITSET_CONTAINER_TYPE_CODE) ++k.bitset;
      if (type == ARRAY_CONTAINER_TYPE_CODE) ++k.array;
      if (type == RUN_CONTAINER_TYPE_CODE) {
        ++k.run;
        const auto* r = static_cast<const run_container_t*>(c);
        if (r->n_runs == 1 && r->runs[0].length == 0xFFFF) ++k.full_run;
      }
    }
  }
  return k;
}

// One chunk of a tag, of a random kind.
void fill_chunk(roaring_bitmap_t* b, uint32_t chunk, std::mt19937_64& rng) {
  const uint32_t base = chunk << 16;
  switch (rng() % 7) {
    case 0:  // missing
      break;
    case 1:  // sparse: array
      for (int i = 0, n = 1 + static_cast<int>(rng() % 300); i < n; ++i) roaring_bitmap_add(b, base + rng() % 65536);
      break;
    case 2:  // dense: bitset
      for (uint32_t v = 0; v < 65536; ++v) {
        if (rng() % 3 == 0) roaring_bitmap_add(b, base + v);
      }
      break;
    case 3: {  // a few runs, some touching word and chunk edges
      for (int i = 0, n = 1 + static_cast<int>(rng() % 6); i < n; ++i) {
        const uint32_t start = rng() % 4 == 0 ? 0 : static_cast<uint32_t>(rng() % 65536);
        const uint32_t end = rng() % 4 == 0 ? 65536 : std::min<uint32_t>(65536, start + 1 + rng() % 9000);
        roaring_bitmap_add_range(b, base + start, base + end);
      }
      break;
    }
    case 4:  // full
      roaring_bitmap_add_range(b, base, base + 65536);
      break;
    case 5:  // a few percent: an array big enough for DenseChunks to expand
      for (int i = 0, n = 1024 + static_cast<int>(rng() % 3000); i < n; ++i) roaring_bitmap_add(b, base + rng() % 65536);
      break;
    default:  // a single value at an edge
      roaring_bitmap_add(b, base + (rng() % 2 ? 0 : 65535));
      break;
  }
}

// Random well-formed plan of every kind over the view's tags.
class PlanGenerator {
 public:
  PlanGenerator(uint64_t seed, const IndexView& view) : rng_(seed), view_(view) {}

  PlanNode node(int depth) {
    const std::size_t tags = view_.tag_count();
    if (depth <= 0 || pick(4) == 0) {
      const std::size_t r = pick(24);
      if (r == 0) return make_empty_node();
      if (r == 1) return make_all_node(view_);
      if (r <= 5 && tags > 0) {
        std::vector<TagId> ids;
        for (std::size_t i = 0, n = 1 + pick(5); i < n; ++i) ids.push_back(static_cast<TagId>(pick(tags)));
        return make_union_node(view_, std::move(ids));
      }
      if (tags == 0) return make_all_node(view_);
      return make_tag_node(view_, static_cast<TagId>(pick(tags)));
    }
    PlanNode n;
    switch (pick(4)) {
      case 0:
        n.kind = PlanKind::kNot;
        n.children.push_back(node(depth - 1));
        return n;
      case 1:
        n.kind = PlanKind::kAnd;
        break;
      case 2:
        n.kind = PlanKind::kOr;
        break;
      default:
        n.kind = PlanKind::kAndNot;
        break;
    }
    const std::size_t count = 2 + pick(4);
    for (std::size_t i = 0; i < count; ++i) n.children.push_back(node(depth - 1));
    if (n.kind == PlanKind::kAndNot) n.positives = 1 + pick(count - 1);
    return n;
  }

  // Where a page starts: 0, a member, just past one, or past the end.
  uint32_t page_start(const Bitmap& members) {
    const uint64_t n = members.cardinality();
    switch (pick(4)) {
      case 0:
        return 0;
      case 1:
      case 2: {
        if (n == 0) return 0;
        uint32_t v = 0;
        roaring_bitmap_select(members.get(), static_cast<uint32_t>(pick(n)), &v);
        return v + static_cast<uint32_t>(pick(2));
      }
      default:
        return n == 0 ? 1 : roaring_bitmap_maximum(members.get()) + 1;
    }
  }

 private:
  std::size_t pick(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }
  std::mt19937_64 rng_;
  const IndexView& view_;
};

// A page by Evaluator::collect against the same page cut from the
// materialised set.
void expect_page(Evaluator& evaluator, const Plan& plan, const IndexView& view, const Bitmap& members, uint32_t from,
                 std::size_t limit) {
  std::vector<uint32_t> all(members.cardinality());
  roaring_bitmap_to_uint32_array(members.get(), all.data());
  const auto first = std::lower_bound(all.begin(), all.end(), from);
  const std::vector<uint32_t> expected(first, first + std::min<std::ptrdiff_t>(all.end() - first, limit));
  std::vector<uint32_t> page;
  evaluator.collect(plan, view, from, limit, page);
  ASSERT_EQ(page, expected) << describe(plan.root(), view.dictionary()) << " from " << from << " limit " << limit;
}

void expect_paths_agree(const IndexView& view, uint64_t seed, int plans) {
  PlanGenerator generator(seed, view);
  Evaluator fused(CountPath::kFused);
  Evaluator by_operator(CountPath::kOperator);
  Evaluator automatic(CountPath::kAuto);
  for (int i = 0; i < plans; ++i) {
    const Plan plan(generator.node(1 + i % 5), view);
    const uint64_t expected = by_operator.count(plan, view);
    ASSERT_EQ(fused.count(plan, view), expected) << describe(plan.root(), view.dictionary());
    ASSERT_EQ(automatic.count(plan, view), expected) << describe(plan.root(), view.dictionary());
    const Bitmap members = by_operator.materialize(plan, view);
    ASSERT_EQ(expected, members.cardinality());
    expect_page(fused, plan, view, members, generator.page_start(members), 1 + i % 1500);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(FusedEvaluator, EveryContainerKindInEveryPosition) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const uint32_t chunks = 24;
    std::vector<Bitmap> tags;
    Bitmap universe;
    for (int t = 0; t < 12; ++t) {
      Bitmap b;
      for (uint32_t c = 0; c < chunks; ++c) fill_chunk(b.get(), c, rng);
      if (t % 2 == 0) roaring_bitmap_run_optimize(b.get());
      roaring_bitmap_or_inplace(universe.get(), b.get());
      tags.push_back(std::move(b));
    }
    // Users with no tag, and a full chunk with none.
    for (uint32_t c = 0; c < chunks; ++c) roaring_bitmap_add(universe.get(), (c << 16) + 777);
    roaring_bitmap_add_range(universe.get(), uint64_t{chunks} << 16, uint64_t{chunks + 1} << 16);
    if (seed % 2 == 0) roaring_bitmap_run_optimize(universe.get());
    const HandView hv = make_view(std::move(tags), std::move(universe));
    const Kinds k = container_kinds(*hv.view);
    EXPECT_GT(k.bitset, 0u);
    EXPECT_GT(k.array, 0u);
    EXPECT_GT(k.run, 0u);
    EXPECT_GT(k.full_run, 0u);
    expect_paths_agree(*hv.view, seed * 31, 1500);
    if (HasFatalFailure()) return;
    EXPECT_GT(DenseChunks::total_bytes(), 0u) << "no array was big enough to be expanded";
  }
}

// fused_count on `view` against the operator path on `reference`, a view
// with equal bitmaps (the same seed makes the same plans on both).
void expect_fused_matches(const IndexView& view, const IndexView& reference, uint64_t seed, int plans) {
  PlanGenerator generator(seed, view);
  PlanGenerator reference_generator(seed, reference);
  Evaluator fused(CountPath::kFused);
  Evaluator by_operator(CountPath::kOperator);
  for (int i = 0; i < plans; ++i) {
    const Plan plan(generator.node(1 + i % 5), view);
    const Plan reference_plan(reference_generator.node(1 + i % 5), reference);
    ASSERT_EQ(fused.count(plan, view), by_operator.count(reference_plan, reference))
        << describe(plan.root(), view.dictionary());
  }
}

TEST(FusedEvaluator, SharedContainers) {
  std::mt19937_64 rng(99);
  std::vector<Bitmap> sources;
  std::vector<Bitmap> tags;
  std::vector<Bitmap> plain;
  Bitmap universe;
  for (int t = 0; t < 8; ++t) {
    Bitmap b;
    for (uint32_t c = 0; c < 10; ++c) fill_chunk(b.get(), c, rng);
    roaring_bitmap_run_optimize(b.get());
    roaring_bitmap_or_inplace(universe.get(), b.get());
    plain.push_back(b.clone());
    roaring_bitmap_set_copy_on_write(b.get(), true);
    tags.push_back(Bitmap(roaring_bitmap_copy(b.get())));  // shares every container with b
    sources.push_back(std::move(b));
  }
  const HandView reference = make_view(std::move(plain), universe.clone());
  const HandView hv = make_view(std::move(tags), std::move(universe), std::move(sources));
  const Kinds k = container_kinds(*hv.view);
  ASSERT_GT(k.shared, 0u) << "copy-on-write copies should hold shared containers";
  // The reference is the operator path on plain copies: CRoaring 0.2.66's
  // in-place operations crash on copy-on-write bitmaps (the index never
  // makes them; fused_count only reads, so it unwraps them safely).
  expect_fused_matches(*hv.view, *reference.view, 5, 1500);
}

TEST(FusedEvaluator, EmptyUniverseAndEmptyTags) {
  {
    const HandView hv = make_view({}, Bitmap());
    expect_paths_agree(*hv.view, 1, 200);
  }
  {
    std::vector<Bitmap> tags;
    tags.emplace_back();
    tags.emplace_back();
    const HandView hv = make_view(std::move(tags), Bitmap());
    expect_paths_agree(*hv.view, 2, 300);
  }
  {
    // Tags present in disjoint chunks only: every AND of two of them is
    // decided by missing containers.
    std::vector<Bitmap> tags;
    Bitmap universe;
    for (uint32_t t = 0; t < 5; ++t) {
      Bitmap b;
      roaring_bitmap_add_range(b.get(), uint64_t{t} << 16, (uint64_t{t} << 16) + 1000 + t);
      roaring_bitmap_add(b.get(), (uint32_t{t + 1} << 16) + 5);
      roaring_bitmap_or_inplace(universe.get(), b.get());
      tags.push_back(std::move(b));
    }
    const HandView hv = make_view(std::move(tags), std::move(universe));
    expect_paths_agree(*hv.view, 3, 1000);
  }
}

// The random index the query tests use holds every container kind (clustered
// tags become run containers), so the model tests cover them all.
TEST(FusedEvaluator, RandomIndexHasEveryContainerKind) {
  const auto data = test::make_random_index({.seed = 3, .users = 140'000, .tags = 50, .bulk = true});
  const auto view = data.index->view();
  const Kinds k = container_kinds(*view);
  EXPECT_GT(k.bitset, 0u);
  EXPECT_GT(k.array, 0u);
  EXPECT_GT(k.run, 0u);
  expect_paths_agree(*view, 17, 1000);
}

TEST(FusedEvaluator, PathChoice) {
  std::vector<Bitmap> tags(4);
  Bitmap universe;
  roaring_bitmap_add_range(universe.get(), 0, 100);
  for (auto& t : tags) roaring_bitmap_add_range(t.get(), 0, 50);
  const HandView hv = make_view(std::move(tags), std::move(universe));
  const IndexView& v = *hv.view;
  const auto tag = [&](TagId id) { return make_tag_node(v, id); };
  const auto nary = [&](PlanKind kind, std::vector<PlanNode> children) {
    PlanNode n;
    n.kind = kind;
    n.children = std::move(children);
    if (kind == PlanKind::kAndNot) n.positives = 1;
    return n;
  };
  EXPECT_FALSE(prefers_fused(Plan(tag(0), v)));
  EXPECT_FALSE(prefers_fused(Plan(make_all_node(v), v)));
  EXPECT_FALSE(prefers_fused(Plan(nary(PlanKind::kAnd, {tag(0), tag(1)}), v)));
  EXPECT_FALSE(prefers_fused(Plan(nary(PlanKind::kAndNot, {tag(0), tag(1)}), v)));
  EXPECT_FALSE(prefers_fused(Plan(nary(PlanKind::kNot, {tag(0)}), v)));
  EXPECT_FALSE(prefers_fused(Plan(make_union_node(v, {0, 1}), v)));
  EXPECT_TRUE(prefers_fused(Plan(make_union_node(v, {0, 1, 2}), v)));
  EXPECT_TRUE(prefers_fused(Plan(nary(PlanKind::kAnd, {tag(0), tag(1), tag(2)}), v)));
  EXPECT_TRUE(prefers_fused(Plan(nary(PlanKind::kOr, {tag(0), nary(PlanKind::kAnd, {tag(1), tag(2)})}), v)));
}

}  // namespace
}  // namespace crowd::query
