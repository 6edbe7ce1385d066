// Reading JSON request bodies with simdjson's DOM parser (one per thread).
//
// simdjson validates UTF-8 and JSON in one pass; anything it rejects is a
// 400 bad_request. These helpers turn DOM values into the API's types with
// messages that name the offending field.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "index/ids.h"
#include "server/api_error.h"

namespace crowd::server {

// The calling thread's parser. Elements it returns live until its next parse.
[[nodiscard]] simdjson::dom::parser& thread_json_parser();

// A parser keeps the buffers of the largest document it has parsed, about
// 14 bytes per byte of JSON (tape, strings, structural indexes): one 50 MB
// assign left ~700 MB with its worker for good. Past this capacity the
// calling thread's parser is replaced by a fresh one, which then grows only
// as far as the next documents need. Call when no element of the last
// parse is in use any more; O(1) when there is nothing to release.
inline constexpr std::size_t kKeptJsonParserCapacity = 1u << 20;
void shrink_thread_json_parser();

// Parses a body that must be a JSON object.
[[nodiscard]] std::variant<simdjson::dom::object, ApiError> parse_json_object(std::string_view body);

// A user ID: a non-negative integer number, or a decimal string of digits
// with no sign and no leading zeros, below 2^64 (CONTRACT §1).
[[nodiscard]] std::optional<UserId> json_user_id(simdjson::dom::element value);

// The media type of a Content-Type without parameters, lower-cased:
// "Text/CSV; charset=utf-8" is "text/csv" (ingest and match pick their
// parser by it).
[[nodiscard]] std::string media_type(std::string_view content_type);
[[nodiscard]] std::optional<UserId> parse_decimal_id(std::string_view text);

// The longest tag accepted in a write, in bytes. Tags are names, not
// payloads; the cap keeps one bad client from bloating the dictionary.
inline constexpr std::size_t kMaxTagBytes = 1024;

// Checks a tag name for writing; returns why it is unacceptable, or nothing.
[[nodiscard]] std::optional<std::string> tag_problem(std::string_view tag);

// Checks a field name (what a tag holds before its first ':'), as the tag
// library's routes take it; returns why it is unacceptable, or nothing.
[[nodiscard]] std::optional<std::string> field_name_problem(std::string_view field);

// Why an attribute name cannot be used, or nothing. Attributes are named in
// queries as bare words before an operator, so: ASCII letters, digits, '_',
// '.' and '-', starting with a letter or '_', at most 128 bytes, and not a
// keyword of the query language.
[[nodiscard]] std::optional<std::string> attribute_problem(std::string_view name);

}  // namespace crowd::server
