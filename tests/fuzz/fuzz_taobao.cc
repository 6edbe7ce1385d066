// Fuzz target: the Taobao UserBehavior CSV reader (data/taobao_log.h,
// --taobao FILE). Input: the file's bytes.
//
// Checks: load_taobao() accepts exactly the inputs whose every line
// parse_taobao_row() accepts (a failure names a line that exists); and when
// it accepts, its stats and the index it built match the rows re-parsed
// here: rows and behaviours counted, out-of-window rows undated, distinct
// users = the universe, (user, tag) and (user, day tag) pairs deduplicated
// per run of one user, and every row's user in its tag and its day tag.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "data/taobao_log.h"
#include "index/bulk_loader.h"
#include "index/index.h"
#include "index/system_view.h"
#include "tests/fuzz/fuzz_check.h"

using namespace crowd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::istringstream in(text);
  Index index;
  BulkLoader loader(index);
  TaobaoStats stats;
  std::string error;
  const bool ok = load_taobao(in, loader, stats, error);

  // The lines as std::getline cuts them (a final '\n' ends the last line).
  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(std::string_view(text).substr(start, end - start));
    start = end + 1;
  }
  std::vector<TaobaoRow> rows;
  std::size_t first_bad = 0;  // 1-based; 0: none
  for (std::size_t i = 0; i < lines.size() && first_bad == 0; ++i) {
    TaobaoRow row;
    std::string what;
    if (parse_taobao_row(lines[i], row, what)) {
      CROWD_FUZZ_CHECK(row.day == taobao_day(row.timestamp), "row day");
      CROWD_FUZZ_CHECK(!row.day || (row.timestamp >= kTaobaoWindowFirst && row.timestamp <= kTaobaoWindowLast),
                       "a day outside the window");
      rows.push_back(row);
    } else {
      first_bad = i + 1;
    }
  }
  if (!ok) {
    CROWD_FUZZ_CHECK(first_bad != 0, "load fails (%s) but every line parses", error.c_str());
    const std::string expected = "line " + std::to_string(first_bad) + ": ";
    CROWD_FUZZ_CHECK(error.rfind(expected, 0) == 0, "error [%s], expected it at line %zu", error.c_str(), first_bad);
    return 0;
  }
  CROWD_FUZZ_CHECK(first_bad == 0, "line %zu does not parse yet the load succeeded", first_bad);
  loader.finish();

  CROWD_FUZZ_CHECK(stats.rows == rows.size(), "rows %llu, parsed %zu", static_cast<unsigned long long>(stats.rows),
                   rows.size());
  uint64_t by_behavior = 0;
  for (const uint64_t n : stats.behaviors) by_behavior += n;
  CROWD_FUZZ_CHECK(by_behavior == stats.rows, "behaviours do not add up to rows");
  std::set<UserId> users;
  uint64_t undated = 0;
  uint64_t assignments = 0;
  uint64_t dated = 0;
  std::set<std::string> run_tags;
  std::set<std::pair<std::string, int64_t>> run_days;  // (tag, day)
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const TaobaoRow& r = rows[i];
    users.insert(r.user);
    if (!r.day) ++undated;
    if (i > 0 && rows[i - 1].user != r.user) {
      assignments += run_tags.size();
      dated += run_days.size();
      run_tags.clear();
      run_days.clear();
    }
    const std::string tag = taobao_tag(r.category, r.behavior);
    CROWD_FUZZ_CHECK(tag == "cat:" + std::to_string(r.category) + ":" + std::string(taobao_behavior_name(r.behavior)),
                     "tag spelling %s", tag.c_str());
    run_tags.insert(tag);
    if (r.day) run_days.emplace(tag, *r.day);
  }
  assignments += run_tags.size();
  dated += run_days.size();
  CROWD_FUZZ_CHECK(stats.out_of_window == undated, "out_of_window");
  CROWD_FUZZ_CHECK(stats.users == users.size(), "users %llu, distinct %zu", static_cast<unsigned long long>(stats.users),
                   users.size());
  CROWD_FUZZ_CHECK(stats.assignments == assignments, "assignments %llu, expected %llu",
                   static_cast<unsigned long long>(stats.assignments), static_cast<unsigned long long>(assignments));
  CROWD_FUZZ_CHECK(stats.dated_assignments == dated, "dated assignments");

  const auto view = index.view();
  CROWD_FUZZ_CHECK(view->universe().cardinality == users.size(), "universe %llu, users %zu",
                   static_cast<unsigned long long>(view->universe().cardinality), users.size());
  for (const TaobaoRow& r : rows) {
    const auto has = [&](const std::optional<TagId>& id) {
      const auto ordinal = view->parts().users->find(r.user);
      return id && ordinal && roaring_bitmap_contains(view->tag(*id).bits.get(), *ordinal);
    };
    const std::string tag = taobao_tag(r.category, r.behavior);
    CROWD_FUZZ_CHECK(has(view->find_tag(tag)), "user %llu lacks %s", static_cast<unsigned long long>(r.user), tag.c_str());
    if (r.day) CROWD_FUZZ_CHECK(has(view->system().day(tag, *r.day)), "day tag missing");
  }
  return 0;
}
