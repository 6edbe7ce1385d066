// Reading one user record — an NDJSON ingest line or an /v1/assign entry —
// with the same rules and messages for both:
//
//   {"id": 7, "tags": ["a", "b"],
//    "values": {"spend_90d": 1234},                          numeric attributes
//    "events": [{"tag": "cat:7:buy", "day": "2017-11-25"}]}  dated tags
//
// An event sets its tag and the tag's day (WriteBatch::intern_day), so the
// plain tag still means "ever" and within() asks for days.
//
// A record may name the user by IDs of other types (issue 15), with or
// without "id":
//   {"ids": {"oaid": "…", "phone_sha256": ["…", "…"]}, "hash": false, "tags": [...]}
// "hash": true says the IDs of hashed types are plain values to normalise
// and digest here (identity/id_codec.h). In an assign
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

#include "identity/person_writer.h"
#include "index/ids.h"
#include "query/date.h"
#include "server/event_days.h"
#include "server/request_json.h"

namespace crowd::server {

// One ID a record names (views into the request).
using RecordId = identity::NamedId;

struct UserRecord {
  bool has_id = false;
  UserId id = 0;
  std::vector<RecordId> ids;  // "ids", in order
  bool hash = false;          // "hash": true
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

// "ids": {"<type>": "<id>" | ["<id>", ...], ...}, at least one ID. Types
// and IDs are checked later, against the index's ID types.
[[nodiscard]] inline std::optional<std::string> read_record_ids(simdjson::dom::element value,
                                                               std::vector<RecordId>& out) {
  simdjson::dom::object ids;
  if (value.get(ids)) return std::string("ids: must be an object of ID type: ID or [IDs]");
  for (const auto field : ids) {
    std::string_view one;
    if (!field.value.get(one)) {
      out.push_back(RecordId{field.key, one});
      continue;
    }
    simdjson::dom::array many;
    if (field.value.get(many)) {
      std::string problem("ids.");
      return problem.append(field.key).append(": must be a string or an array of strings");
    }
    std::size_t index = 0;
    for (const auto element : many) {
      if (element.get(one)) {
        std::string where("ids.");
        return detail::element_problem(where.append(field.key), index, "must be a string");
      }
      out.push_back(RecordId{field.key, one});
      ++index;
    }
  }
  if (out.empty()) return std::string("ids: must name at least one ID");
  return std::nullopt;
}

// Fills `out` (names passed through `intern`, which returns their
// batch-local numbers; an event's tag and day through `intern_day`, which
// returns its day tag's). "id" or "ids", and at least one of the others, are
// required; the IDs in "ids" are checked by whoever resolves them;
// unknown fields are refused so that a typo cannot silently write nothing.
// An event dated after `latest` is refused (event_days.h).
// On a problem returns its description, naming the field and element
// ("tags[2]: must be a string"); callers add where the object was.
template <class Intern, class InternDay>
[[nodiscard]] std::optional<std::string> read_user_record(simdjson::dom::object obj, RecordMode mode,
                                                          UserRecord& out, const EventDayLimit& latest,
                                                          Intern&& intern, InternDay&& intern_day) {
  bool saw_data = false;
  out.has_id = false;
  out.hash = false;
  out.ids.clear();
  out.tags.clear();
  out.values.clear();
  out.cleared.clear();
  std::vector<uint32_t> day_tags;
  for (const auto field : obj) {
    if (field.key == "id") {
      const auto parsed = json_user_id(field.value);
      if (!parsed) return std::string("id: must be an unsigned 64-bit integer or a decimal string");
      out.id = *parsed;
      out.has_id = true;
    } else if (field.key == "ids") {
      if (auto problem = read_record_ids(field.value, out.ids)) return problem;
    } else if (field.key == "hash") {
      if (field.value.get(out.hash)) return std::string("hash: must be true or false");
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
          .append(mode == RecordMode::kAdd
                      ? "\" (expected \"id\", \"ids\", \"hash\", \"tags\", \"values\", \"events\")"
                      : "\" (expected \"id\", \"ids\", \"hash\", \"tags\", \"values\")");
      return out_message;
    }
  }
  if (!out.has_id && out.ids.empty()) return std::string("missing \"id\" (or \"ids\")");
  if (!saw_data) {
    return std::string(mode == RecordMode::kAdd ? "missing \"tags\" (or \"values\", \"events\")"
                                                : "missing \"tags\" (or \"values\")");
  }
  out.tags.insert(out.tags.end(), day_tags.begin(), day_tags.end());
  return std::nullopt;
}

}  // namespace crowd::server
