// Waiting in tests for something another process or thread does: polls a
// predicate until it holds or a limit passes (a hang guard, not a timing
// assertion).
#pragma once

#include <chrono>
#include <thread>

namespace crowd::test {

// Polls `pred` every `every` for up to `limit`; its last answer.
template <typename Pred>
bool eventually(Pred&& pred, std::chrono::milliseconds limit = std::chrono::seconds(60),
                std::chrono::milliseconds every = std::chrono::milliseconds(20)) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < give_up) {
    if (pred()) return true;
    std::this_thread::sleep_for(every);
  }
  return pred();
}

}  // namespace crowd::test
