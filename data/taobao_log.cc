#include "data/taobao_log.h"


#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <algorithm>
#include <charconv>
#include <istream>
#include <limits>
#include <type_traits>
#include <vector>

namespace crowd {
namespace {

constexpr int64_t kSecondsPerDay = 86'400;
constexpr std::array<std::string_view, kTaobaoBehaviors> kBehaviorNames = {"pv", "buy", "cart", "fav"};
constexpr std::string_view kFieldNames[] = {"user_id", "item_id", "category_id", "behavior_type", "timestamp"};
constexpr std::size_t kFields = std::size(kFieldNames);

// Plain decimal digits only: from_chars alone would also take a '+'-less
// sign for signed types and stop silently at trailing junk.
template <typename T>
bool parse_integer(std::string_view text, T& value) {
  if (text.empty()) return false;
  const std::size_t digits_from = (std::is_signed_v<T> && text.front() == '-') ? 1 : 0;
  if (digits_from == text.size()) return false;
  for (std::size_t i = digits_from; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

// A field as quoted in a message: long junk is cut, so one bad line cannot
// make a megabyte error message.
std::string quoted(std::string_view field) {
  constexpr std::size_t kMaxQuoted = 40;
  std::string out = "'";
  out.append(field.substr(0, kMaxQuoted));
  out += '\'';
  if (field.size() > kMaxQuoted) {
    out.insert(out.size() - 1, "...");
    out += " (" + std::to_string(field.size()) + " bytes)";
  }
  return out;
}

template <typename T>
bool number_field(std::string_view text, std::size_t field, T& value, std::string& error) {
  if (parse_integer(text, value)) return true;
  error = std::string(kFieldNames[field]) + " " + quoted(text) + " is not a whole number in " +
          std::to_string(std::numeric_limits<T>::min()) + ".." + std::to_string(std::numeric_limits<T>::max());
  return false;
}

}  // namespace

std::string_view taobao_behavior_name(TaobaoBehavior b) { return kBehaviorNames[static_cast<std::size_t>(b)]; }

std::optional<int32_t> taobao_day(int64_t timestamp) {
  if (timestamp < kTaobaoWindowFirst || timestamp > kTaobaoWindowLast) return std::nullopt;
  return static_cast<int32_t>((timestamp + kTaobaoUtcOffsetSeconds) / kSecondsPerDay);  // positive: plain division
}

bool parse_taobao_row(std::string_view line, TaobaoRow& row, std::string& error) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) {
    error = "empty line";
    return false;
  }
  std::array<std::string_view, kFields> fields;
  std::size_t count = 0;
  for (std::size_t start = 0;;) {
    const std::size_t comma = line.find(',', start);
    const std::string_view field = line.substr(start, comma == std::string_view::npos ? line.npos : comma - start);
    if (count < kFields) fields[count] = field;
    ++count;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (count != kFields) {
    error = "expected 5 comma-separated fields (user_id,item_id,category_id,behavior_type,timestamp), found " +
            std::to_string(count);
    return false;
  }
  if (!number_field(fields[0], 0, row.user, error) || !number_field(fields[1], 1, row.item, error) ||
      !number_field(fields[2], 2, row.category, error) || !number_field(fields[4], 4, row.timestamp, error)) {
    return false;
  }
  const auto known = std::find(kBehaviorNames.begin(), kBehaviorNames.end(), fields[3]);
  if (known == kBehaviorNames.end()) {
    error = "behavior_type " + quoted(fields[3]) + " is not one of pv, buy, cart, fav";
    return false;
  }
  row.behavior = static_cast<TaobaoBehavior>(known - kBehaviorNames.begin());
  row.day = taobao_day(row.timestamp);
  return true;
}

std::string taobao_tag(uint64_t category, TaobaoBehavior behavior) {
  return "cat:" + std::to_string(category) + ":" + std::string(taobao_behavior_name(behavior));
}

bool load_taobao(std::istream& in, BulkLoader& loader, TaobaoStats& stats, std::string& error) {
  // Loader tags by category and behaviour, so a row costs no string building
  // once its tag has been seen (the full log has 9,439 categories).
  boost::unordered_flat_map<uint64_t, std::array<uint32_t, kTaobaoBehaviors>> tags;
  boost::unordered_flat_set<UserId> users;

  // One user's tags, handed over when the user changes: the log is grouped by
  // user, so repeats (most rows are a pv of a category already seen) are
  // dropped here instead of flooding the loader's buffers.
  // Day tags (BulkLoader::day) by (category, behaviour and day in the window).
  boost::unordered_flat_map<std::pair<uint64_t, uint32_t>, uint32_t> day_tags;
  std::vector<uint32_t> run;
  std::vector<uint32_t> day_run;
  UserId run_user = 0;
  const auto flush_run = [&]() -> bool {
    if (run.empty()) return true;
    std::sort(run.begin(), run.end());
    run.erase(std::unique(run.begin(), run.end()), run.end());
    stats.assignments += run.size();
    std::sort(day_run.begin(), day_run.end());
    day_run.erase(std::unique(day_run.begin(), day_run.end()), day_run.end());
    stats.dated_assignments += day_run.size();
    run.insert(run.end(), day_run.begin(), day_run.end());
    if (!loader.add(run_user, run)) return false;
    run.clear();
    day_run.clear();
    return true;
  };

  std::string line;
  TaobaoRow row;
  std::string what;
  for (uint64_t number = 1; std::getline(in, line); ++number) {
    if (!parse_taobao_row(line, row, what)) {
      error = "line " + std::to_string(number) + ": " + what;
      return false;
    }
    if (row.user != run_user || run.empty()) {
      if (!flush_run()) {
        error = "line " + std::to_string(number) + ": the user table is full";
        return false;
      }
      run_user = row.user;
      users.insert(row.user);
    }
    auto [it, fresh] = tags.try_emplace(row.category);
    if (fresh) it->second.fill(kNoTag);
    uint32_t& tag = it->second[static_cast<std::size_t>(row.behavior)];
    if (tag == kNoTag) tag = loader.tag(taobao_tag(row.category, row.behavior));
    run.push_back(tag);
    if (row.day) {
      // Days in the window are positive and below 2^24.
      const auto key =
          std::make_pair(row.category, static_cast<uint32_t>(row.behavior) << 24 | static_cast<uint32_t>(*row.day));
      auto [day_it, new_day] = day_tags.try_emplace(key, 0);
      if (new_day) day_it->second = loader.day(taobao_tag(row.category, row.behavior), *row.day);
      day_run.push_back(day_it->second);
    }

    ++stats.rows;
    ++stats.behaviors[static_cast<std::size_t>(row.behavior)];
    if (!row.day) ++stats.out_of_window;
  }
  if (in.bad()) {
    error = "read error after " + std::to_string(stats.rows) + " rows";
    return false;
  }
  if (!flush_run()) {
    error = "end of input: the user table is full";
    return false;
  }
  stats.users += users.size();
  return true;
}

}  // namespace crowd
