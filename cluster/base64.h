// Base64 (RFC 4648, with padding) through libcrypto's EVP_EncodeBlock and
// EVP_DecodeBlock: etcd's JSON gateway carries keys and values as base64.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace crowd::cluster {

[[nodiscard]] std::string base64_encode(std::string_view bytes);
// nullopt on anything that is not padded base64.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);

}  // namespace crowd::cluster
