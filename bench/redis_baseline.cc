#include "bench/redis_baseline.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace crowd::bench {
namespace {

using query::AstKind;
using query::AstNode;

// Running servers, readable from a signal handler: the pid, the log file and
// the directory (fixed buffers: a handler may only unlink and rmdir).
constexpr int kMaxServers = 8;
constexpr std::size_t kMaxPath = 512;
struct Slot {
  volatile std::sig_atomic_t pid = 0;
  char log[kMaxPath] = {};
  char dir[kMaxPath] = {};
};
Slot g_slots[kMaxServers];

void remember(pid_t pid, const std::string& log, const std::string& dir) {
  for (auto& slot : g_slots) {
    if (slot.pid == 0) {
      if (log.size() < kMaxPath && dir.size() < kMaxPath) {
        std::memcpy(slot.log, log.c_str(), log.size() + 1);
        std::memcpy(slot.dir, dir.c_str(), dir.size() + 1);
      }
      slot.pid = pid;
      return;
    }
  }
}

void forget(pid_t pid) {
  for (auto& slot : g_slots) {
    if (slot.pid == pid) slot.pid = 0;
  }
}

// A port the kernel considers free right now (bind to port 0, read it back,
// close). Another process could take it before redis does; start() then sees
// redis exit and reports it.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

std::string reply_error(redisContext* c, const redisReply* r) {
  if (r == nullptr) return std::string("redis connection: ") + (c->errstr[0] ? c->errstr : "no reply");
  if (r->type == REDIS_REPLY_ERROR) return std::string("redis: ") + std::string(r->str, r->len);
  return "redis: unexpected reply type " + std::to_string(r->type);
}

// The expression compiler: a node's key, emitting the commands that fill it.
class ProgramCompiler {
 public:
  ProgramCompiler(const TagDictionary& dictionary, const std::string& temp_prefix, RedisProgram& out)
      : dictionary_(dictionary), temp_prefix_(temp_prefix), out_(out) {}

  std::string error;

  // The key holding the node's set (tail bits clear).
  std::string key(const AstNode& n) {
    switch (n.kind) {
      case AstKind::kTag:
        if (!dictionary_.find(n.text)) fail("unknown tag " + n.text);
        return n.text;
      case AstKind::kPrefix: {
        const auto ids = dictionary_.with_prefix(n.text);
        if (ids.empty()) fail("prefix " + n.text + "* matches no tag");
        if (ids.size() == 1) return dictionary_.name(ids[0]);
        std::vector<std::string> cmd = {"BITOP", "OR", temp()};
        for (const TagId id : ids) cmd.push_back(dictionary_.name(id));
        return emit(std::move(cmd));
      }
      case AstKind::kAll:
        return kRedisUniverseKey;
      case AstKind::kNot: {
        const std::string inverted = negate(n.children[0]);
        return emit({"BITOP", "AND", inverted, inverted, kRedisUniverseKey});
      }
      case AstKind::kOr: {
        std::vector<std::string> cmd = {"BITOP", "OR", ""};
        for (const auto& c : n.children) cmd.push_back(key(c));
        cmd[2] = temp();
        return emit(std::move(cmd));
      }
      case AstKind::kAnd: {
        // NOT operands stay unmasked: the AND with a positive operand (or
        // the universe, when there is none) clears their tail bits.
        std::vector<std::string> cmd = {"BITOP", "AND", ""};
        bool positive = false;
        for (const auto& c : n.children) {
          if (c.kind == AstKind::kNot) {
            cmd.push_back(negate(c.children[0]));
          } else {
            cmd.push_back(key(c));
            positive = true;
          }
        }
        if (!positive) cmd.push_back(kRedisUniverseKey);
        cmd[2] = temp();
        return emit(std::move(cmd));
      }
      default:
        fail("the baselines support tags, prefixes, ALL, NOT, AND and OR only");
        return kRedisUniverseKey;
    }
  }

 private:
  // BITOP NOT of the node into a fresh temporary; the tail bits are set.
  std::string negate(const AstNode& operand) {
    const std::string k = key(operand);
    return emit({"BITOP", "NOT", temp(), k});
  }
  std::string temp() { return temp_prefix_ + std::to_string(next_++); }
  // Appends the command; returns its destination (argv[2]).
  std::string emit(std::vector<std::string> cmd) {
    std::string dest = cmd[2];
    out_.commands.push_back(std::move(cmd));
    return dest;
  }
  void fail(std::string message) {
    if (error.empty()) error = std::move(message);
  }

  const TagDictionary& dictionary_;
  const std::string& temp_prefix_;
  RedisProgram& out_;
  int next_ = 0;
};

}  // namespace

std::unique_ptr<RedisServer> RedisServer::start(const std::string& binary, int port, std::string& error) {
  if (::access(binary.c_str(), X_OK) != 0) {
    error = binary + " is not an executable (install redis-server, or pass --redis-server)";
    return nullptr;
  }
  std::unique_ptr<RedisServer> s(new RedisServer());
  std::string dir = (std::filesystem::temp_directory_path() / "crowd-redis-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) {
    error = "cannot create a temporary directory for redis";
    return nullptr;
  }
  s->dir_ = dir;
  s->port_ = port != 0 ? port : free_port();
  if (s->port_ == 0) {
    error = "no free port on 127.0.0.1";
    return nullptr;
  }
  const std::string log_path = dir + "/redis.log";
  std::vector<std::string> args = {binary,
                                   "--port",
                                   std::to_string(s->port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--daemonize",
                                   "no",
                                   "--dir",
                                   dir,
                                   "--logfile",
                                   log_path,
                                   "--protected-mode",
                                   "yes"};
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    error = "fork failed";
    return nullptr;
  }
  if (pid == 0) {
    // Dies with us, even on SIGKILL.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) _exit(1);
    const int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, STDIN_FILENO);
      ::dup2(null, STDOUT_FILENO);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  s->pid_ = pid;
  remember(pid, log_path, dir);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      forget(pid);
      s->pid_ = -1;
      error = "redis-server exited at start (port " + std::to_string(s->port_) + " taken?); its log:\n" + s->log();
      return nullptr;
    }
    std::string ignored;
    if (auto client = RedisClient::connect(s->port_, ignored)) {
      long long n = 0;
      std::string pong;
      if (client->command({"PING"}, REDIS_REPLY_STATUS, n, pong, ignored) && pong == "PONG") return s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  error = "redis-server did not answer PING within 30 s; its log:\n" + s->log();
  return nullptr;  // the destructor stops it
}

void RedisServer::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int status = 0;
    bool reaped = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!reaped) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    forget(pid_);
    pid_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

std::string RedisServer::log() const {
  std::ifstream in(dir_ + "/redis.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void stop_redis_servers_from_signal() {
  for (auto& slot : g_slots) {
    if (slot.pid == 0) continue;
    ::kill(static_cast<pid_t>(slot.pid), SIGTERM);
    // With --save '' redis writes nothing but its log there.
    if (slot.log[0] != '\0') ::unlink(slot.log);
    if (slot.dir[0] != '\0') ::rmdir(slot.dir);
  }
}

std::string redis_bitmap(const roaring_bitmap_t* bits, uint32_t bit_count) {
  std::string out((static_cast<std::size_t>(bit_count) + 7) / 8, '\0');
  roaring_iterate(
      bits,
      [](uint32_t v, void* p) {
        auto& s = *static_cast<std::string*>(p);
        if (v / 8 < s.size()) s[v / 8] = static_cast<char>(static_cast<unsigned char>(s[v / 8]) | (0x80u >> (v % 8)));
        return true;
      },
      &out);
  return out;
}

bool collect_tags(const query::Ast& ast, const TagDictionary& dictionary, std::set<TagId>& out, std::string& error) {
  if (ast.kind == AstKind::kTag) {
    const auto id = dictionary.find(ast.text);
    if (!id) {
      error = "unknown tag " + ast.text;
      return false;
    }
    out.insert(*id);
  } else if (ast.kind == AstKind::kPrefix) {
    const auto ids = dictionary.with_prefix(ast.text);
    if (ids.empty()) {
      error = "prefix " + ast.text + "* matches no tag";
      return false;
    }
    out.insert(ids.begin(), ids.end());
  }
  for (const auto& c : ast.children) {
    if (!collect_tags(c, dictionary, out, error)) return false;
  }
  return true;
}

bool compile_redis_program(const query::Ast& ast, const TagDictionary& dictionary, const std::string& temp_prefix,
                           RedisProgram& out, std::string& error) {
  out = RedisProgram{};
  ProgramCompiler compiler(dictionary, temp_prefix, out);
  const std::string result = compiler.key(ast);
  if (!compiler.error.empty()) {
    error = compiler.error;
    return false;
  }
  out.commands.push_back({"BITCOUNT", result});
  for (const auto& cmd : out.commands) {
    auto& argv = out.argv.emplace_back();
    auto& lens = out.argvlen.emplace_back();
    for (const auto& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
  }
  return true;
}

std::unique_ptr<RedisClient> RedisClient::connect(int port, std::string& error) {
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, timeval{5, 0});
  if (c == nullptr || c->err) {
    error = std::string("cannot connect to redis on port ") + std::to_string(port) + ": " +
            (c != nullptr ? c->errstr : "out of memory");
    if (c != nullptr) redisFree(c);
    return nullptr;
  }
  return std::unique_ptr<RedisClient>(new RedisClient(c));
}

RedisClient::~RedisClient() { redisFree(c_); }

bool RedisClient::command(const std::vector<std::string>& args, int expect_type, long long& integer, std::string& text,
                          std::string& error) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(redisCommandArgv(c_, static_cast<int>(argv.size()), argv.data(), lens.data()));
  const bool ok = r != nullptr && r->type == expect_type;
  if (!ok) {
    error = reply_error(c_, r);
  } else if (r->type == REDIS_REPLY_INTEGER) {
    integer = r->integer;
  } else if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) {
    text.assign(r->str, r->len);
  }
  if (r != nullptr) freeReplyObject(r);
  return ok;
}

bool RedisClient::run(const RedisProgram& program, uint64_t& count, std::string& error) {
  const std::size_t n = program.argv.size();
  for (std::size_t i = 0; i < n; ++i) {
    // hiredis 0.14 takes `const char**` but only reads it.
    if (redisAppendCommandArgv(c_, static_cast<int>(program.argv[i].size()),
                               const_cast<const char**>(program.argv[i].data()),
                               program.argvlen[i].data()) != REDIS_OK) {
      error = reply_error(c_, nullptr);
      return false;
    }
  }
  bool ok = true;
  for (std::size_t i = 0; i < n; ++i) {
    void* raw = nullptr;
    if (redisGetReply(c_, &raw) != REDIS_OK) {
      error = reply_error(c_, nullptr);
      return false;  // the connection is unusable now
    }
    auto* r = static_cast<redisReply*>(raw);
    if (r->type != REDIS_REPLY_INTEGER) {
      if (ok) error = reply_error(c_, r);
      ok = false;
    } else if (i + 1 == n) {
      count = static_cast<uint64_t>(r->integer);
    }
    freeReplyObject(r);
  }
  return ok;
}

}  // namespace crowd::bench
