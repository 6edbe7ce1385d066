// Reading one {"id": ..., "tags": [...]} object — an NDJSON ingest line or an
// /v1/assign entry — with the same rules and messages for both.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "index/ids.h"
#include "server/request_json.h"

namespace crowd::server {

// Fills `id` and `tags` (each tag name passed through `intern`, which returns
// its batch-local number). Both fields are required; other fields are
// refused so that a typo cannot silently write nothing. On a problem returns
// its description, naming the field and element ("tags[2]: must be a
// string"); callers add where the object was.
template <class Intern>
[[nodiscard]] std::optional<std::string> read_user_tags(simdjson::dom::object obj, UserId& id,
                                                        std::vector<uint32_t>& tags, Intern&& intern) {
  bool saw_id = false;
  bool saw_tags = false;
  tags.clear();
  for (const auto field : obj) {
    if (field.key == "id") {
      const auto parsed = json_user_id(field.value);
      if (!parsed) return std::string("id: must be an unsigned 64-bit integer or a decimal string");
      id = *parsed;
      saw_id = true;
    } else if (field.key == "tags") {
      simdjson::dom::array arr;
      if (field.value.get(arr)) return std::string("tags: must be an array of strings");
      saw_tags = true;
      std::size_t index = 0;
      for (const auto t : arr) {
        std::string_view name;
        std::optional<std::string> problem;
        if (t.get(name)) {
          problem = "must be a string";
        } else {
          problem = tag_problem(name);
        }
        if (problem) {
          std::string out("tags[");
          out.append(std::to_string(index)).append("]: ").append(*problem);
          return out;
        }
        tags.push_back(intern(name));
        ++index;
      }
    } else {
      std::string out("unknown field \"");
      out.append(field.key).append("\" (expected \"id\" and \"tags\")");
      return out;
    }
  }
  if (!saw_id) return std::string("missing \"id\"");
  if (!saw_tags) return std::string("missing \"tags\"");
  return std::nullopt;
}

}  // namespace crowd::server
