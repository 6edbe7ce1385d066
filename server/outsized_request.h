// After an outsized request: give back what serving it grew.
//
// A body of megabytes leaves memory behind that nothing else would release:
// the worker's simdjson parser keeps its peak buffers, and glibc keeps large
// freed blocks in its arenas once its adaptive mmap threshold has risen to
// their size. Two 50 MB assigns kept ~700 MiB resident for good (issue 14).
// Bodies under kOutsizedBody cost nothing here, so the hot path is one
// comparison.
#pragma once

#include <cstddef>

namespace crowd::server {

inline constexpr std::size_t kOutsizedBody = 1u << 20;

// Call on the worker that served the request, once its body, its parsed
// document and anything built from them are gone.
void release_after_outsized_request(std::size_t body_bytes);

}  // namespace crowd::server
