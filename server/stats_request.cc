#include "server/stats_request.h"

#include "server/json_fields.h"
#include "server/request_json.h"

namespace crowd::server {

std::variant<StatsRequest, ApiError> read_stats_request(std::string_view body) {
  StatsRequest out;
  const JsonField fields[] = {
      {"q", kRequired, string_into(out.q)},
      {"attr", kRequired, string_into(out.attr)},
      {"lenient", kOptional, bool_into(out.lenient)},
      {"as_of", kOptional, day_into(out.as_of)},
  };
  if (auto e = read_body_fields(body, fields)) return *e;
  return out;
}

}  // namespace crowd::server
