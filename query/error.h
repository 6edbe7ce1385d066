// Error: what every stage of the query pipeline returns instead of a result.
//
// Errors are values (std::variant<T, Error>) because bad queries are ordinary
// traffic, not exceptional. The codes are part of the external contract
// (CONTRACT.md §4); the server maps them to HTTP statuses.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace crowd::query {

enum class ErrorCode {
  kParse,       // malformed query text: 400 parse_error
  kUnknownTag,  // a tag, prefix, saved crowd or attribute the index does not know: 400 unknown_tag
  kTooLarge,    // query text longer than kMaxQueryBytes: 413 too_large
  kCrowdTooSmall,  // a lookalike seed below Options::min_seed: 403 crowd_too_small
  kTooManyTags,    // more tags after prefix expansion than Options::max_tags: 400 too_many_tags
};

struct Error {
  ErrorCode code = ErrorCode::kParse;
  std::string message;
  // 0-based byte offset into the UTF-8 query text of the offending token.
  std::size_t position = 0;
  // kUnknownTag only: up to three close dictionary entries, closest first
  // (prefix suggestions end in '*'). Also spelled out in `message`.
  std::vector<std::string> suggestions;
};

// The contract's stable name of a code: "parse_error", "unknown_tag",
// "too_large", "crowd_too_small", "too_many_tags".
[[nodiscard]] constexpr std::string_view code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kParse:
      return "parse_error";
    case ErrorCode::kUnknownTag:
      return "unknown_tag";
    case ErrorCode::kTooLarge:
      return "too_large";
    case ErrorCode::kCrowdTooSmall:
      return "crowd_too_small";
    case ErrorCode::kTooManyTags:
      return "too_many_tags";
  }
  return "parse_error";
}

}  // namespace crowd::query
