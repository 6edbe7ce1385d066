// Reading one user record — an NDJSON ingest line or an /v1/assign entry —
// with the same rules and messages for both:
//
//   {"id": 7, "tags": ["a", "b"],
//    "values": {"spend_90d": 1234},                          numeric attributes
//    "events": [{"tag": "cat:7:buy", "day": "2017-11-25"}]}  dated tags
//
// An event sets its tag and the tag's day (WriteBatch::intern_day), so the
// plain tag still means "ever" and within() asks for days. In an assign
// "remove" entry, "values" is a list of attribute names whose values are
// cleared, and events are not allowed.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "index/ids.h"
#include "query/date.h"
#include "server/event_days.h"
#include "server/request_json.h"

namespace crowd::server {

struct UserRecord {
  UserId id = 0;
  std::vector<uint32_t> tags;                        // interned: users' tags, then events' day tags
  std::vector<std::pair<uint32_t, int64_t>> values;  // interned attribute, value (adding)
  std::vector<uint32_t> cleared;                     // interned attributes (removing)
};

enum class RecordMode { kAdd, kRemove };

namespace detail {

inline std::string element_problem(std::string_view field, std::size_t index, std::string_view problem) {
  std::string out(field);
  out.append("[").append(std::to_string(index)).append("]: ").append(problem);
  return out;
}

}  // namespace detail

// Fills `out` (names passed through `intern`, which returns their
// batch-local numbers; an event's tag and day through `intern_day`, which
// returns its day tag's). "id" and at least one of the others are required;
// unknown fields are refused so that a typo cannot silently write nothing.
// An event dated after `latest` is refused (event_days.h).
// On a problem returns its description, naming the field and element
// ("tags[2]: must be a string"); callers add where the object was.
template <class Intern, class InternDay>
[[nodiscard]] std::optional<std::string> read_user_record(simdjson::dom::object obj, RecordMode mode,
                                                          UserRecord& out, const EventDayLimit& latest,
                                                          Intern&& intern, InternDay&& intern_day) {
  bool saw_id = false;
  bool saw_data = false;
  out.tags.clear();
  out.values.clear();
  out.cleared.clear();
  std::vector<uint32_t> day_tags;
  for (const auto field : obj) {
    if (field.key == "id") {
      const auto parsed = json_user_id(field.value);
      if (!parsed) return std::string("id: must be an unsigned 64-bit integer or a decimal string");
      out.id = *parsed;
      saw_id = true;
    } else if (field.key == "tags") {
      simdjson::dom::array arr;
      if (field.value.get(arr)) return std::string("tags: must be an array of strings");
      saw_data = true;
      std::size_t index = 0;
      for (const auto t : arr) {
        std::string_view name;
        if (t.get(name)) return detail::element_problem("tags", index, "must be a string");
        if (auto problem = tag_problem(name)) return detail::element_problem("tags", index, *problem);
        out.tags.push_back(intern(name));
        ++index;
      }
    } else if (field.key == "values" && mode == RecordMode::kAdd) {
      simdjson::dom::object values;
      if (field.value.get(values)) return std::string("values: must be an object of attribute: integer");
      saw_data = true;
      for (const auto v : values) {
        std::string where("values.");
        where.append(v.key);
        if (auto problem = attribute_problem(v.key)) return where.append(": ").append(*problem);
        int64_t n = 0;
        if (v.value.get(n)) return where.append(": must be an integer in the signed 64-bit range");
        out.values.emplace_back(intern(v.key), n);
      }
    } else if (field.key == "values") {
      simdjson::dom::array names;
      if (field.value.get(names)) return std::string("values: must be an array of attribute names");
      saw_data = true;
      std::size_t index = 0;
      for (const auto v : names) {
        std::string_view name;
        if (v.get(name)) return detail::element_problem("values", index, "must be a string");
        if (auto problem = attribute_problem(name)) return detail::element_problem("values", index, *problem);
        out.cleared.push_back(intern(name));
        ++index;
      }
    } else if (field.key == "events" && mode == RecordMode::kAdd) {
      simdjson::dom::array events;
      if (field.value.get(events)) return std::string("events: must be an array of {\"tag\", \"day\"}");
      saw_data = true;
      std::size_t index = 0;
      for (const auto e : events) {
        simdjson::dom::object event;
        std::string_view tag;
        std::string_view day_text;
        if (e.get(event) || event.size() != 2 || event["tag"].get(tag) || event["day"].get(day_text)) {
          return detail::element_problem("events", index, "must be {\"tag\": string, \"day\": \"YYYY-MM-DD\"}");
        }
        if (auto problem = tag_problem(tag)) return detail::element_problem("events", index, "tag: " + *problem);
        const auto day = query::parse_day(day_text);
        if (!day) return detail::element_problem("events", index, "day: must be a date YYYY-MM-DD");
        if (auto late = latest.problem(*day)) return detail::element_problem("events", index, "day: " + *late);
        out.tags.push_back(intern(tag));
        day_tags.push_back(intern_day(tag, *day));
        ++index;
      }
    } else {
      std::string out_message("unknown field \"");
      out_message.append(field.key)
          .append(mode == RecordMode::kAdd ? "\" (expected \"id\", \"tags\", \"values\", \"events\")"
                                           : "\" (expected \"id\", \"tags\", \"values\")");
      return out_message;
    }
  }
  if (!saw_id) return std::string("missing \"id\"");
  if (!saw_data) {
    return std::string(mode == RecordMode::kAdd ? "missing \"tags\" (or \"values\", \"events\")"
                                                : "missing \"tags\" (or \"values\")");
  }
  out.tags.insert(out.tags.end(), day_tags.begin(), day_tags.end());
  return std::nullopt;
}

}  // namespace crowd::server
