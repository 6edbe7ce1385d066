#include "tests/support/push_receiver_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "tests/support/server_process.h"

namespace crowd::test {
namespace {

using Clock = std::chrono::steady_clock;

const std::string kScript = std::string(CROWD_SOURCE_DIR) + "/tools/push_receiver.py";
const std::string kListening = "push_receiver listening on http://127.0.0.1:";

}  // namespace

std::string python3_path() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const auto candidate = (dir.empty() ? std::string(".") : dir) + "/python3";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "/usr/bin/python3";
}

PushReceiver::PushReceiver(const std::vector<std::string>& flags) {
  state_path_ = dir_.path + "/state.json";
  log_path_ = dir_.path + "/stderr.log";
  std::vector<std::string> args = {python3_path(), kScript, "--state", state_path_, "--port", "0"};
  args.insert(args.end(), flags.begin(), flags.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  if (pipe(out) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {  // only async-signal-safe calls from here to exec
    dup2(out[1], STDOUT_FILENO);
    const int err = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) dup2(err, STDERR_FILENO);
    close(out[0]);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  read_port(out[0]);
  close(out[0]);
}

PushReceiver::~PushReceiver() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 250; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

std::string PushReceiver::url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook?from=crowd"; }

nlohmann::json PushReceiver::state() const {
  HttpConnection connection(port_, 10);
  return nlohmann::json::parse(connection.get("/state").body);
}

// Waits (up to 20 s) for the one line that gives the port.
void PushReceiver::read_port(int fd) {
  std::string seen;
  const auto give_up = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < give_up) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    char buf[256];
    const auto n = read(fd, buf, sizeof buf);
    if (n <= 0) return;  // it exited: port_ stays 0, log() says why
    seen.append(buf, static_cast<std::size_t>(n));
    const auto at = seen.find(kListening);
    if (at != std::string::npos && seen.find('\n', at) != std::string::npos) {
      port_ = std::atoi(seen.c_str() + at + kListening.size());
      return;
    }
  }
}

}  // namespace crowd::test
