// times_out: runs work under a request deadline that has already passed, so
// the first Deadline::check() on its path throws. The deterministic form of
// "a short budget" for tests of where the query layer checks its deadline.
#pragma once

#include <chrono>

#include "query/deadline.h"

namespace crowd::test {

// True when `work` threw query::TimedOut.
template <class Work>
bool times_out(Work&& work) {
  const query::Deadline::Scope past(query::Deadline::Clock::now() - std::chrono::milliseconds(1));
  try {
    work();
  } catch (const query::TimedOut&) {
    return true;
  }
  return false;
}

}  // namespace crowd::test
