#include "query/insight.h"

#include <algorithm>
#include <map>
#include <span>
#include <string_view>

#include "index/index_view.h"
#include "index/tag_dictionary.h"
#include "query/crowd_counts.h"

namespace crowd::query {
namespace {

// A field's tags in byte order of their names: the bare tag `field` (a tag
// with no ':' is its own field) sorts before every `field:...`.
// with_prefix() and find_tag() skip the index's own tags.
std::vector<TagId> tags_of_field(const IndexView& view, std::string_view field) {
  std::vector<TagId> out;
  if (field.find(':') != std::string_view::npos) return out;
  if (const auto bare = view.find_tag(field)) out.push_back(*bare);
  std::string prefix(field);
  prefix.push_back(':');
  for (const TagId id : view.dictionary().with_prefix(prefix)) out.push_back(id);
  return out;
}

// Keeps a field's tags with at least min_count (counts[i] is tags[i]'s),
// sorts and cuts to `top` (rank_insight_rows).
InsightField profile_field(std::string field, std::span<const TagId> tags, std::span<const uint64_t> counts,
                           const IndexView& view, const InsightOptions& options) {
  InsightField out{std::move(field), tags.size(), {}};
  out.rows.reserve(tags.size());
  for (std::size_t i = 0; i < tags.size(); ++i) {
    if (counts[i] < options.min_count) continue;
    out.rows.push_back({tags[i], counts[i], view.tag(tags[i]).cardinality});
  }
  rank_insight_rows(out.rows, options);
  return out;
}

}  // namespace

void rank_insight_rows(std::vector<InsightRow>& rows, const InsightOptions& options) {
  if (options.order == InsightOrder::kCount) {
    std::stable_sort(rows.begin(), rows.end(), [](const InsightRow& a, const InsightRow& b) { return a.count > b.count; });
  } else {
    // TGI is proportional to count / population for one crowd, so compare
    // the fractions exactly by cross-multiplying: no two distinct TGIs tie
    // by rounding. 128-bit products: a cluster's counts may pass 2^32.
    // Tags with no population (no TGI) go last. With an empty crowd every
    // TGI is undefined, and this leaves byte order.
    __extension__ using Uint128 = unsigned __int128;
    std::stable_sort(rows.begin(), rows.end(), [](const InsightRow& a, const InsightRow& b) {
      if (a.population == 0 || b.population == 0) return a.population != 0 && b.population == 0;
      return static_cast<Uint128>(a.count) * b.population > static_cast<Uint128>(b.count) * a.population;
    });
  }
  if (options.top != 0 && rows.size() > options.top) rows.resize(options.top);
}

std::variant<InsightReport, UnknownField> insight(const roaring_bitmap_t* crowd, const IndexView& view,
                                                  const InsightOptions& options) {
  const TagDictionary& dictionary = view.dictionary();
  InsightReport report;
  report.crowd = roaring_bitmap_get_cardinality(crowd);
  report.total = view.universe().cardinality;

  // The fields' tags, field after field, each field's in byte order.
  std::vector<std::pair<std::string, std::vector<TagId>>> fields;
  if (!options.fields.empty()) {
    // Every field is resolved before anything is counted: a typo costs nothing.
    for (const auto& field : options.fields) {
      const bool seen = std::any_of(fields.begin(), fields.end(), [&](const auto& f) { return f.first == field; });
      if (seen) continue;
      auto tags = tags_of_field(view, field);
      if (tags.empty()) return UnknownField{field};
      fields.emplace_back(field, std::move(tags));
    }
  } else {
    // Every field, in byte order. Fields are not contiguous in byte order of
    // tags ("a-b:x" sorts between "a" and "a:x"), hence the map; within a
    // field the tags stay in byte order. O(tags log fields).
    std::map<std::string_view, std::vector<TagId>> by_field;
    for (const TagId id : view.user_tags()) {
      by_field[tag_field(dictionary.name(id))].push_back(id);
    }
    fields.reserve(by_field.size());
    for (auto& [field, tags] : by_field) fields.emplace_back(std::string(field), std::move(tags));
  }

  // All tags counted in one pass over the crowd's chunks (crowd_counts.h).
  // An empty crowd needs no pass: every count is 0.
  std::vector<const roaring_bitmap_t*> bits;
  for (const auto& [field, tags] : fields) {
    for (const TagId id : tags) bits.push_back(view.tag(id).bits.get());
  }
  std::vector<uint64_t> counts;
  if (report.crowd != 0) {
    count_in_crowd(crowd, bits, counts);
  } else {
    counts.assign(bits.size(), 0);
  }

  report.fields.reserve(fields.size());
  std::size_t first = 0;
  for (auto& [field, tags] : fields) {
    report.fields.push_back(
        profile_field(std::move(field), tags, std::span<const uint64_t>(counts).subspan(first, tags.size()), view,
                      options));
    first += tags.size();
  }
  return report;
}

std::optional<double> crowd_share(const InsightRow& row, uint64_t crowd) {
  if (crowd == 0) return std::nullopt;
  return static_cast<double>(row.count) / static_cast<double>(crowd);
}

std::optional<double> population_share(const InsightRow& row, uint64_t total) {
  if (total == 0) return std::nullopt;
  return static_cast<double>(row.population) / static_cast<double>(total);
}

std::optional<double> tgi(const InsightRow& row, uint64_t crowd, uint64_t total) {
  if (crowd == 0 || total == 0 || row.population == 0) return std::nullopt;
  // 100 * (count / crowd) / (population / total), in one division so that
  // equal fractions give bit-identical TGIs.
  return 100.0 * static_cast<double>(row.count) * static_cast<double>(total) /
         (static_cast<double>(crowd) * static_cast<double>(row.population));
}

}  // namespace crowd::query
