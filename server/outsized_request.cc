#include "server/outsized_request.h"

#include "server/request_json.h"

namespace crowd::server {

void release_after_outsized_request(std::size_t body_bytes) {
  if (body_bytes < kOutsizedBody) return;
  shrink_thread_json_parser();
}

}  // namespace crowd::server
