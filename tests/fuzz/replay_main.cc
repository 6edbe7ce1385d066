// Corpus replay: runs a fuzz target's LLVMFuzzerTestOneInput once on every
// file named on the command line (directories: every regular file in them,
// in name order). Without libFuzzer, so any compiler builds it, and every
// corpus entry — each past crash included — is a regression test of the
// normal ctest run (fuzz_corpus.<name>, tests/fuzz/CMakeLists.txt).
//
// A target reports a failure by aborting; the file being run is then printed
// by the signal handler. Finding no input at all is a failure too, so a
// wrong corpus path cannot pass.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// The file being run, for the signal handler.
char g_current[4096];

void on_fatal_signal(int sig) {
  constexpr char kPrefix[] = "\nfuzz replay: failed on input ";
  (void)!::write(2, kPrefix, sizeof kPrefix - 1);
  (void)!::write(2, g_current, std::strlen(g_current));
  (void)!::write(2, "\n", 1);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

int main(int argc, char** argv) {
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, on_fatal_signal);
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg(argv[i]);
    if (fs::is_directory(arg)) {
      for (const auto& e : fs::directory_iterator(arg))
        if (e.is_regular_file()) files.push_back(e.path());
    } else if (fs::is_regular_file(arg)) {
      files.push_back(arg);
    } else {
      std::fprintf(stderr, "fuzz replay: %s is neither a file nor a directory\n", argv[i]);
      return 2;
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE... (found no input)\n", argv[0]);
    return 2;
  }
  for (const auto& f : files) {
    std::snprintf(g_current, sizeof g_current, "%s", f.c_str());
    std::ifstream in(f, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // A copy of exactly the input's size, so ASan sees reads past its end
    // as libFuzzer's own buffer would.
    std::vector<uint8_t> copy(bytes.begin(), bytes.end());
    LLVMFuzzerTestOneInput(copy.data(), copy.size());
  }
  std::printf("fuzz replay: %zu inputs ran\n", files.size());
  return 0;
}
