// Saved crowds (人群包): a named, materialised result of a query or of a
// lookalike expansion, kept in the index as a system tag (its members) and a
// metadata entry (its definition and times), both written in one WriteBatch
// so the log and snapshots keep them together (index/system_view.h).
//
// A saved crowd changes only when it is refreshed (drawn again from its
// definition) or when one of its users is deleted: pages and exports of
// `@name` stay stable while the tags it was drawn from change.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "index/bitmap.h"
#include "index/index_view.h"
#include "activation/activation.h"
#include "index/store.h"
#include "query/options.h"
#include "server/api_error.h"
#include "server/json_writer.h"


namespace crowd::server {

// How a crowd was drawn, so that a refresh draws it the same way.
struct CrowdDefinition {
  // kUpload: the users an uploaded ID list matched (POST /v1/match): a fixed
  // set, not drawn again.
  enum class Kind : uint8_t { kQuery, kLookalike, kUpload };
  Kind kind = Kind::kQuery;
  std::string q;  // kQuery: the query; kLookalike: the seed query; kUpload: the ID type
  bool lenient = false;
  // kLookalike: the size asked for; kUpload: the IDs submitted.
  uint64_t size = 0;
  // kLookalike only.
  std::optional<std::string> candidates;
  std::vector<std::string> fields;
  // ISO 8601 UTC, to the second: when first saved, when last drawn.
  std::string created;
  std::string refreshed;
};

// The definition's members without the times, as written in answers and in
// the stored entry: "kind", then "q" (or "seed" with "size", "candidates",
// "fields" for a lookalike), "lenient". The caller opens and closes the object.
void write_definition(JsonWriter& w, const CrowdDefinition& d);

// The definition as stored in the index entry (JSON text) and back; decode
// returns nullopt for text it did not write.
[[nodiscard]] std::string encode_definition(const CrowdDefinition& d);
[[nodiscard]] std::optional<CrowdDefinition> decode_definition(std::string_view text);

// Why `name` cannot name a saved crowd, or nothing: 1..128 bytes of valid
// UTF-8 that `@name` can spell in a query (no spaces, control bytes, or any
// of ( ) " & | ! * , @ < > =).
[[nodiscard]] std::optional<std::string> crowd_name_problem(std::string_view name);

// "2026-11-23T04:45:12Z".
[[nodiscard]] std::string utc_now();

// The crowd's members in `view`, drawn from its definition (compiled with
// `options`, its lenient flag the definition's); a query that no longer
// compiles (a tag gone from the index) or a lookalike seed below
// options.min_seed is its API error.
[[nodiscard]] std::variant<Bitmap, ApiError> draw_crowd(const CrowdDefinition& d, const IndexView& view,
                                                        query::Options options);

// Writes the crowd (members and definition) durably as its newest version
// (activation/activation.h: `trigger` says what drew it, `settings` its
// schedule, expiry, hold-out and destinations), replacing any crowd of that
// name. Members deleted from the index meanwhile are left out.
[[nodiscard]] std::optional<ApiError> save_crowd(activation::Activation& activation, std::string_view name,
                                                 const CrowdDefinition& d, Bitmap members, std::string_view trigger,
                                                 const activation::CrowdSettings& settings);

// The saved crowd `name` in `view`: its definition and size; nullopt when
// there is none.
struct SavedCrowd {
  CrowdDefinition definition;
  uint64_t count = 0;
};
[[nodiscard]] std::optional<SavedCrowd> find_crowd(const IndexView& view, std::string_view name);

// Every saved crowd's name, in byte order.
[[nodiscard]] std::vector<std::string> crowd_names(const IndexView& view);

}  // namespace crowd::server
