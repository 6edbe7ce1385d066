#include "index/exclusive_fields.h"

#include <charconv>

#include "index/system_tags.h"
#include "index/system_view.h"

namespace crowd {
namespace {

// The fields a batch makes exclusive, by their entries' keys.
template <class F>
void for_each_made_exclusive(const WriteBatch& batch, F&& f) {
  if (batch.entries().empty()) return;  // most writes: no scan of the ops
  const std::string prefix = system_tags::exclusive_field_prefix();
  for (const auto& op : batch.ops()) {
    if (op.kind != WriteBatch::Kind::kSetEntry) continue;
    const std::string& key = batch.entries()[static_cast<std::size_t>(op.value)].key;
    if (key.starts_with(prefix)) f(std::string_view(key).substr(prefix.size()));
  }
}

// Users of `view` holding two or more <field>:* tags: the sum of the tags'
// sizes against their union's.
uint64_t users_with_two_values(const IndexView& view, std::string_view field) {
  uint64_t sum = 0;
  Bitmap all;
  for (const TagId id : view.dictionary().with_prefix(std::string(field) + ":")) {
    sum += view.tag(id).cardinality;
    roaring_bitmap_or_inplace(all.get(), view.tag(id).bits.get());
  }
  return sum - all.cardinality();
}

}  // namespace

std::optional<std::string> exclusive_refusal(const WriteBatch& batch, const IndexView& view) {
  std::optional<std::string> why;
  for_each_made_exclusive(batch, [&](std::string_view field) {
    if (why || view.system().exclusive(field)) return;
    if (const uint64_t doubled = users_with_two_values(view, field); doubled > 0) {
      why = not_exclusive_words(doubled, field);
    }
  });
  return why;
}

std::string not_exclusive_words(uint64_t doubled, std::string_view field) {
  return std::to_string(doubled) + " users hold two or more " + std::string(field) +
         ":* tags, so the field cannot be exclusive: remove the extra values first (POST /v1/assign); "
         "nothing changed";
}

std::optional<uint64_t> doubled_users_in(std::string_view refusal) {
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(refusal.data(), refusal.data() + refusal.size(), n);
  if (ec != std::errc() || !std::string_view(end, refusal.data() + refusal.size()).starts_with(" users hold two")) {
    return std::nullopt;
  }
  return n;
}

}  // namespace crowd
