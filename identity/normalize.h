// The normalisation of phones and emails before they are digested.
//
// A hashed list matches only if both sides hashed the same bytes, so the
// value is first put in the one form the large platforms publish (see
// ../shared/DMP-NOTES.md, "Identity"): a phone as its digits with the
// country code, no '+' and no leading zeros ("+86 138-0013-8000" →
// "8613800138000"); an email trimmed and lower-cased. Both are a single pass
// over the input with no allocation beyond the result.
//
// A reason (`why`) never contains the value itself, which is personal data
// and must not reach logs; it may name one offending ASCII character.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace crowd::identity {

// `raw` as E.164 digits without the '+', or nullopt with `why` set.
// - Spaces, tabs, '-', '.', '(' and ')' are dropped, and so is "(0)", the
//   optional trunk prefix some countries write after the country code
//   ("+44 (0)20 7946 0958" → "442079460958").
// - A leading '+' or "00" means the country code follows.
// - Otherwise leading zeros (the trunk prefix) are dropped and, unless the
//   number already starts with `default_cc` or is longer than 11 digits,
//   `default_cc` is put in front ("013800138000" → "8613800138000").
// - The result must be 8 to 15 digits (E.164 allows at most 15).
[[nodiscard]] std::optional<std::string> normalize_phone(std::string_view raw, std::string_view default_cc,
                                                         std::string& why);

// `raw` without leading and trailing ASCII whitespace, ASCII letters
// lower-cased (other bytes kept), or nullopt with `why` set unless it has
// exactly one '@' with something on both sides and no whitespace or control
// characters inside.
[[nodiscard]] std::optional<std::string> normalize_email(std::string_view raw, std::string& why);

// The same into a caller's buffer (replacing its contents), for loops that
// normalise many values: true on success, else false with `why` set and
// `out` unspecified.
[[nodiscard]] bool normalize_phone_into(std::string_view raw, std::string_view default_cc, std::string& out,
                                        std::string& why);
[[nodiscard]] bool normalize_email_into(std::string_view raw, std::string& out, std::string& why);

}  // namespace crowd::identity
