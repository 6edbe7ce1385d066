// Whether a request's caller may use the route admit() matched: the one
// decision of every RequestHandler (an Api, a cluster router), so that a
// router refuses exactly what a crowdd refuses.
#pragma once

#include <optional>

#include "server/access.h"
#include "server/call.h"
#include "server/reply.h"

namespace crowd::server {

// 401 (no or unknown bearer token) or 403 (the token lacks the route's
// scope), or nothing when `call` may go on; sets call.principal. `tokens`
// null: everyone may (no --tokens). A request no row matched (404, 405)
// needs a valid token of any scope.
[[nodiscard]] std::optional<Reply> authorize(const TokenTable* tokens, const RequestHeader& header, Call& call);

// Whether the caller may learn sizes (read scope, or no access control).
// A write-only token's answers carry no counts: how many pairs an assign
// removed says who held a tag (issue 14).
[[nodiscard]] bool sees_sizes(const Call& call);

}  // namespace crowd::server
