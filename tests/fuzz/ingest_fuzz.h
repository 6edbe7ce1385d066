// Shared by fuzz_ndjson.cc and fuzz_csv.cc: one ingest body through both
// sinks the parsers feed, checked against each other.
//
//  - BatchSink -> WriteBatch -> Index::apply (POST /v1/ingest), and
//  - BulkSink -> BulkLoader::finish + its values batch (--load FILE),
// must accept and refuse the same bodies with the same error, and when they
// accept, build the same index: every tag (system tags of values and days
// included) and the universe hold the same external IDs. The batch must
// re-encode to identical bytes after a decode (it is the log record), and the
// counts must match what the batch holds.
#pragma once

#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "index/bulk_loader.h"
#include "index/index.h"
#include "index/write_batch.h"
#include "server/ingest_parser.h"
#include "tests/fuzz/fuzz_check.h"

namespace crowd::fuzz {

// name -> external IDs, ascending; empty tags left out. "" is the universe
// (no tag is named "": ingest refuses empty names).
inline std::map<std::string, std::vector<UserId>> contents(const IndexView& view) {
  std::map<std::string, std::vector<UserId>> out;
  auto ids = [&](const Bitmap& b) {
    std::vector<UserId> v;
    roaring_uint32_iterator_t* it = roaring_create_iterator(b.get());
    for (; it->has_value; roaring_advance_uint32_iterator(it)) v.push_back(view.external(it->current_value));
    roaring_free_uint32_iterator(it);
    std::sort(v.begin(), v.end());
    return v;
  };
  for (TagId id = 0; id < view.tag_count(); ++id) {
    if (!view.tag(id).bits.empty()) out[view.dictionary().name(id)] = ids(view.tag(id).bits);
  }
  out[""] = ids(view.universe().bits);
  return out;
}

inline int check_ingest(const uint8_t* data, std::size_t size, bool csv) {
  // Exactly the body and simdjson's padding, in a block of its own, so ASan
  // catches a read past the padding (api_write.cc pads with ensure_padding).
  const std::size_t padded = size + simdjson::SIMDJSON_PADDING;
  std::unique_ptr<char[]> body(new char[padded]);
  if (size > 0) std::memcpy(body.get(), data, size);
  std::memset(body.get() + size, 0, simdjson::SIMDJSON_PADDING);
  const std::string_view text(body.get(), size);
  auto parse = [&](server::TagSink& sink, server::IngestCounts& counts) {
    return csv ? server::parse_csv(text, sink, counts) : server::parse_ndjson(text, sink, counts, server::EventDayLimit::none());
  };

  WriteBatch batch;
  server::BatchSink batch_sink(batch);
  server::IngestCounts batch_counts;
  const auto batch_error = parse(batch_sink, batch_counts);

  Index bulk_index;
  BulkLoader loader(bulk_index);
  server::BulkSink bulk_sink(loader);
  server::IngestCounts bulk_counts;
  const auto bulk_error = parse(bulk_sink, bulk_counts);

  CROWD_FUZZ_CHECK(batch_error.has_value() == bulk_error.has_value(), "the two sinks disagree on acceptance");
  if (batch_error) {
    CROWD_FUZZ_CHECK(batch_error->message == bulk_error->message && batch_error->line == bulk_error->line,
                     "different errors: [%s] vs [%s]", batch_error->message.c_str(), bulk_error->message.c_str());
    CROWD_FUZZ_CHECK(batch_error->code == "bad_line" && batch_error->line.has_value() && *batch_error->line >= 1,
                     "an ingest error without its line: %s", batch_error->message.c_str());
    const std::size_t lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    CROWD_FUZZ_CHECK(*batch_error->line <= lines, "error on line %llu of %zu",
                     static_cast<unsigned long long>(*batch_error->line), lines);
    return 0;
  }
  CROWD_FUZZ_CHECK(batch_counts.records == bulk_counts.records && batch_counts.pairs == bulk_counts.pairs &&
                       batch_counts.values == bulk_counts.values,
                   "counts differ between sinks");
  CROWD_FUZZ_CHECK(batch.pair_count() == batch_counts.pairs + batch_counts.values,
                   "batch holds %zu references, counts say %llu pairs + %llu values", batch.pair_count(),
                   static_cast<unsigned long long>(batch_counts.pairs),
                   static_cast<unsigned long long>(batch_counts.values));
  if (csv) CROWD_FUZZ_CHECK(batch_counts.pairs == batch_counts.records && batch_counts.values == 0, "csv counts");
  for (const std::string& name : batch.names()) {
    CROWD_FUZZ_CHECK(!name.empty(), "an empty name was accepted");
  }

  // The log record: decode(encode(b)) encodes to the same bytes.
  std::string encoded;
  batch.encode(encoded);
  WriteBatch decoded;
  CROWD_FUZZ_CHECK(decoded.decode(encoded), "an accepted batch does not decode");
  std::string again;
  decoded.encode(again);
  CROWD_FUZZ_CHECK(again == encoded, "re-encoding changes the batch");

  Index batch_index;
  WriteResult result;
  CROWD_FUZZ_CHECK(batch_index.apply(batch, result), "apply");
  loader.finish();
  if (!bulk_sink.values_batch().empty()) CROWD_FUZZ_CHECK(bulk_index.apply(bulk_sink.values_batch(), result), "apply");
  CROWD_FUZZ_CHECK(contents(*batch_index.view()) == contents(*bulk_index.view()),
                   "ingest and --load of the same body build different indexes");
  return 0;
}

}  // namespace crowd::fuzz
