// The public Taobao UserBehavior log (Alibaba, Tianchi): parser and bulk
// loader.
//
// Rows are `user_id,item_id,category_id,behavior_type,timestamp` with
// behavior_type one of pv, buy, cart, fav and the timestamp in Unix seconds.
// Each row becomes the tag `cat:<category_id>:<behavior_type>` on user
// `user_id`; the item id is parsed (so a malformed one is caught) but not
// tagged.
//
// Malformed input is refused, never guessed at: a line with the wrong number
// of fields, a field that is not a plain decimal number in range, an unknown
// behaviour, or an empty line fails the whole load with its 1-based line
// number. (Only a trailing '\r', a CRLF line ending, is tolerated.)
//
// Decision on dirty timestamps. The data set covers 2017-11-25 00:00:00 to
// 2017-12-03 23:59:59 in UTC+8 (China time, where it was collected), yet it
// holds rows stamped outside that window. Such a row is still a real
// behaviour: its user, item, category and behaviour fields are sound, only
// the device clock that stamped it is off. So its tag is KEPT, but its day is
// recorded as unknown (TaobaoRow::day is nullopt) and the row is counted in
// TaobaoStats::out_of_window. Days are UTC+8 calendar days (days since
// 1970-01-01 of the UTC+8 date), not UTC days as the contract's dated tags
// are: UTC+8 is the data set's own definition of its window, and a UTC day
// would split every China-time evening across two days. Each row with a day
// also sets its tag's day tag (BulkLoader::day), so within() works on the log.
#pragma once

#include <array>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "index/bulk_loader.h"
#include "index/ids.h"

namespace crowd {

enum class TaobaoBehavior : uint8_t { kPv, kBuy, kCart, kFav };
inline constexpr std::size_t kTaobaoBehaviors = 4;
// "pv", "buy", "cart", "fav".
[[nodiscard]] std::string_view taobao_behavior_name(TaobaoBehavior b);

// The collection window, inclusive, in Unix seconds, and its time zone.
inline constexpr int64_t kTaobaoUtcOffsetSeconds = 8 * 3600;
inline constexpr int64_t kTaobaoWindowFirst = 1'511'539'200;  // 2017-11-25 00:00:00 UTC+8
inline constexpr int64_t kTaobaoWindowLast = 1'512'316'799;   // 2017-12-03 23:59:59 UTC+8

struct TaobaoRow {
  UserId user = 0;
  uint64_t item = 0;
  uint64_t category = 0;
  TaobaoBehavior behavior = TaobaoBehavior::kPv;
  int64_t timestamp = 0;       // Unix seconds as logged (may be negative)
  std::optional<int32_t> day;  // UTC+8 calendar day, days since 1970-01-01; nullopt outside the window
};

// The UTC+8 calendar day of a timestamp inside the window
// (17495 = 2017-11-25 .. 17503 = 2017-12-03); nullopt outside it.
[[nodiscard]] std::optional<int32_t> taobao_day(int64_t timestamp);

// Parses one line, without its '\n' (a trailing '\r' is allowed). Numbers are
// plain ASCII digits (the timestamp may have a leading '-'), no spaces, in
// range of their type. On failure returns false with a message naming the
// field (no line number: the caller knows it). O(line length).
[[nodiscard]] bool parse_taobao_row(std::string_view line, TaobaoRow& row, std::string& error);

// The tag of a row: "cat:<category>:<behavior>", category in canonical
// decimal (no leading zeros).
[[nodiscard]] std::string taobao_tag(uint64_t category, TaobaoBehavior behavior);

struct TaobaoStats {
  uint64_t rows = 0;
  uint64_t users = 0;  // distinct user_ids in this input
  // (user, tag) pairs handed to the loader, deduplicated within each run of
  // consecutive rows of one user: every distinct pair when the file is
  // grouped by user, as the published data set is (repeat pv of the same
  // category collapse into one tag).
  uint64_t assignments = 0;
  // (user, tag, day) triples set as day tags (BulkLoader::day), deduplicated
  // the same way: within(cat:X:buy, 2017-11-25, 2017-12-01) asks for them.
  uint64_t dated_assignments = 0;
  uint64_t out_of_window = 0;                          // rows stamped outside the window: tag kept, day unknown
  std::array<uint64_t, kTaobaoBehaviors> behaviors{};  // rows by behaviour, indexed by TaobaoBehavior
};

// Reads the whole stream and feeds every row into `loader` (stats are added
// to). Does not call loader.finish(). On the first malformed line, or when the
// user table is full, returns false with "line N: <what is wrong>"; the loader
// then holds part of the file and must be dropped, not finished. Memory: a
// set of distinct user IDs and one user's tags. ~0.25 us a row (4M rows/s;
// the full 100M-row log ~25 s).
[[nodiscard]] bool load_taobao(std::istream& in, BulkLoader& loader, TaobaoStats& stats, std::string& error);

}  // namespace crowd
