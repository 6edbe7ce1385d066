#include "server/ingest_parser.h"

#include <simdjson.h>

#include "server/request_json.h"
#include "server/user_tags_json.h"

namespace crowd::server {
namespace {

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// Calls fn(line, number) for each line; stops at the first error fn returns.
template <class Fn>
std::optional<ApiError> for_each_line(std::string_view body, Fn&& fn) {
  uint64_t number = 0;
  std::size_t start = 0;
  while (start < body.size()) {
    ++number;
    std::size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(start, end - start);
    start = end + 1;
    if (blank(line)) continue;
    if (auto err = fn(line, number)) return err;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> PersonSink::add(uint64_t line, std::optional<UserId> uid,
                                          std::span<const identity::NamedId> ids, bool hash,
                                          std::span<const uint32_t> tags,
                                          std::span<const std::pair<uint32_t, int64_t>> values) {
  if (types_ == nullptr) return std::string("ids: ").append(no_types_);
  if (!writer_) writer_.emplace(*types_, batch_);
  WriteBatch::PersonRef p{};
  if (auto problem = writer_->add(uid, ids, hash, p)) return problem;
  if (!tags.empty()) batch_.add(p, tags);
  for (const auto& [attribute, v] : values) batch_.set_value(p, attribute, v);
  if (lines_.size() <= p.index) lines_.resize(p.index + 1, 0);
  lines_[p.index] = line;
  return std::nullopt;
}

std::optional<std::string> BulkSink::person(uint64_t line, std::optional<UserId> uid,
                                            std::span<const identity::NamedId> ids, bool hash,
                                            std::span<const uint32_t> tags,
                                            std::span<const std::pair<uint32_t, int64_t>> values) {
  // The loader's numbers are not the side batch's: intern the names there.
  std::vector<uint32_t> local_tags;
  local_tags.reserve(tags.size());
  for (const uint32_t t : tags) local_tags.push_back(values_.intern(loader_.name(t)));
  std::vector<std::pair<uint32_t, int64_t>> local_values;
  for (const auto& [attribute, v] : values) local_values.emplace_back(values_.intern(loader_.name(attribute)), v);
  return persons_.add(line, uid, ids, hash, local_tags, local_values);
}

void ensure_padding(std::string& s) {
  if (s.capacity() - s.size() < simdjson::SIMDJSON_PADDING) s.reserve(s.size() + simdjson::SIMDJSON_PADDING);
}

std::optional<ApiError> parse_ndjson(std::string_view body, TagSink& sink, IngestCounts& counts,
                                     const EventDayLimit& latest) {
  auto& parser = thread_json_parser();
  UserRecord record;
  return for_each_line(body, [&](std::string_view line, uint64_t number) -> std::optional<ApiError> {
    simdjson::dom::element root;
    // No copy: the caller guarantees padding past every line (the rest of
    // the body, or spare capacity after the last one).
    if (const auto err = parser.parse(line.data(), line.size(), false).get(root)) {
      return bad_line(number, std::string("not valid JSON: ") + simdjson::error_message(err));
    }
    simdjson::dom::object obj;
    if (root.get(obj)) return bad_line(number, "expected a JSON object");
    if (auto problem =
            read_user_record(obj, RecordMode::kAdd, record, latest, [&](std::string_view name) { return sink.tag(name); },
                             [&](std::string_view tag, int64_t day) { return sink.day(tag, day); })) {
      return bad_line(number, std::move(*problem));
    }
    ++counts.records;
    counts.pairs += record.tags.size();
    counts.values += record.values.size();
    if (!record.ids.empty()) {
      const auto uid = record.has_id ? std::optional<UserId>(record.id) : std::nullopt;
      if (auto problem = sink.person(number, uid, record.ids, record.hash, record.tags, record.values)) {
        return bad_line(number, std::move(*problem));
      }
      return std::nullopt;
    }
    if (!record.tags.empty() && !sink.add(record.id, record.tags)) {
      return bad_line(number, "no user ordinal left (2^32-1 users)");
    }
    for (const auto& [attribute, v] : record.values) sink.value(record.id, attribute, v);
    return std::nullopt;
  });
}

std::optional<ApiError> parse_csv(std::string_view body, TagSink& sink, IngestCounts& counts) {
  if (!simdjson::validate_utf8(body.data(), body.size())) {
    // Find the line for the message: validate line by line (error path only).
    std::optional<ApiError> found;
    (void)for_each_line(body, [&](std::string_view line, uint64_t number) -> std::optional<ApiError> {
      if (!simdjson::validate_utf8(line.data(), line.size())) found = bad_line(number, "not valid UTF-8");
      return found;
    });
    if (found) return found;
  }
  return for_each_line(body, [&](std::string_view line, uint64_t number) -> std::optional<ApiError> {
    if (line.back() == '\r') line.remove_suffix(1);
    const auto comma = line.find(',');
    if (comma == std::string_view::npos) return bad_line(number, "expected id,tag");
    const auto id = parse_decimal_id(line.substr(0, comma));
    if (!id) return bad_line(number, "id must be an unsigned 64-bit decimal integer");
    const auto name = line.substr(comma + 1);
    if (auto problem = tag_problem(name)) return bad_line(number, *problem);
    const uint32_t t = sink.tag(name);
    ++counts.records;
    ++counts.pairs;
    if (!sink.add(*id, std::span<const uint32_t>(&t, 1))) return bad_line(number, "no user ordinal left (2^32-1 users)");
    return std::nullopt;
  });
}

}  // namespace crowd::server
