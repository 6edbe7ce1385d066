// The one way a fuzz target reports a broken invariant: a message on stderr
// and abort(), which libFuzzer records as a crash (and replay_main reports
// with the input's file name). Always on, whatever NDEBUG says.
#pragma once

#include <cstdio>
#include <cstdlib>

#define CROWD_FUZZ_CHECK(cond, ...)                                                       \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, #cond);   \
      std::fprintf(stderr, __VA_ARGS__);                                                  \
      std::fprintf(stderr, "\n");                                                         \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)
