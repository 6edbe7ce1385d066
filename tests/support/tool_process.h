// Running the project's command-line tools (crowd-bench, crowd-baselines)
// from end-to-end tests: a scratch directory that cleans up after itself and
// a run that captures exit status, stdout and stderr. No shell in between, so
// arguments need no quoting.
#pragma once

#include <string>
#include <vector>

namespace crowd::test {

// A temp_dir() removed with everything in it at scope exit.
struct ScratchDir {
  explicit ScratchDir(const std::string& prefix = "crowd-tool-test");
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string path;
};

struct ToolRun {
  int exit_code = -1;  // the exit code, or 128 + the signal that ended it
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with argv[1..] and waits for it.
[[nodiscard]] ToolRun run_tool(const std::vector<std::string>& argv);

// The whole file ("" when it cannot be read).
[[nodiscard]] std::string read_file(const std::string& path);

}  // namespace crowd::test
