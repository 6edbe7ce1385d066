// How many of one crowd hold each of many tags: the counting kernel of
// insight, where hundreds to thousands of tags are counted against the same
// crowd and no intersection is ever built.
//
// The obvious loop, one roaring_bitmap_and_cardinality per tag, walks the
// crowd's containers again for every tag and probes a crowd chunk that has
// long left L1. Here the crowd is made bitsets once (bitset chunks borrowed,
// array and run chunks expanded), and tags are taken in blocks of 64, chunk
// by chunk within a block, so one crowd chunk stays in L1 while the block's
// containers of that chunk are counted against it:
//   tag bitset   AND + popcount of 1,024 words (CRoaring's kernel), or, when
//                the crowd's chunk is a small array, a bit test per member
//   tag array    a bit test per tag member, or, when the crowd's chunk is an
//                array 64x smaller, CRoaring's galloping intersection
//   tag run      a popcount of the crowd's words over each run
//
// Measured (bench/analytics_bench.cc BM_Count and BM_Scan, 10M demo users,
// CPU time, medians of 5, a 2-core machine shared with other work): the 402
// demographic tags 35-37 ms vs 46-52 ms for one and_cardinality per tag;
// all 9,902 tags 480-510 ms vs 505-690 ms. Without blocking (chunk-major
// over every tag at once) it was 1.5 s: a cache miss per tag per chunk on
// the tags' key and container arrays. Merely reading the tags' members and
// words once costs 21 ms and 180 ms (BM_Scan): the work is bound by the
// size of the tags, not by the intersections, so a much faster profile
// needs less to read (e.g. a per-user value column for one-value fields),
// not a better kernel.
#pragma once

#include <roaring/roaring.h>

#include <cstdint>
#include <span>
#include <vector>

namespace crowd::query {

// counts[i] := |crowd AND tags[i]| (counts is resized to tags.size()).
// Cost: O(containers of the crowd x tags) cursor steps plus, per shared
// chunk, the work above: at most O(tag members) or 1,024 words per tag
// container. Allocates `counts`, and per thread a scratch buffer reused
// across calls (8 KiB per array or run chunk of the largest crowd seen).
void count_in_crowd(const roaring_bitmap_t* crowd, std::span<const roaring_bitmap_t* const> tags,
                    std::vector<uint64_t>& counts);

}  // namespace crowd::query
