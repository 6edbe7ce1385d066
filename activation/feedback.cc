#include "activation/feedback.h"

#include <array>

#include "index/system_view.h"

namespace crowd::activation {
namespace {

// The user's value of `attribute` in `view`, 0 when it has none.
int64_t value_of(const IndexView& view, std::string_view attribute, Ordinal o) {
  const auto slices = view.system().attribute(attribute);
  if (!slices || !slices->exists->bits.contains(o)) return 0;
  uint64_t bits = 0;
  for (int b = 0; b < AttributeSlices::kBits; ++b) {
    const TagBits* slice = slices->bits[static_cast<std::size_t>(b)];
    if (slice != nullptr && slice->bits.contains(o)) bits |= uint64_t{1} << b;
  }
  return AttributeSlices::from_offset_binary(bits);
}

}  // namespace

const char* event_name(EventKind k) {
  switch (k) {
    case EventKind::kImpression:
      return "impression";
    case EventKind::kClick:
      return "click";
    case EventKind::kOrder:
      return "order";
  }
  return "impression";
}

std::optional<EventKind> parse_event(std::string_view name) {
  for (const auto k : {EventKind::kImpression, EventKind::kClick, EventKind::kOrder}) {
    if (name == event_name(k)) return k;
  }
  return std::nullopt;
}

std::optional<std::string> campaign_problem(std::string_view campaign) {
  if (campaign.empty() || campaign.size() > 64) return "a campaign has 1 to 64 characters";
  for (const char c : campaign) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return "a campaign holds only ASCII letters, digits, '_', '.' and '-'";
  }
  return std::nullopt;
}

std::string event_tag(EventKind k, std::string_view campaign) {
  std::string s = event_name(k);
  s += ':';
  s += campaign;
  return s;
}

std::string event_counter(EventKind k, std::string_view campaign) {
  std::string s = event_name(k);
  s += "s.";
  s += campaign;
  return s;
}

std::string gmv_counter(std::string_view campaign) {
  std::string s = "gmv_fen.";
  s += campaign;
  return s;
}

FeedbackWriter::FeedbackWriter(const IndexView& view, WriteBatch& batch)
    : view_(view), batch_(batch), events_(view.id_spaces().find(kEventSpace)) {}

int64_t& FeedbackWriter::total(Ordinal user, const std::string& attribute) {
  auto [it, fresh] = totals_.try_emplace(std::pair(user, attribute), 0);
  if (fresh) it->second = value_of(view_, attribute, user);
  return it->second;
}

bool FeedbackWriter::add(const FeedbackEvent& e) {
  if (!e.event_id.empty()) {
    if (events_ != nullptr && view_.owner(*events_, e.event_id)) return false;
    if (!ids_seen_.emplace(e.event_id).second) return false;
  }
  const auto person = batch_.add_person(e.uid, /*existing_only=*/true);
  if (!e.uid) batch_.add_person_key(batch_.intern_space(e.space), e.key);
  if (!e.event_id.empty()) {
    const uint32_t space = batch_.intern_space(kEventSpace);
    if (events_ == nullptr && !defined_) {
      batch_.define_space(space, 0);
      defined_ = true;
    }
    batch_.add_person_key(space, e.event_id);
  }
  const std::string tag = event_tag(e.kind, e.campaign);
  const std::array<uint32_t, 2> tags{batch_.intern(tag), batch_.intern_day(tag, e.day)};
  batch_.add(person, tags);
  const std::string counter = event_counter(e.kind, e.campaign);
  int64_t& count = total(e.user, counter);
  batch_.set_value(person, batch_.intern(counter), ++count);
  if (e.kind == EventKind::kOrder && e.value_fen > 0) {
    const std::string gmv = gmv_counter(e.campaign);
    int64_t& sum = total(e.user, gmv);
    sum += e.value_fen;
    batch_.set_value(person, batch_.intern(gmv), sum);
  }
  return true;
}

}  // namespace crowd::activation
