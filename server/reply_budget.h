// The queued-reply budget: what all replies waiting for slow readers may hold
// together (--max-queued-reply-mb, Metrics::queued_replies()).
//
// A whole reply stays in memory until its reader has taken the last byte: 300
// clients that asked for a page of 10^6 IDs and never read held 3.2 GB, 300
// Roaring exports 1 GB (issue 14). A reply of kCountedReplyBytes or more
// takes its size from the budget, a streamed export one piece's room
// (ChunkSource::piece_bytes) for as long as it lasts; the share goes back
// when the reply is destroyed. A reply the budget has no room for is
// replaced by 503 unavailable with Retry-After, before any of it is sent.
//
// Smaller replies are not counted: one reply a connection, each at most what
// the kernel's socket buffer takes at once, and counting them would put two
// shared atomic operations on every count.
#pragma once

#include <cstddef>

#include "server/byte_budget.h"
#include "server/reply.h"

namespace crowd::server {

inline constexpr std::size_t kCountedReplyBytes = 64u << 10;

// Takes `reply`'s share into reply.held, or replaces the reply by the 503.
// Returns false when it replaced it. O(1).
bool hold_reply(Reply& reply, ByteBudget& budget);

}  // namespace crowd::server
