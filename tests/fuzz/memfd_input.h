// For fuzz targets whose reader takes a file (snapshots, log segments): the
// input goes into an in-memory file (memfd), rewritten in place each run,
// so no run touches the disk.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "tests/fuzz/fuzz_check.h"

// A fresh memfd named `name` (shows in /proc/self/fd as memfd:name).
inline int make_memfd(const char* name) {
  const int fd = ::memfd_create(name, 0);
  CROWD_FUZZ_CHECK(fd >= 0, "memfd_create");
  return fd;
}

// Makes `fd`'s whole content `bytes`.
inline void put(int fd, const std::string& bytes) {
  CROWD_FUZZ_CHECK(::ftruncate(fd, 0) == 0, "ftruncate");
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    CROWD_FUZZ_CHECK(n > 0, "pwrite");
    done += static_cast<std::size_t>(n);
  }
}
