// MD5 and SHA-256 of bytes (libcrypto's EVP API), and their hex text.
//
// Hashed ID types store the raw digest (16 or 32 bytes) and show it as
// lower-case hex, which is what channels accept and what uploads carry (in
// either case). MD5 is here because platforms still take MD5'd phones and
// emails, not as a security measure.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace crowd::identity {

// The digest of `bytes` (any bytes, NULs included). About 0.1-0.2 us for an
// ID-sized input. Throws std::runtime_error only when libcrypto itself fails
// (e.g. MD5 refused by a FIPS-only configuration); never for any input.
[[nodiscard]] std::array<uint8_t, 16> md5(std::string_view bytes);
[[nodiscard]] std::array<uint8_t, 32> sha256(std::string_view bytes);

// Appends 2 lower-case hex characters per byte to `out`.
void append_hex(std::span<const uint8_t> bytes, std::string& out);
// Parses exactly 2 * out.size() hex characters, either case, into `out`.
// False (and `out` unspecified) on any other length or a non-hex character.
[[nodiscard]] bool parse_hex(std::string_view text, std::span<uint8_t> out);

// sha256(bytes) in lower-case hex: 64 characters.
[[nodiscard]] std::string sha256_hex(std::string_view bytes);

}  // namespace crowd::identity
