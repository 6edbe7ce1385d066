#include "server/assign_request.h"

#include <simdjson.h>

#include <string>

#include "server/json_fields.h"
#include "server/request_json.h"
#include "server/user_tags_json.h"

namespace crowd::server {
namespace {

// Reads [{"id": ..., "tags": [...]}, ...] from `list` into the batch; `what`
// names the list in messages ("add", "remove").
// Entries naming IDs become persons through `persons`, numbered as lines
// from 1 across both lists (for the 409 that names one).
std::optional<ApiError> read_assign_list(simdjson::dom::element list, std::string_view what, WriteBatch& batch,
                                         bool adding, const EventDayLimit& latest, PersonSink& persons,
                                         uint64_t& entry_number) {
  simdjson::dom::array entries;
  if (list.get(entries)) {
    // Built with append: GCC 12 warns falsely (-Wrestrict) on "lit" + string.
    std::string message("\"");
    message.append(what).append("\" must be an array");
    return bad_request(std::move(message));
  }
  UserRecord record;
  std::size_t index = 0;
  for (const auto entry : entries) {
    std::string where(what);
    where.append("[").append(std::to_string(index++)).append("]");
    simdjson::dom::object obj;
    if (entry.get(obj)) return bad_request(where + ": expected an object {\"id\", \"tags\"}");
    if (auto problem = read_user_record(obj, adding ? RecordMode::kAdd : RecordMode::kRemove, record, latest,
                                        [&](std::string_view name) { return batch.intern(name); },
                                        [&](std::string_view tag, int64_t day) { return batch.intern_day(tag, day); })) {
      where.append(".").append(*problem);
      return bad_request(std::move(where));
    }
    ++entry_number;
    if (!record.ids.empty()) {
      const auto uid = record.has_id ? std::optional<UserId>(record.id) : std::nullopt;
      std::optional<std::string> problem;
      if (adding) {
        problem = persons.add(entry_number, uid, record.ids, record.hash, record.tags, record.values);
      } else {
        problem = persons.add(entry_number, uid, record.ids, record.hash, {}, {});
        if (!problem) {
          const WriteBatch::PersonRef p{static_cast<uint32_t>(batch.persons().size() - 1)};
          if (!record.tags.empty()) batch.remove(p, record.tags);
          for (const uint32_t attribute : record.cleared) batch.clear_value(p, attribute);
        }
      }
      if (problem) return bad_request(where.append(".").append(*problem));
      continue;
    }
    if (adding) {
      if (!record.tags.empty()) batch.add(record.id, record.tags);
      for (const auto& [attribute, v] : record.values) batch.set_value(record.id, attribute, v);
    } else {
      if (!record.tags.empty()) batch.remove(record.id, record.tags);
      for (const uint32_t attribute : record.cleared) batch.clear_value(record.id, attribute);
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> read_assign_body(std::string_view body, WriteBatch& batch, const EventDayLimit& latest,
                                         PersonSink& persons) {
  simdjson::dom::element add_list;
  simdjson::dom::element remove_list;
  bool has_add = false;
  bool has_remove = false;
  // Kept as elements and read below in a fixed order, whatever the body's.
  const auto keep = [](simdjson::dom::element& into, bool& given) -> FieldReader {
    return [&into, &given](std::string_view, simdjson::dom::element v) -> std::optional<ApiError> {
      into = v;
      given = true;
      return std::nullopt;
    };
  };
  const JsonField fields[] = {
      {"add", kOptional, keep(add_list, has_add)},
      {"remove", kOptional, keep(remove_list, has_remove)},
  };
  if (auto e = read_body_fields(body, fields)) return e;
  uint64_t entries = 0;
  if (has_add) {
    if (auto e = read_assign_list(add_list, "add", batch, true, latest, persons, entries)) return e;
  }
  if (has_remove) {
    if (auto e = read_assign_list(remove_list, "remove", batch, false, latest, persons, entries)) return e;
  }
  return std::nullopt;
}

}  // namespace crowd::server
