#include "data/synthetic_load.h"

#include <string>
#include <vector>

#include "data/synthetic_blocks.h"

namespace crowd::synth {

std::optional<uint64_t> load_population(const Population& population, BulkLoader& loader, unsigned threads,
                                        std::optional<int64_t> behaviour_as_of) {
  const auto& vocabulary = population.vocabulary();
  // Loader numbers, kNoTag until first use: vocabulary tags; each
  // attribute (whose value tags the loader interns on first use); each
  // vocabulary tag's day tag on each snapshot day. Names are built once, on
  // first use.
  std::vector<uint32_t> loader_tag(vocabulary.size(), kNoTag);
  std::vector<uint32_t> attribute_number(world::kAttributes, kNoTag);
  std::vector<uint32_t> day_tag(vocabulary.size() * world::kSnapshots, kNoTag);
  // Dated behaviour's day tags by (tag, days_ago): only cat tags are dated,
  // so the table is ~7 MB at most, and only with an as-of day.
  std::vector<uint32_t> behaviour_day(behaviour_as_of ? vocabulary.size() * world::kBehaviourDays : 0, kNoTag);
  const auto attribute = [&](int a) {
    uint32_t& id = attribute_number[static_cast<std::size_t>(a)];
    if (id == kNoTag) id = loader.attribute(world::kAttributeNames[a]);
    return id;
  };
  const auto plain = [&](uint32_t t) {
    if (loader_tag[t] == kNoTag) loader_tag[t] = loader.tag(vocabulary[t]);
    return loader_tag[t];
  };

  std::vector<uint32_t> mapped;
  uint64_t assignments = 0;
  const bool complete = generate_in_order(population, threads, [&](const UserBlock& block) {
    for (std::size_t k = 0; k < block.size(); ++k) {
      mapped.clear();
      for (const uint32_t t : block.tags_of(k)) mapped.push_back(plain(t));
      uint32_t last_plain = kNoTag;
      for (const auto& e : block.events_of(k)) {
        if (e.tag != last_plain) {  // a brand's two events are adjacent
          mapped.push_back(plain(e.tag));
          last_plain = e.tag;
        }
      }
      const std::size_t users_tags = mapped.size();
      for (const auto& e : block.events_of(k)) {
        uint32_t& id = day_tag[std::size_t(e.tag) * world::kSnapshots + e.snapshot];
        if (id == kNoTag) id = loader.day(vocabulary[e.tag], world::kSnapshotDays[e.snapshot].day);
        mapped.push_back(id);
      }
      if (behaviour_as_of) {
        for (const auto& b : block.behaviour_of(k)) {
          uint32_t& id = behaviour_day[std::size_t(b.tag) * world::kBehaviourDays + b.days_ago];
          if (id == kNoTag) id = loader.day(vocabulary[b.tag], *behaviour_as_of - b.days_ago);
          mapped.push_back(id);
        }
      }
      const auto values = block.values_of(k);
      for (int a = 0; a < static_cast<int>(values.size()); ++a) loader.value_tags(attribute(a), values[a], mapped);
      if (!loader.add(block.ids[k], mapped)) return false;
      assignments += users_tags;
    }
    return true;
  });
  if (!complete) return std::nullopt;
  return assignments;
}

}  // namespace crowd::synth
