// QueryMix: the weighted list of requests the load tool replays, read from a
// mix file, and the seeded weighted choice among them.
//
// Mix file format, one request shape a line:
//
//   # comment                 (a line whose first non-blank character is #)
//                             (blank lines are ignored too)
//   WEIGHT KIND ARG
//
//   WEIGHT  a positive finite number (3, 0.5, 1e2): how often this line is
//           chosen relative to the others
//   KIND    count  ARG is a query: GET /v1/count?q=<ARG percent-encoded>
//           ids    ARG is a query: POST /v1/ids {"q": ARG, "limit": 1000}
//                  (the first page of the crowd)
//           get    ARG is a path sent verbatim: GET ARG (must start with /),
//                  e.g. /healthz, or a static file on another server
//           post   ARG is a path and, after one space, a JSON body sent
//                  verbatim: POST PATH BODY, e.g. a /v1/membership batch
//   ARG     the rest of the line, spaces included, trailing blanks and \r
//           removed. A # inside ARG is part of it, not a comment.
//
// Example:
//   10 count gender:female AND age:25-29
//    1 ids   student:yes AND power:high
//
// Errors name the 1-based line: "line 7: unknown kind 'cnt' (count, ids, get, post)".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crowd::bench {

enum class MixKind { count, ids, get, post };

// One mix line, already turned into the HTTP request it stands for, so the
// load tool builds nothing per request.
struct MixEntry {
  double weight = 0;
  MixKind kind = MixKind::count;
  std::string arg;     // the query or path as written
  int line = 0;        // 1-based, for messages
  bool post = false;   // POST (with body) or GET
  std::string target;  // request target, e.g. /v1/count?q=gender%3Afemale
  std::string body;    // JSON body for POST, else empty
};

struct QueryMix {
  std::vector<MixEntry> entries;
};

// The first page size an `ids` line asks for.
inline constexpr int kIdsPageLimit = 1000;

// Parses mix-file text. nullopt with `error` = "line N: ..." on a bad line,
// or "no requests in the mix" if nothing but comments. O(text).
[[nodiscard]] std::optional<QueryMix> parse_mix(std::string_view text, std::string& error);

// Reads and parses a mix file; errors are prefixed with the path.
[[nodiscard]] std::optional<QueryMix> load_mix(const std::string& path, std::string& error);

// Weighted choice among a mix's entries, driven by a caller-owned seeded
// generator so every stream of choices is reproducible. The uniform draw is
// computed here from the raw 64-bit output rather than by
// std::uniform_real_distribution, whose algorithm differs between standard
// libraries: a given --seed picks the same sequence everywhere.
class MixPicker {
 public:
  explicit MixPicker(const QueryMix& mix);
  // The index of the chosen entry. O(log entries), no allocation.
  [[nodiscard]] std::size_t pick(uint64_t random_bits) const;

 private:
  std::vector<double> cumulative_;  // running sums of the weights
};

// A small, fast, seedable 64-bit generator (SplitMix64). Each load-tool
// source of requests owns one, seeded from --seed and its own index.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t operator()() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

}  // namespace crowd::bench
