#include "index/index_view.h"

#include <map>

#include "index/tuning.h"

namespace crowd {

const DenseChunks& TagBits::dense() const {
  std::call_once(dense_once_, [this] { dense_ = std::make_unique<const DenseChunks>(bits.get(), tuning::kDenseMinMembers); });
  return *dense_;
}

const std::vector<FieldStat>& IndexView::field_stats() const {
  std::call_once(fields_once_, [this] {
    // Grouped through a map rather than a walk of the sorted names: a field's
    // tags need not be contiguous in byte order ("a", "a0", "a:x").
    const auto& dict = dictionary();
    std::map<std::string, std::vector<const roaring_bitmap_t*>, std::less<>> members;
    for (TagId id = 0; id < dict.size(); ++id) {
      if (dict.is_system(id)) continue;
      const auto field = tag_field(dict.name(id));
      auto it = members.find(field);
      if (it == members.end()) it = members.emplace(std::string(field), std::vector<const roaring_bitmap_t*>{}).first;
      it->second.push_back(tag(id).bits.get());
    }
    fields_.reserve(members.size());
    for (auto& [field, bitmaps] : members) {
      Bitmap u(roaring_bitmap_or_many(bitmaps.size(), bitmaps.data()));
      fields_.push_back(FieldStat{field, bitmaps.size(), u.cardinality()});
    }
  });
  return fields_;
}

}  // namespace crowd
