// UTF-8 helpers for the query text and for suggestions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace crowd::query {

// Length (1-4) of the well-formed UTF-8 sequence starting at text[at], or 0
// when the bytes there are not one (stray continuation byte, truncated or
// overlong sequence, surrogate, above U+10FFFF). at < text.size(). O(1).
[[nodiscard]] std::size_t utf8_sequence_length(std::string_view text, std::size_t at);

// Byte offset of the first byte of the first ill-formed sequence, or npos
// when the whole text is valid UTF-8. O(n).
[[nodiscard]] std::size_t first_invalid_utf8(std::string_view text);

// Code points of `text`, appended to `out` (cleared first). Ill-formed
// bytes become one unit each (U+FFFD would merge distinct bytes), so any
// byte string can be compared. O(n).
void decode_utf8(std::string_view text, std::u32string& out);

// The UTF-8 encoding of code points produced by decode_utf8 (a lone
// ill-formed byte, kept as 0xDC00 + byte, is restored as that byte).
[[nodiscard]] std::string encode_utf8(std::u32string_view code_points);

}  // namespace crowd::query
