// Fused count: a whole Plan evaluated one 2^16-ordinal chunk at a time.
//
// The operator-at-a-time Evaluator materialises a Roaring bitmap per
// operator; at 10M users the intermediates, not the memory traffic, are the
// cost (PERFORMANCE-NOTES.md: an AND of two 10% tags counted is ~38 us,
// materialised ~950 us). Here every node of the plan is evaluated for one
// chunk (one CRoaring container key) into a reusable 8 KiB scratch bitset, the
// root is popcounted, and the next chunk follows. Bitset containers are read
// in place (never copied); array and run containers are scattered into a
// scratch bitset; AND and AND-NOT stop at the first empty operand, so a chunk
// where a positive operand has no container costs a few compares.
//
// Status (bench/evaluator_bench.cc, 10M users): exact on every plan, but not
// yet faster than the operator path on uniform 1-50% tags (0.85-1.0x) and
// slower on run-heavy tags (run containers are scattered into bitsets here,
// intersected run by run in CRoaring). Both paths are bound by touching array
// members (~1.4 ns each: a 5% tag is 500k of them). So Evaluator does not use
// it by default; CountPath selects it.
//
// Precondition (an IndexView invariant): every tag is a subset of the
// universe, so only the universe's chunk keys are visited.
//
// One FusedScratch per thread (an Evaluator owns one): after the first query
// of a given depth nothing is allocated per query.
#pragma once

#include <roaring/roaring.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "index/chunk_cursor.h"
#include "index/index_view.h"
#include "query/plan.h"

namespace crowd::query {

// Reusable scratch space for fused_count: (plan depth + 2) 8 KiB bitsets and
// a flattened copy of the plan's shape with one container cursor per leaf.
class FusedScratch {
 public:
  static constexpr std::size_t kWords = 1024;  // 2^16 bits
  struct alignas(64) Block {
    uint64_t words[kWords];
  };
  // A plan node, flattened: children of node i are nodes_[first, first+count).
  struct Node {
    PlanKind kind = PlanKind::kEmpty;
    uint32_t first = 0;      // first child (kAnd, kAndNot, kOr, kNot) or first cursor (kTag, kUnion)
    uint32_t count = 0;      // number of children or cursors
    uint32_t positives = 0;  // kAndNot
  };

 private:
  friend class FusedRun;
  std::vector<Block> blocks_;
  std::vector<uint64_t*> slots_;  // permutable views of blocks_, one per level
  // Two per level: the surviving members of an AND driven by an array
  // container (at most 4,096), filtered from one into the other (CRoaring's
  // SIMD intersections need distinct input and output, and 8 spare slots).
  using List = std::array<uint16_t, 4096 + 16>;
  std::vector<std::array<List, 2>> lists_;
  std::vector<Node> nodes_;
  std::vector<ChunkCursor> cursors_;  // cursors_[0] is the universe; tags read through their DenseChunks
};

// True when `plan` should be counted by fused_count: anything CRoaring cannot
// answer with a cached cardinality or a single *_cardinality call (a leaf, a
// union of 1-2 tags, NOT of a tag, AND / OR / AND-NOT of two tags: those are
// already optimal and the fused pass would only add scratch traffic). The one
// place where the choice of path is made. O(1).
[[nodiscard]] bool prefers_fused(const Plan& plan);

// The size of the plan's set. `view` must be the view the plan was compiled
// against. Handles every PlanKind. Cost: for each chunk key of the universe,
// O(1) per leaf to find its container, plus O(1024 words) per combined
// operand and O(cardinality) per array/run operand that has to be scattered;
// an AND stops at its first empty operand. Allocates only when `scratch` has
// not yet seen a plan this deep or this wide. Never throws except bad_alloc.
[[nodiscard]] uint64_t fused_count(const Plan& plan, const IndexView& view, FusedScratch& scratch);

// The plan's members in each chunk of `keys` (ascending chunk keys of the
// universe) into counts[i]: fused_count restricted to a sample of chunks, for
// estimates (query/estimate.h). Cost: that of fused_count over those chunks
// plus the cursors' forward steps over the skipped keys.
void fused_count_chunks(const Plan& plan, const IndexView& view, FusedScratch& scratch,
                        std::span<const uint16_t> keys, std::span<uint64_t> counts);

// The first `limit` members of the plan's set that are >= `from`, ascending,
// into `out` (cleared first): a page of a crowd without materialising it.
// Evaluates chunk by chunk like fused_count and stops at the chunk where the
// page fills, so the cost is that of the chunks up to there (a first page of
// 1,000 users of a 1%-crowd reads ~2 chunks of 150 at 10M users).
void fused_collect(const Plan& plan, const IndexView& view, FusedScratch& scratch, Ordinal from, std::size_t limit,
                   std::vector<Ordinal>& out);

}  // namespace crowd::query
