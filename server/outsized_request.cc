#include "server/outsized_request.h"

#include <malloc.h>

#include "server/request_json.h"

namespace crowd::server {

void release_after_outsized_request(std::size_t body_bytes) {
  if (body_bytes < kOutsizedBody) return;
  shrink_thread_json_parser();
  // Returns free pages of every arena to the system (whole free pages inside
  // the heap too, not just its top). It takes each arena's lock in turn, a
  // few milliseconds at most, and runs only after a request that took far
  // longer to read and parse.
  malloc_trim(0);
}

}  // namespace crowd::server
