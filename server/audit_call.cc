#include "server/audit_call.h"

#include <iostream>
#include <string>

#include "server/access.h"
#include "server/api_error.h"
#include "server/route.h"

namespace crowd::server {

bool audited(const Call& call) {
  return (call.route != nullptr && call.route->audited == Audited::kYes) || call.audit;
}

void audit_call(AuditLog& log, const RequestHeader& header, const Call& call, Reply& reply) {
  AuditEntry e;
  e.token = call.principal != nullptr ? std::string_view(call.principal->name) : std::string_view("-");
  e.method = header.method_string();
  // The path, but a user's ID stays out of the log (right to erasure): a
  // route whose pattern has an `{id}` segment is logged by its pattern.
  const std::string_view pattern = call.route->pattern;
  const std::string_view target = header.target();
  e.route = pattern.find("{id}") != std::string_view::npos ? pattern : target.substr(0, target.find('?'));
  e.status = reply.message.result_int();
  e.query = call.query;
  e.ids = call.ids;
  e.users = call.users;
  std::string error;
  if (log.append(e, error)) return;
  std::cerr << "crowdd: cannot write the audit log: " << error << "\n";
  if (call.route->scope == kScopeExport && e.status == 200) {
    reply = error_reply(unavailable("the audit log cannot be written: " + error));
  }
}

}  // namespace crowd::server
