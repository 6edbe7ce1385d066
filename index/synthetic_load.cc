#include "index/synthetic_load.h"

#include <vector>

#include "index/synthetic_blocks.h"

namespace crowd::synth {

std::optional<uint64_t> load_population(const Population& population, BulkLoader& loader, unsigned threads) {
  const auto& vocabulary = population.vocabulary();
  std::vector<uint32_t> loader_tag(vocabulary.size(), kNoTag);  // vocabulary index -> loader tag
  std::vector<uint32_t> mapped;
  uint64_t assignments = 0;
  const bool complete = generate_in_order(population, threads, [&](const UserBlock& block) {
    for (std::size_t k = 0; k < block.size(); ++k) {
      mapped.clear();
      for (const uint32_t t : block.tags_of(k)) {
        if (loader_tag[t] == kNoTag) loader_tag[t] = loader.tag(vocabulary[t]);
        mapped.push_back(loader_tag[t]);
      }
      if (!loader.add(block.ids[k], mapped)) return false;
      assignments += mapped.size();
    }
    return true;
  });
  if (!complete) return std::nullopt;
  return assignments;
}

}  // namespace crowd::synth
