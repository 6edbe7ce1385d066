// What the router's handler files share: one request's context, and the
// helpers that read shards' answers.
#pragma once

#include <boost/url/url_view.hpp>
#include <simdjson.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "router/replica_fanout.h"
#include "router/router.h"
#include "router/topology.h"
#include "server/reply.h"

namespace crowd::router {

struct Router::Context {
  std::shared_ptr<const Layout> layout;  // one map version for the whole request
  server::Call& call;
  boost::urls::url_view url;
  Clock::time_point start;
  Clock::time_point deadline;

  [[nodiscard]] uint32_t shards() const { return layout->map.shards(); }
  // Microseconds since the request was entered (took_us).
  [[nodiscard]] uint64_t took_us() const;
};

// Shards 0..n-1.
[[nodiscard]] std::vector<uint32_t> shard_list(uint32_t n);

// A shard's answer passed on as is (its status and JSON body).
[[nodiscard]] server::Reply relay(const ShardAnswer& answer);
// 503: shard `k` has no replica that answered.
[[nodiscard]] server::Reply no_replica_answered(uint32_t k, const ShardAnswer& answer);

// A member of a JSON object: its name and its value as JSON text.
struct Member {
  std::string_view key;
  std::string value;
};
// `body` (a JSON object) with the members of `set` in place of any of the
// same name, and those of `defaults` added where the body has none. A body
// that is not a JSON object is returned as it is: the shards refuse it as a
// crowdd would.
[[nodiscard]] std::string edit_object(std::string_view body, const std::vector<Member>& set,
                                      const std::vector<Member>& defaults = {});

// The JSON text of a day (days since 1970-01-01): "YYYY-MM-DD".
[[nodiscard]] std::string day_json(int64_t day);

// A shard's part of a read over a JSON body: the client's body with the day
// relative windows end on always given (the router's today unless the
// client chose one), so that every shard counts back from the same day;
// lenient on when asked; `set` replacing members.
[[nodiscard]] ShardRequest shard_request(std::string_view target, std::string_view body, bool lenient,
                                         int64_t today, std::vector<Member> set = {});

// Parsed shard answers, alive together for one request (simdjson DOM on
// parsers kept per thread, so a request allocates nothing once warm).
class ShardDocs {
 public:
  ShardDocs();
  ~ShardDocs();
  ShardDocs(const ShardDocs&) = delete;
  ShardDocs& operator=(const ShardDocs&) = delete;
  // The answer's root, or nullopt if it is not JSON.
  [[nodiscard]] std::optional<simdjson::dom::element> parse(const std::string& body);

 private:
  std::size_t base_;
  std::size_t used_ = 0;
};

// Shard k's answer's array `member`, or the reply to give instead: the
// shard's own error as it is, 503 when no replica answered or the answer
// has no such array.
[[nodiscard]] std::variant<simdjson::dom::array, server::Reply> answer_array(ShardDocs& docs, uint32_t k,
                                                                             const ShardAnswer& answer,
                                                                             std::string_view member);

// Adds a shard answer's "warnings" to `out`: each once, in the order first seen.
void merge_warnings(simdjson::dom::element root, std::vector<std::string>& out);

// What the tag library says of a field, in a shard's field answers: passed
// on by a router as the first shard that has the field wrote them (they are
// the same on every shard: metadata is written to every shard).
inline constexpr std::string_view kFieldMetaMembers[] = {"kind", "label", "description", "parent"};

// Readers of a parsed answer's members; a missing member reads as 0 / "".
[[nodiscard]] uint64_t member_uint(simdjson::dom::element e, std::string_view key);
[[nodiscard]] std::string_view member_string(simdjson::dom::element e, std::string_view key);

}  // namespace crowd::router
