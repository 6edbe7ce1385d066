#include "server/authorize.h"

#include "server/api_error.h"
#include "server/route.h"

namespace crowd::server {

std::optional<Reply> authorize(const TokenTable* tokens, const RequestHeader& header, Call& call) {
  if (tokens == nullptr) return std::nullopt;
  if (call.route != nullptr && call.route->scope == kScopeNone) return std::nullopt;
  const auto token = bearer_token(header[http::field::authorization]);
  call.principal = token ? tokens->find(*token) : nullptr;
  if (call.principal == nullptr) {
    Reply r = error_reply(unauthorized(token ? "the bearer token is not valid"
                                             : "this server needs an `Authorization: Bearer <token>` header"));
    r.message.set(http::field::www_authenticate, R"(Bearer realm="crowd")");
    return r;
  }
  if (call.route == nullptr) return std::nullopt;
  const Scope scope = call.route->scope;
  if (!call.principal->may(scope)) {
    return error_reply(forbidden("the token \"" + call.principal->name + "\" lacks the " +
                                 std::string(scope_name(scope)) + " scope"));
  }
  return std::nullopt;
}

bool sees_sizes(const Call& call) { return call.principal == nullptr || call.principal->may(kScopeRead); }

}  // namespace crowd::server
