// POST /v1/lookalike: lookalike expansion (人群放大), the `size` users outside
// a seed crowd that look most like it (query/lookalike.h has the method).
//
//   {"seed": Q, "size": N, "candidates"?: Q, "fields"?: [field, ...],
//    "save_as"?: name, "lenient"?: bool}
//   → {"count", "threshold", "features": [{"tag", "weight", "lift",
//      "seed_share", "candidate_share"}], "seed_size", "candidates",
//      "saved", "took_us"}
//
// One view for the whole request: the seed, the candidates and the
// expansion all see the same version of the index.
#include <simdjson.h>

#include <string>
#include <variant>
#include <vector>

#include "query/lookalike.h"
#include "server/access.h"
#include "catalog/catalog.h"
#include "server/api.h"
#include "server/json_fields.h"
#include "server/json_writer.h"
#include "server/query_support.h"
#include "server/saved_crowds.h"

namespace crowd::server {
namespace {

// The largest expansion asked for. The result is at most the candidates
// anyway; the cap only turns absurd numbers into a clear error.
constexpr uint64_t kMaxSize = 100'000'000;
// Field names in "fields", at most; the dictionary has far fewer fields.
constexpr std::size_t kMaxFields = 1000;
// Features written in the response: the most informative ones, enough to
// say why; the model may use up to LookalikeTuning::max_features.
constexpr std::size_t kFeaturesShown = 20;

struct LookalikeRequest {
  std::string seed;
  std::string candidates;  // empty: everyone outside the seed
  bool has_candidates = false;
  uint64_t size = 0;
  std::vector<std::string> fields;
  std::string save_as;
  bool has_save_as = false;
  bool lenient = false;
  std::optional<int64_t> as_of;  // relative windows' day (nullopt: today)
};

std::variant<LookalikeRequest, ApiError> read_request(std::string_view body) {
  LookalikeRequest out;
  // A string that is also there when given (candidates, save_as).
  const auto present = [](std::string& text, bool& given, std::string_view what) -> FieldReader {
    return [&text, &given, what](std::string_view name, simdjson::dom::element v) -> std::optional<ApiError> {
      if (name == "save_as" && v.is_null()) return std::nullopt;
      std::string_view s;
      if (v.get(s)) {
        std::string message("\"");  // appended: GCC 12 warns falsely (-Wrestrict) on "lit" + string
        message.append(name).append("\" must be ").append(what);
        return bad_request(std::move(message));
      }
      text = s;
      given = true;
      return std::nullopt;
    };
  };
  bool seed_given = false;
  const JsonField fields[] = {
      {"seed", kRequired, present(out.seed, seed_given, "a string (a query)")},
      {"size", kRequired, uint_into(out.size, 1, kMaxSize)},
      {"candidates", kOptional, present(out.candidates, out.has_candidates, "a string (a query)")},
      {"fields", kOptional, strings_into(out.fields, kMaxFields)},
      {"save_as", kOptional, present(out.save_as, out.has_save_as, "a string or null")},
      {"lenient", kOptional, bool_into(out.lenient)},
      {"as_of", kOptional, day_into(out.as_of)},
  };
  if (auto e = read_body_fields(body, fields)) return *e;
  return out;
}

}  // namespace

Reply Api::lookalike(const Request& req, Call& call, Clock::time_point start) {
  const auto parsed = read_request(req.body());
  if (const auto* e = std::get_if<ApiError>(&parsed)) return error_reply(*e);
  const auto& r = std::get<LookalikeRequest>(parsed);
  if (r.has_save_as) {
    // Saving is a write: audited, and it needs the write scope.
    call.audit = true;
    call.query = "@" + r.save_as + " = lookalike(" + r.seed + ", " + std::to_string(r.size) + ")";
    if (auto problem = crowd_name_problem(r.save_as)) return error_reply(bad_request("save_as: " + *problem));
    if (call.principal != nullptr && !call.principal->may(kScopeWrite)) {
      return error_reply(forbidden("the token \"" + call.principal->name + "\" lacks the write scope (save_as)"));
    }
  }

  const auto view = store_.view();
  if (const auto unknown = query::unknown_lookalike_field(*view, r.fields)) {
    return error_reply(bad_request("no tag has the field \"" + *unknown + "\" (in \"fields\")"));
  }
  auto seed_plan = compile_query(r.seed, *view, query_options(r.lenient, r.as_of));
  if (const auto* e = std::get_if<ApiError>(&seed_plan)) return error_reply(*e);
  std::variant<query::Plan, ApiError> candidates_plan = ApiError{};
  if (r.has_candidates) {
    candidates_plan = compile_query(r.candidates, *view, query_options(r.lenient, r.as_of));
    if (const auto* e = std::get_if<ApiError>(&candidates_plan)) return error_reply(*e);
  }

  query::Evaluator& evaluator = thread_evaluator();
  const Bitmap seed = evaluator.materialize(std::get<query::Plan>(seed_plan), *view);
  if (seed.empty()) return error_reply(bad_request("the seed matches no user"));
  if (auto e = seed_guard(seed.cardinality(), options_.min_seed_size)) return error_reply(*e);
  Bitmap candidates(nullptr);
  if (r.has_candidates) candidates = evaluator.materialize(std::get<query::Plan>(candidates_plan), *view);

  query::LookalikeOptions options;
  options.size = r.size;
  options.candidates = r.has_candidates ? candidates.get() : nullptr;
  options.fields = r.fields;
  query::LookalikeResult result = query::lookalike(*view, seed.get(), options);
  const uint64_t count = result.users.cardinality();
  if (r.has_save_as) {
    // Saved with its definition, so a refresh expands the seed again.
    CrowdDefinition d;
    d.kind = CrowdDefinition::Kind::kLookalike;
    d.q = r.seed;
    d.lenient = r.lenient;
    d.size = r.size;
    if (r.has_candidates) d.candidates = r.candidates;
    d.fields = r.fields;
    d.refreshed = utc_now();
    const auto existing = find_crowd(*view, r.save_as);
    d.created = existing ? existing->definition.created : d.refreshed;
    if (auto e = save_crowd(*activation_, r.save_as, d, std::move(result.users), "put", {})) return error_reply(*e);
  }

  std::string body;
  body.reserve(256 + 160 * std::min(result.features.size(), kFeaturesShown));
  JsonWriter w(body);
  w.raw("{").key("count").number(count).raw(",").key("threshold");
  if (count > 0) {
    w.real(result.threshold);
  } else {
    w.null();
  }
  w.raw(",").key("features").raw("[");
  // Only features that move a candidate's score: not the seed's own defining
  // tags, which no candidate holds (every candidate scores the same on them),
  // nor weights that quantise to no points.
  // With the tag library's label, where the tag has one.
  const catalog::Catalog library(*view);
  std::size_t shown = 0;
  for (const auto& f : result.features) {
    if (shown == kFeaturesShown) break;
    if (f.candidate_share == 0 || f.points == 0) continue;
    if (shown++ > 0) w.raw(",");
    const std::string& tag = view->dictionary().name(f.tag);
    w.raw("{").key("tag").string(tag);
    if (const auto label = library.label_of(tag); !label.empty()) w.raw(",").key("label").string(label);
    w.raw(",").key("weight").real(f.weight).raw(",").key("lift").real(f.lift);
    w.raw(",").key("seed_share").real(f.seed_share).raw(",").key("candidate_share").real(f.candidate_share);
    w.raw("}");
  }
  w.raw("],").key("seed_size").number(result.seed_size);
  w.raw(",").key("candidates").number(result.candidate_count);
  w.raw(",").key("saved");
  if (r.has_save_as) {
    w.string(r.save_as);
  } else {
    w.null();
  }
  w.raw(",").key("took_us").number(micros_since(start)).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
