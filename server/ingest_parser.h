// Parsers for ingest bodies and --load files: NDJSON (simdjson, a line at a
// time) and CSV (`id,tag` lines). They feed a TagSink, so the same parser
// fills a WriteBatch (HTTP ingest: atomic, nothing applied until the whole
// body parsed) or a BulkLoader (files loaded at start).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "index/bulk_loader.h"
#include "identity/person_writer.h"
#include "index/write_batch.h"
#include "server/api_error.h"
#include "server/event_days.h"

namespace crowd::server {

class TagSink {
 public:
  virtual ~TagSink() = default;
  virtual uint32_t tag(std::string_view name) = 0;
  // The number of `tag`'s day tag for `day` (days since 1970-01-01).
  virtual uint32_t day(std::string_view tag, int64_t day) = 0;
  // Returns false when the user cannot be added (no ordinal left).
  virtual bool add(UserId user, std::span<const uint32_t> tags) = 0;
  // Numeric values: `attribute` is a name's number from tag().
  virtual void value(UserId user, uint32_t attribute, int64_t v) = 0;
  // A record that names IDs of other types (issue 15), on line `line`: its
  // uid if `uid`, its IDs, `hash`, and its tags and values (numbers from
  // tag()). Returns the problem with one of its IDs (ids.<type>: why).
  virtual std::optional<std::string> person(uint64_t line, std::optional<UserId> uid,
                                            std::span<const identity::NamedId> ids, bool hash,
                                            std::span<const uint32_t> tags,
                                            std::span<const std::pair<uint32_t, int64_t>> values) = 0;
};

// Persons into a WriteBatch, with the line each came from.
class PersonSink {
 public:
  // `types` may be null: then no ID type is known, and a record naming IDs
  // is refused with `no_types` (why this input takes none).
  PersonSink(WriteBatch& batch, const identity::IdTypes* types,
             std::string_view no_types = "this input takes no IDs of other types")
      : batch_(batch), types_(types), no_types_(no_types) {}
  [[nodiscard]] std::optional<std::string> add(uint64_t line, std::optional<UserId> uid,
                                               std::span<const identity::NamedId> ids, bool hash,
                                               std::span<const uint32_t> tags,
                                               std::span<const std::pair<uint32_t, int64_t>> values);
  // The line of the batch's person `p` (0 if unknown).
  [[nodiscard]] uint64_t line_of(uint32_t p) const { return p < lines_.size() ? lines_[p] : 0; }

 private:
  WriteBatch& batch_;
  const identity::IdTypes* types_;
  std::string_view no_types_;
  std::optional<identity::PersonWriter> writer_;
  std::vector<uint64_t> lines_;
};

class BatchSink final : public TagSink {
 public:
  // `types`: the ID types records may name (null: none).
  explicit BatchSink(WriteBatch& batch, const identity::IdTypes* types = nullptr)
      : batch_(batch), persons_(batch, types) {}
  // No ID types, and records naming IDs refused with `no_types`.
  BatchSink(WriteBatch& batch, std::string_view no_types) : batch_(batch), persons_(batch, nullptr, no_types) {}
  uint32_t tag(std::string_view name) override { return batch_.intern(name); }
  uint32_t day(std::string_view tag, int64_t day) override { return batch_.intern_day(tag, day); }
  bool add(UserId user, std::span<const uint32_t> tags) override {
    batch_.add(user, tags);
    return true;
  }
  void value(UserId user, uint32_t attribute, int64_t v) override { batch_.set_value(user, attribute, v); }
  std::optional<std::string> person(uint64_t line, std::optional<UserId> uid, std::span<const identity::NamedId> ids,
                                    bool hash, std::span<const uint32_t> tags,
                                    std::span<const std::pair<uint32_t, int64_t>> values) override {
    return persons_.add(line, uid, ids, hash, tags, values);
  }
  [[nodiscard]] const PersonSink& persons() const { return persons_; }

 private:
  WriteBatch& batch_;
  PersonSink persons_;
};

// Tags go to the bulk loader; values and records naming IDs (rare in files)
// are kept in a batch that the caller applies after the loader has finished
// (values_batch()).
class BulkSink final : public TagSink {
 public:
  explicit BulkSink(BulkLoader& loader, const identity::IdTypes* types = nullptr)
      : loader_(loader), persons_(values_, types) {}
  uint32_t tag(std::string_view name) override { return loader_.tag(name); }
  uint32_t day(std::string_view tag, int64_t day) override { return loader_.day(tag, day); }
  bool add(UserId user, std::span<const uint32_t> tags) override { return loader_.add(user, tags); }
  void value(UserId user, uint32_t attribute, int64_t v) override {
    if (attributes_.size() <= attribute) attributes_.resize(attribute + 1, UINT32_MAX);
    if (attributes_[attribute] == UINT32_MAX) attributes_[attribute] = values_.intern(loader_.name(attribute));
    values_.set_value(user, attributes_[attribute], v);
  }
  std::optional<std::string> person(uint64_t line, std::optional<UserId> uid, std::span<const identity::NamedId> ids,
                                    bool hash, std::span<const uint32_t> tags,
                                    std::span<const std::pair<uint32_t, int64_t>> values) override;
  [[nodiscard]] const WriteBatch& values_batch() const { return values_; }

 private:
  BulkLoader& loader_;
  WriteBatch values_;
  PersonSink persons_;
  std::vector<uint32_t> attributes_;  // loader number -> values_ number
};

struct IngestCounts {
  uint64_t records = 0;  // non-blank lines
  uint64_t pairs = 0;    // (user, tag) pairs named (an event names two: its tag and its day)
  uint64_t values = 0;   // numeric values named
};

// NDJSON: one object a line, {"id": 7, "tags": ["a", "b"], "values"?: {...},
// "events"?: [...]} (user_tags_json.h); blank lines are skipped. `body` must stay readable for SIMDJSON_PADDING bytes past each
// line: pass a string whose capacity has that much room (ensure_padding()).
// On the first bad line returns bad_line with its 1-based number; the sink
// may then hold part of the input (callers discard it). An event dated after
// `latest` is a bad line (event_days.h).
[[nodiscard]] std::optional<ApiError> parse_ndjson(std::string_view body, TagSink& sink, IngestCounts& counts,
                                                   const EventDayLimit& latest);

// CSV: lines `id,tag`, no header; the tag is everything after the first
// comma; a trailing \r is dropped; blank lines are skipped.
[[nodiscard]] std::optional<ApiError> parse_csv(std::string_view body, TagSink& sink, IngestCounts& counts);

// Makes sure `s` has SIMDJSON_PADDING spare bytes of capacity.
void ensure_padding(std::string& s);

}  // namespace crowd::server
