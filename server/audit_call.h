// The audit line of one answered request (an export, a write, a refusal of
// either), as every RequestHandler writes it: a crowdd's Api and a cluster
// router record the same lines for the same requests.
#pragma once

#include "server/audit_log.h"
#include "server/call.h"
#include "server/reply.h"

namespace crowd::server {

// Whether `call` gets a line: its route is audited (refusals included), or
// its handler asked for one (a lookalike that saves its result).
[[nodiscard]] bool audited(const Call& call);

// Appends `call`'s line to `log`. An export that cannot be recorded becomes
// a 503 (no unrecorded export: its IDs have not been sent yet).
void audit_call(AuditLog& log, const RequestHeader& header, const Call& call, Reply& reply);

}  // namespace crowd::server
