// Access control (--tokens FILE): bearer tokens, each with a name and scopes.
//
// The file holds one token a line, `name scopes token`, e.g.
//
//   # name        scopes               token
//   dmp-console   read,export          2f6c1b0e9d8a47f3b5c4e1d0a9f8e7c6
//   nightly-etl   write                9b8a7c6d5e4f30211f2e3d4c5b6a7988
//
// Scopes: `read` (counts, tags, fields, profiles, saved crowd listings),
// `export` (ID lists in any format), `write` (ingest, assign, delete, saving
// crowds), `admin` (snapshots, metrics). Scopes do not imply one another.
// Tokens are compared in constant time (in their length) against every
// entry, never logged, and never echoed in an error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crowd::server {

// The scope each route needs is in its row of the route table (routes.cc).
enum Scope : uint8_t {
  kScopeNone = 0,  // a route anyone may call (/healthz); 404s and 405s need a valid token of any scope
  kScopeRead = 1,
  kScopeExport = 2,
  kScopeWrite = 4,
  kScopeAdmin = 8,
};

// "read", "export", "write", "admin".
[[nodiscard]] std::string_view scope_name(Scope s);

// Who made a request: the name of the token's line and its scopes.
struct Principal {
  std::string name;
  uint8_t scopes = 0;
  [[nodiscard]] bool may(Scope s) const { return s == kScopeNone || (scopes & s) != 0; }
};

class TokenTable {
 public:
  // Reads `path`; nullopt with a message naming the line on any problem (a
  // token shorter than 16 bytes, an unknown scope, a name or token given
  // twice, no token at all). `warning` is set when the file is readable by
  // group or others.
  [[nodiscard]] static std::optional<TokenTable> load(const std::string& path, std::string& error,
                                                      std::string& warning);
  // From the file's text (tests).
  [[nodiscard]] static std::optional<TokenTable> parse(std::string_view text, std::string& error);

  // The principal whose token `presented` is, or nullptr. Every entry is
  // compared, each in time that depends on the presented length only.
  [[nodiscard]] const Principal* find(std::string_view presented) const;

  [[nodiscard]] std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Principal principal;
    std::string token;
  };
  std::vector<Entry> entries_;
};

// Equal in time that depends on presented.size() alone, not on where the
// first difference is.
[[nodiscard]] bool constant_time_equal(std::string_view secret, std::string_view presented);

// The token of an `Authorization: Bearer <token>` header value (scheme
// case-insensitive), or nullopt.
[[nodiscard]] std::optional<std::string_view> bearer_token(std::string_view authorization);

}  // namespace crowd::server
