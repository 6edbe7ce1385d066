// The Redis baseline of bench/crowd_baselines_main.cc: what a team would build
// instead of crowd — every tag a plain Redis bitmap string, queries as
// BITOP AND/OR/NOT into temporary keys and a final BITCOUNT.
//
//   RedisServer   a private redis-server child on 127.0.0.1, no persistence,
//                 in its own temporary directory; stopped by the destructor,
//                 by stop_redis_servers_from_signal() in a signal handler, and
//                 by the kernel if this process dies (PR_SET_PDEATHSIG).
//   RedisProgram  one query compiled to pipelined commands (Redis 7.0 has no
//                 BITOP DIFF: NOT is BITOP NOT, then AND with the universe so
//                 the tail bits of the last byte never count).
//   RedisClient   one hiredis connection: SET the bitmaps, run programs.
//
// Keys: a tag is stored under its own name; the universe and the temporaries
// start with byte 0xFF, which never occurs in UTF-8, so they cannot collide
// with a tag. Bit i of a key is user ordinal i, Redis bit order: bit 0 is the
// most significant bit of byte 0.
#pragma once

#include <hiredis/hiredis.h>
#include <roaring/roaring.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "index/index_view.h"
#include "query/ast.h"

namespace crowd::bench {

inline const std::string kRedisUniverseKey = "\xffuniverse";

class RedisServer {
 public:
  // Starts `binary` --port `port` (0: a free port picked here) --bind
  // 127.0.0.1 --save '' --appendonly no --daemonize no, with a fresh
  // temporary --dir, and waits (up to 30 s) until it answers PING. Returns
  // nullptr with `error` (and the server's log) on failure.
  [[nodiscard]] static std::unique_ptr<RedisServer> start(const std::string& binary, int port, std::string& error);
  ~RedisServer() { stop(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // SIGTERM, wait up to 10 s, then SIGKILL; removes the directory.
  // Idempotent.
  void stop();
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] std::string log() const;

 private:
  RedisServer() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
};

// For a signal handler: SIGTERM to every running RedisServer, and its log
// file and directory removed (async-signal-safe: kill, unlink, rmdir only).
void stop_redis_servers_from_signal();

// A tag bitmap as a Redis string of ceil(bits / 8) bytes (every key gets the
// same length, so BITOP never pads). O(cardinality).
[[nodiscard]] std::string redis_bitmap(const roaring_bitmap_t* bits, uint32_t bit_count);

// The tags `ast` reads (prefixes expanded) into `out`. False with `error` on
// an unknown tag or an empty prefix.
[[nodiscard]] bool collect_tags(const query::Ast& ast, const TagDictionary& dictionary, std::set<TagId>& out,
                                std::string& error);

struct RedisProgram {
  std::vector<std::vector<std::string>> commands;  // the last one is BITCOUNT
  // argv/argvlen views of `commands` for redisAppendCommandArgv (filled by
  // compile_redis_program; invalidated by copying the program).
  std::vector<std::vector<const char*>> argv;
  std::vector<std::vector<std::size_t>> argvlen;
};

// `ast` as pipelined commands whose temporaries are `temp_prefix` + n (so
// concurrent connections use distinct prefixes). Supports tags, prefixes,
// ALL, NOT, AND, OR. False with `error` otherwise.
[[nodiscard]] bool compile_redis_program(const query::Ast& ast, const TagDictionary& dictionary,
                                         const std::string& temp_prefix, RedisProgram& out, std::string& error);

class RedisClient {
 public:
  // Connects to 127.0.0.1:port (TCP_NODELAY: hiredis sets it). nullptr with
  // `error` on failure.
  [[nodiscard]] static std::unique_ptr<RedisClient> connect(int port, std::string& error);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // One command, its reply checked against `expect_type` (REDIS_REPLY_*);
  // an integer reply lands in `integer`, a string or status in `text`.
  [[nodiscard]] bool command(const std::vector<std::string>& args, int expect_type, long long& integer,
                             std::string& text, std::string& error);
  // Sends every command of the program in one pipeline, reads every reply;
  // `count` is the final BITCOUNT. One round trip.
  [[nodiscard]] bool run(const RedisProgram& program, uint64_t& count, std::string& error);

 private:
  explicit RedisClient(redisContext* c) : c_(c) {}
  redisContext* c_;
};

}  // namespace crowd::bench
