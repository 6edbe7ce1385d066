#include "server/reply_budget.h"

#include "server/api_error.h"

namespace crowd::server {

bool hold_reply(Reply& reply, ByteBudget& budget) {
  const std::size_t bytes = reply.stream ? reply.stream->piece_bytes() : reply.message.body().size();
  if (bytes < kCountedReplyBytes) return true;
  BudgetHold held(budget);
  if (held.grow_to(bytes)) {
    reply.held = std::move(held);
    return true;
  }
  reply = error_reply(unavailable("replies waiting for slow readers hold " + std::to_string(budget.held() >> 20) +
                                  " MiB of " + std::to_string(budget.limit() >> 20) +
                                  " MiB (--max-queued-reply-mb); this reply of " + std::to_string(bytes >> 10) +
                                  " KiB would not fit; try again shortly"));
  reply.message.set(http::field::retry_after, "1");
  return false;
}

}  // namespace crowd::server
