// Insight (画像, crowd profiling): how a crowd differs from the whole
// population, tag by tag. For every tag of the asked fields: how many of the
// crowd hold it, and the TGI (target group index) = 100 x the tag's share of
// the crowd / its share of the population. TGI 200 means the crowd holds the
// tag twice as often as the average user.
//
// Counts only: the crowd is read as one bitmap and every tag is counted
// against it chunk by chunk (crowd_counts.h); no per-tag bitmap is built.
#pragma once

#include <roaring/roaring.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "index/ids.h"
#include "index/index_view.h"

namespace crowd::query {

enum class InsightOrder : uint8_t {
  kTgi,    // TGI descending; tags with no TGI (no population, or an empty crowd) last
  kCount,  // count in the crowd descending
};

struct InsightOptions {
  // Fields to profile (the part of a tag before the first ':', see
  // tag_field()); empty: every field. Duplicates are ignored.
  std::vector<std::string> fields;
  // Rows kept per field after sorting; 0 keeps them all.
  std::size_t top = 0;
  // Tags held by fewer of the crowd than this are dropped (1 by default: a
  // tag nobody in the crowd holds says nothing about it; 0 lists every tag).
  uint64_t min_count = 1;
  InsightOrder order = InsightOrder::kTgi;
};

struct InsightRow {
  TagId tag = kNoTag;
  uint64_t count = 0;       // holders inside the crowd
  uint64_t population = 0;  // holders in the whole index
};

struct InsightField {
  std::string field;
  uint64_t tags = 0;  // the field's tags before min_count and top
  std::vector<InsightRow> rows;
};

struct InsightReport {
  uint64_t crowd = 0;  // the crowd's size
  uint64_t total = 0;  // the universe's size
  // The asked fields in the order asked, or every field in byte order.
  std::vector<InsightField> fields;
};

// The first asked field that has no user-visible tag.
struct UnknownField {
  std::string field;
};

// Profiles `crowd` (ordinals of `view`, a subset of its universe) over the
// fields of `options`. Tags are the user-visible ones (TagDictionary::sorted
// and with_prefix; system tags never appear).
//
// Cost: one pass over the crowd's chunks counting every tag of the fields
// (count_in_crowd: at most O(members) or 1,024 words per tag container that
// shares a chunk with the crowd; nothing allocated per tag), plus O(t log t)
// to sort a field of t tags. No pass when the crowd is empty (every count is
// 0). Measured at 10M users: see bench/analytics_bench.cc.
[[nodiscard]] std::variant<InsightReport, UnknownField> insight(const roaring_bitmap_t* crowd, const IndexView& view,
                                                                const InsightOptions& options);

// Sorts a field's rows by options.order and cuts them to options.top. Rows
// must arrive in byte order of tag names: the sort is stable, so ties stay
// in byte order. (A cluster router ranks its shards' summed rows with it.)
void rank_insight_rows(std::vector<InsightRow>& rows, const InsightOptions& options);

// count / crowd; nothing when the crowd is empty.
[[nodiscard]] std::optional<double> crowd_share(const InsightRow& row, uint64_t crowd);
// population / total; nothing when the universe is empty.
[[nodiscard]] std::optional<double> population_share(const InsightRow& row, uint64_t total);
// 100 x crowd share / population share; nothing when either is undefined or
// the population share is 0 (a tag nobody holds).
[[nodiscard]] std::optional<double> tgi(const InsightRow& row, uint64_t crowd, uint64_t total);

}  // namespace crowd::query
