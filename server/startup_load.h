// Bulk loads at start (--demo, --load, --load-taobao), into an empty index
// only, so a restart with --data-dir never loads twice.
#pragma once

#include <string>

#include "index/store.h"
#include "server/config.h"

namespace crowd::server {

// Runs the loads the config asks for, if the index is empty, logging what was
// loaded and how long it took to stderr. Returns false with a message (file
// and line) if any input is bad; the server then refuses to start.
[[nodiscard]] bool load_startup_data(const Config& config, Store& store, std::string& error);

// The process's resident set size in bytes (from /proc/self/statm), 0 if unknown.
[[nodiscard]] uint64_t resident_bytes();

}  // namespace crowd::server
