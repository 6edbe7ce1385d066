#include "server/access.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace crowd::server {
namespace {

// Fewer bytes than this is guessable; 16 random bytes hex-encoded are 32.
constexpr std::size_t kMinTokenBytes = 16;

std::optional<Scope> scope_of(std::string_view s) {
  if (s == "read") return kScopeRead;
  if (s == "export") return kScopeExport;
  if (s == "write") return kScopeWrite;
  if (s == "admin") return kScopeAdmin;
  return std::nullopt;
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// RFC 6750's b64token characters.
bool valid_token(std::string_view token) {
  for (const char c : token) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string_view scope_name(Scope s) {
  switch (s) {
    case kScopeRead: return "read";
    case kScopeExport: return "export";
    case kScopeWrite: return "write";
    case kScopeAdmin: return "admin";
    case kScopeNone: break;
  }
  return "none";
}

bool constant_time_equal(std::string_view secret, std::string_view presented) {
  // Every presented byte is compared (against the secret cycled when the
  // lengths differ), and differences are OR-ed rather than branched on.
  if (secret.empty()) return false;
  unsigned diff = secret.size() != presented.size() ? 1u : 0u;
  for (std::size_t i = 0; i < presented.size(); ++i) {
    diff |= static_cast<unsigned char>(presented[i]) ^ static_cast<unsigned char>(secret[i % secret.size()]);
  }
  // Keep the compiler from turning the loop into an early exit.
  asm volatile("" : "+r"(diff));
  return diff == 0;
}

std::optional<TokenTable> TokenTable::parse(std::string_view text, std::string& error) {
  TokenTable table;
  std::set<std::string, std::less<>> names;
  std::set<std::string, std::less<>> tokens;
  std::istringstream in{std::string(text)};
  std::string line;
  for (uint64_t number = 1; std::getline(in, line); ++number) {
    const std::string where = "line " + std::to_string(number) + ": ";
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream words(line);
    std::string name, scopes, token, extra;
    if (!(words >> name) || name.starts_with('#')) continue;
    if (!(words >> scopes >> token) || (words >> extra)) {
      error = where + "expected `name scopes token` (three fields)";
      return std::nullopt;
    }
    if (!valid_name(name)) {
      error = where + "a name is 1-64 of A-Z a-z 0-9 - _ .";
      return std::nullopt;
    }
    Principal p{name, 0};
    for (std::size_t at = 0; at <= scopes.size();) {
      const std::size_t comma = std::min(scopes.find(',', at), scopes.size());
      const std::string s = scopes.substr(at, comma - at);
      at = comma + 1;
      const auto scope = scope_of(s);
      if (!scope) {
        error = where + "unknown scope \"" + s + "\" (read, export, write, admin)";
        return std::nullopt;
      }
      p.scopes |= *scope;
    }
    if (p.scopes == 0) {
      error = where + "no scope";
      return std::nullopt;
    }
    // The token itself never appears in a message.
    if (token.size() < kMinTokenBytes || !valid_token(token)) {
      error = where + "the token of \"" + name + "\" must be at least " + std::to_string(kMinTokenBytes) +
              " characters of A-Z a-z 0-9 - . _ ~ + / =";
      return std::nullopt;
    }
    if (!names.insert(name).second) {
      error = where + "the name \"" + name + "\" is given twice";
      return std::nullopt;
    }
    if (!tokens.insert(token).second) {
      error = where + "the token of \"" + name + "\" is also an earlier line's";
      return std::nullopt;
    }
    table.entries_.push_back(Entry{std::move(p), std::move(token)});
  }
  if (table.entries_.empty()) {
    error = "no token in the file";
    return std::nullopt;
  }
  return table;
}

std::optional<TokenTable> TokenTable::load(const std::string& path, std::string& error, std::string& warning) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read --tokens " + path;
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto table = parse(text.str(), error);
  if (!table) {
    error = "--tokens " + path + ": " + error;
    return std::nullopt;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    warning = "--tokens " + path + " is readable by group or others (chmod 600 it)";
  }
  return table;
}

const Principal* TokenTable::find(std::string_view presented) const {
  const Principal* found = nullptr;
  for (const auto& e : entries_) {
    if (constant_time_equal(e.token, presented)) found = &e.principal;  // no early exit
  }
  return found;
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = authorization[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c) != kScheme[i]) return std::nullopt;
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

}  // namespace crowd::server
