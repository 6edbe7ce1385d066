#include "server/refusal_error.h"

#include "server/write_failure.h"

namespace crowd::server {

ApiError refusal_error(const activation::Refusal& r) {
  using Kind = activation::Refusal::Kind;
  switch (r.kind) {
    case Kind::kBadRequest:
      return bad_request(r.message);
    case Kind::kNotFound:
      return not_found(r.message);
    case Kind::kConflict:
      return {http::status::conflict, r.code, r.message, {}, {}, {}};
    case Kind::kTooSmall:
      return crowd_too_small(r.message);
    case Kind::kWrite:
      if (auto e = write_failure(r.write, r.result)) return *e;
      break;
  }
  return unavailable(r.message.empty() ? "activation failed" : r.message);
}

}  // namespace crowd::server
