#include "server/reply.h"

#include "server/api_error.h"
#include "server/json_writer.h"

namespace crowd::server {

Reply json_reply(http::status status, std::string body) {
  Reply r;
  r.message.result(status);
  r.message.set(http::field::content_type, "application/json");
  r.message.body() = std::move(body);
  return r;
}

Reply error_reply(const ApiError& error) {
  std::string body;
  JsonWriter w(body);
  w.raw("{\"error\":{").key("code").string(error.code).raw(",").key("message").string(error.message);
  if (error.position) w.raw(",").key("position").number(*error.position);
  if (error.line) w.raw(",").key("line").number(*error.line);
  if (!error.suggestions.empty()) {
    w.raw(",").key("suggestions").raw("[");
    for (std::size_t i = 0; i < error.suggestions.size(); ++i) {
      if (i) w.raw(",");
      w.string(error.suggestions[i]);
    }
    w.raw("]");
  }
  w.raw("}}");
  return json_reply(error.status, std::move(body));
}

Reply method_not_allowed(std::string_view allow) {
  auto r = error_reply({http::status::method_not_allowed, "method_not_allowed",
                        "method not allowed here; allowed: " + std::string(allow), {}, {}, {}});
  r.message.set(http::field::allow, allow);
  return r;
}

}  // namespace crowd::server
