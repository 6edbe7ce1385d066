// The OpenAPI 3.1 description of this server's API: docs/openapi.json,
// embedded at build time (cmake/EmbedText.cmake) and served as it is at
// GET /v1/openapi.json. The tests hold it to the route table and validate
// real responses of every route against it (tests/openapi/), so it cannot
// drift from what the server does.
#pragma once

#include <string_view>

namespace crowd::server {

[[nodiscard]] std::string_view openapi_document();

}  // namespace crowd::server
