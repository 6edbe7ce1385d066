// Reading a JSON request object by its list of fields: every route that takes
// a JSON body says which members it accepts, which are required and how each
// is read, and this one loop does the rest -- an unknown member is a 400
// naming it and the expected ones, a missing required one a 400 naming it,
// a member of the wrong type or range a 400 from its reader.
//
//   QueryRequest out;
//   const JsonField fields[] = {
//       {"q", kRequired, string_into(out.q)},
//       {"lenient", kOptional, bool_into(out.lenient)},
//   };
//   if (auto e = read_body_fields(body, fields)) return *e;
//
// Readers are small callables given the member's name and value; those made
// here capture little more than their target.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/api_error.h"

namespace crowd::server {

enum Presence : bool { kOptional = false, kRequired = true };

// Reads one member's value (its name given for messages) into its target, or
// says why it cannot.
using FieldReader = std::function<std::optional<ApiError>(std::string_view name, simdjson::dom::element value)>;

struct JsonField {
  std::string_view name;
  Presence presence;
  FieldReader read;
};

// Reads `object`'s members by `fields`. A member given twice is read twice
// (the last wins), as simdjson's DOM keeps duplicates. O(members x fields).
[[nodiscard]] std::optional<ApiError> read_fields(simdjson::dom::object object, std::span<const JsonField> fields);

// Parses `body` as a JSON object, then read_fields().
[[nodiscard]] std::optional<ApiError> read_body_fields(std::string_view body, std::span<const JsonField> fields);

// 400 "\"name\" must be <what>": for readers written elsewhere.
[[nodiscard]] ApiError field_must_be(std::string_view name, std::string_view what);

// "\"name\" must be a string".
[[nodiscard]] FieldReader string_into(std::string& out);
// A string, or null (which leaves `out` as it is).
[[nodiscard]] FieldReader nullable_string_into(std::string& out);
// "\"name\" must be true or false".
[[nodiscard]] FieldReader bool_into(bool& out);
// An integer in [min, max]: "\"name\" must be an integer in min..max".
[[nodiscard]] FieldReader uint_into(uint64_t& out, uint64_t min, uint64_t max);
// A date "YYYY-MM-DD" as days since 1970-01-01: "\"name\" must be a date
// YYYY-MM-DD".
[[nodiscard]] FieldReader day_into(std::optional<int64_t>& out);
// An array of strings, each non-empty; at most `max` of them.
[[nodiscard]] FieldReader strings_into(std::vector<std::string>& out, std::size_t max);

}  // namespace crowd::server
