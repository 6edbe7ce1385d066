#include "index/system_view.h"

#include <charconv>

#include "index/system_tags.h"
#include "index/write_batch.h"

namespace crowd {

static_assert(AttributeSlices::kBits == system_tags::kValueBits);
static_assert(AttributeSlices::to_offset_binary(-1) == system_tags::to_offset_binary(-1));

SystemView IndexView::system() const { return SystemView(*this); }

std::optional<TagId> IndexView::find_tag(std::string_view name) const {
  if (system_tags::is_system(name)) return std::nullopt;
  return p_.dictionary->find(name);
}

std::optional<AttributeSlices> SystemView::attribute(std::string_view name) const {
  // A name holding the mark could only reach some other system tag.
  if (name.find(system_tags::kMark) != std::string_view::npos) return std::nullopt;
  const TagDictionary& dictionary = view_.dictionary();
  const auto exists = dictionary.find(system_tags::attribute(name, -1));
  if (!exists) return std::nullopt;
  AttributeSlices s;
  s.exists = &view_.tag(*exists);
  for (int b = 0; b < AttributeSlices::kBits; ++b) {
    if (const auto id = dictionary.find(system_tags::attribute(name, b))) {
      s.bits[static_cast<std::size_t>(b)] = &view_.tag(*id);
    }
  }
  return s;
}

std::vector<std::string> SystemView::attributes() const {
  const TagDictionary& dictionary = view_.dictionary();
  std::vector<std::string> out;
  for (const TagId id : dictionary.system_with_prefix(system_tags::attribute_prefix(""))) {
    if (const auto name = system_tags::attribute_of_exists_tag(dictionary.name(id))) out.emplace_back(*name);
  }
  return out;
}

std::optional<TagId> SystemView::day(std::string_view tag, int64_t day) const {
  return view_.dictionary().find(system_tags::day(tag, day));
}

std::vector<DayTag> SystemView::days(std::string_view tag) const {
  const TagDictionary& dictionary = view_.dictionary();
  std::vector<DayTag> out;
  for (const TagId id : dictionary.system_with_prefix(system_tags::day_prefix(tag))) {
    // The prefix also matches the days of a tag that continues "tag" + mark
    // (a user tag may hold the mark after its first byte): day_of checks.
    if (const auto d = system_tags::day_of(dictionary.name(id), tag)) out.push_back(DayTag{*d, id});
  }
  return out;
}

std::vector<TagId> SystemView::days_between(std::string_view tag, int64_t first, int64_t last) const {
  std::vector<TagId> out;
  for (const DayTag& d : days(tag)) {
    if (d.day >= first && d.day <= last) out.push_back(d.id);
  }
  return out;
}

std::vector<TagId> SystemView::days_between_prefix(std::string_view prefix, int64_t first, int64_t last) const {
  const TagDictionary& dictionary = view_.dictionary();
  std::vector<TagId> out;
  for (const TagId id : dictionary.system_with_prefix(system_tags::day_prefix_of_tags_starting(prefix))) {
    const auto d = system_tags::day_of_any(dictionary.name(id));
    if (d && *d >= first && *d <= last) out.push_back(id);
  }
  return out;
}

bool SystemView::has_days_with_prefix(std::string_view prefix) const {
  return !view_.dictionary().system_with_prefix(system_tags::day_prefix_of_tags_starting(prefix)).empty();
}

std::vector<DayTag> SystemView::days_before(int64_t horizon) const {
  const TagDictionary& dictionary = view_.dictionary();
  std::vector<DayTag> out;
  for (const TagId id : dictionary.system_with_prefix(system_tags::day_prefix(""))) {
    if (view_.tag(id).cardinality == 0) continue;
    const auto d = system_tags::day_of_any(dictionary.name(id));
    if (d && *d < horizon) out.push_back(DayTag{*d, id});
  }
  return out;
}

std::vector<DayTag> SystemView::days_before(int64_t horizon, const WriteBatch& written) const {
  const TagDictionary& dictionary = view_.dictionary();
  std::vector<DayTag> out;
  for (const auto& name : written.names()) {
    const auto d = system_tags::day_of_any(name);
    if (!d || *d >= horizon) continue;
    const auto id = dictionary.find(name);
    if (id && view_.tag(*id).cardinality != 0) out.push_back(DayTag{*d, *id});
  }
  return out;
}

std::optional<int64_t> SystemView::day_of(TagId id) const {
  const TagDictionary& dictionary = view_.dictionary();
  if (!dictionary.is_system(id)) return std::nullopt;
  return system_tags::day_of_any(dictionary.name(id));
}

std::unordered_set<std::string_view> SystemView::dated_tags() const {
  std::unordered_set<std::string_view> out;
  for (const DayTag& d : all_days()) out.insert(d.tag);
  return out;
}

std::vector<DayTag> SystemView::all_days() const {
  const TagDictionary& dictionary = view_.dictionary();
  std::vector<DayTag> out;
  const std::size_t prefix = system_tags::day_prefix("").size();
  for (const TagId id : dictionary.system_with_prefix(system_tags::day_prefix(""))) {
    const std::string& name = dictionary.name(id);
    // <prefix><tag><mark><8 digits>
    if (const auto d = system_tags::day_of_any(name)) {
      out.push_back(DayTag{*d, id, std::string_view(name).substr(prefix, name.size() - prefix - 9)});
    }
  }
  return out;
}

std::optional<SavedCrowdTag> SystemView::saved_crowd(std::string_view name) const {
  const std::string key = system_tags::crowd(name);
  const auto entry = view_.entries().find(key);
  if (entry == view_.entries().end()) return std::nullopt;
  const auto id = view_.dictionary().find(key);
  if (!id) return std::nullopt;
  return SavedCrowdTag{*id, entry->second};
}

std::vector<std::string> SystemView::saved_crowds() const {
  const std::string prefix = system_tags::crowd_prefix();
  const auto& entries = view_.entries();
  std::vector<std::string> names;
  for (auto it = entries.lower_bound(prefix); it != entries.end() && it->first.starts_with(prefix); ++it) {
    names.push_back(it->first.substr(prefix.size()));
  }
  return names;
}

std::optional<std::string_view> SystemView::entry(std::string_view key) const {
  const auto& entries = view_.entries();
  const auto it = entries.find(key);
  if (it == entries.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::vector<std::pair<std::string_view, std::string_view>> SystemView::entries_under(std::string_view kind,
                                                                                     std::string_view more) const {
  const std::string prefix = std::string(kind).append(more);
  const auto& entries = view_.entries();
  std::vector<std::pair<std::string_view, std::string_view>> out;
  for (auto it = entries.lower_bound(prefix); it != entries.end() && it->first.starts_with(prefix); ++it) {
    out.emplace_back(std::string_view(it->first).substr(kind.size()), it->second);
  }
  return out;
}

std::vector<std::pair<std::string_view, std::string_view>> SystemView::id_types() const {
  return entries_under(system_tags::id_type_prefix());
}

std::optional<std::string_view> SystemView::id_type(std::string_view name) const { return entry(system_tags::id_type(name)); }

std::vector<std::pair<std::string_view, std::string_view>> SystemView::field_metas() const {
  return entries_under(system_tags::field_meta_prefix());
}

std::optional<std::string_view> SystemView::field_meta(std::string_view field) const { return entry(system_tags::field_meta(field)); }

bool SystemView::exclusive(std::string_view field) const {
  return view_.entries().contains(system_tags::exclusive_field(field));
}

std::optional<std::string_view> SystemView::activation_record(std::string_view key) const { return entry(system_tags::activation_record(key)); }

std::vector<std::pair<std::string_view, std::string_view>> SystemView::activation_records(
    std::string_view prefix) const {
  return entries_under(system_tags::activation_record(""), prefix);
}

std::optional<uint64_t> SystemView::stream_position(std::string_view stream) const {
  const auto text = entry(system_tags::stream_position(stream));
  if (!text) return std::nullopt;
  uint64_t sequence = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), sequence);
  if (ec != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return sequence;
}

std::optional<TagId> SystemView::kept_bitmap(std::string_view key) const {
  return view_.dictionary().find(system_tags::kept_bitmap(key));
}

std::vector<std::pair<std::string_view, TagId>> SystemView::kept_bitmaps(std::string_view prefix) const {
  const std::string full = system_tags::kept_bitmap(prefix);
  const std::size_t skip = full.size() - prefix.size();
  const TagDictionary& dictionary = view_.dictionary();
  std::vector<std::pair<std::string_view, TagId>> out;
  for (const TagId id : dictionary.system_with_prefix(full))
    out.emplace_back(std::string_view(dictionary.name(id)).substr(skip), id);
  return out;
}

}  // namespace crowd
