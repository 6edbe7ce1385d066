// After an outsized request: give back what serving it grew.
//
// The worker's simdjson parser keeps the buffers of the largest document it
// parsed (~7 bytes resident per byte of JSON) for as long as the thread
// lives: two 50 MB assigns kept ~700 MiB resident for good (issue 14). Past
// kOutsizedBody the parser is replaced by a fresh one (request_json.h);
// bodies under it cost one comparison here.
//
// Not done: malloc_trim(0). It would also return free pages that glibc
// keeps in its arenas for blocks under its 32 MiB mmap ceiling, but it walks
// every arena's free lists: 45 ms a call at 1M demo users, which made a
// 2 MB assign 55% slower (80 -> 124 ms, measured). Blocks of 32 MiB and more
// (an outsized body and the parser's buffers for it) are mmapped and go back
// to the system when freed anyway; smaller freed blocks stay reusable.
#pragma once

#include <cstddef>

namespace crowd::server {

inline constexpr std::size_t kOutsizedBody = 1u << 20;

// Call on the worker that served the request, once its body, its parsed
// document and anything built from them are gone.
void release_after_outsized_request(std::size_t body_bytes);

}  // namespace crowd::server
