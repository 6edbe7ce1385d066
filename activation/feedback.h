// Results flowing back (数据回流, issue 16 item 6): campaign events about
// known users, written as dated tags and per-user counters, so the report
// can sum them and queries can use them (`within(click:c123, 7d)`).
//
// One event, about user U of campaign C on day D:
//   tag        <event>:<C>, and its day D (a dated tag, like an ingest event)
//   counter    <events>.<C> += 1   (impressions / clicks / orders: attributes)
//   value      gmv_fen.<C> += value, for an order with a value (fen, 1/100 yuan)
// An event with an event_id is written once: the id is linked, as a key of
// the internal ID space ".event", to the user (so erasing the user forgets
// it); an id already linked, or seen earlier in the batch, is a duplicate.
// Users are named by existing-only persons: an event never makes a user,
// and one about a user erased meanwhile does nothing.
//
// Counters are read from a view and written as totals: the caller applies
// one FeedbackWriter's batch before building the next (Api holds a mutex).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include "index/index_view.h"
#include "index/write_batch.h"

namespace crowd::activation {

enum class EventKind : uint8_t { kImpression, kClick, kOrder };

// "impression" / "click" / "order" and back.
[[nodiscard]] const char* event_name(EventKind k);
[[nodiscard]] std::optional<EventKind> parse_event(std::string_view name);
// Why `campaign` cannot name one: 1..64 of [A-Za-z0-9_.-] (it becomes part
// of tag and attribute names).
[[nodiscard]] std::optional<std::string> campaign_problem(std::string_view campaign);

// The names an event kind writes for a campaign.
[[nodiscard]] std::string event_tag(EventKind k, std::string_view campaign);      // "click:c123"
[[nodiscard]] std::string event_counter(EventKind k, std::string_view campaign);  // "clicks.c123"
[[nodiscard]] std::string gmv_counter(std::string_view campaign);                 // "gmv_fen.c123"

// The internal ID space of event ids.
inline constexpr std::string_view kEventSpace = ".event";
inline constexpr std::size_t kMaxEventIdBytes = 128;

struct FeedbackEvent {
  Ordinal user = 0;           // resolved by the caller in the writer's view
  std::optional<UserId> uid;  // the user was named by its uid
  std::string_view space;     // else by a key of this space
  std::string_view key;
  EventKind kind = EventKind::kImpression;
  std::string_view campaign;
  int64_t day = 0;
  int64_t value_fen = 0;      // orders only
  std::string_view event_id;  // "" for none
};

class FeedbackWriter {
 public:
  FeedbackWriter(const IndexView& view, WriteBatch& batch);
  // Adds the event to the batch; false for a duplicate event id (nothing added).
  bool add(const FeedbackEvent& e);

 private:
  // A counter's total for the user: the view's value plus what this batch added.
  int64_t& total(Ordinal user, const std::string& attribute);

  const IndexView& view_;
  WriteBatch& batch_;
  const IdSpace* events_;  // null until the view has one
  bool defined_ = false;
  boost::unordered_flat_set<std::string> ids_seen_;
  boost::unordered_flat_map<std::pair<Ordinal, std::string>, int64_t> totals_;
};

}  // namespace crowd::activation
