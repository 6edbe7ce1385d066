#include "server/saved_crowds.h"

#include <simdjson.h>

#include <ctime>
#include <memory>

#include "index/system_view.h"
#include "query/lookalike.h"
#include "server/json_writer.h"
#include "server/query_support.h"
#include "server/refusal_error.h"

namespace crowd::server {

void write_definition(JsonWriter& w, const CrowdDefinition& d) {
  if (d.kind == CrowdDefinition::Kind::kUpload) {
    w.key("kind").string("upload").raw(",").key("id_type").string(d.q).raw(",").key("submitted").number(d.size);
    return;
  }
  const bool query = d.kind == CrowdDefinition::Kind::kQuery;
  w.key("kind").string(query ? "query" : "lookalike");
  w.raw(",").key(query ? "q" : "seed").string(d.q).raw(",").key("lenient").boolean(d.lenient);
  if (!query) {
    w.raw(",").key("size").number(d.size).raw(",").key("candidates");
    if (d.candidates) {
      w.string(*d.candidates);
    } else {
      w.null();
    }
    w.raw(",").key("fields").raw("[");
    for (std::size_t i = 0; i < d.fields.size(); ++i) {
      if (i > 0) w.raw(",");
      w.string(d.fields[i]);
    }
    w.raw("]");
  }
}

std::string encode_definition(const CrowdDefinition& d) {
  std::string out;
  JsonWriter w(out);
  w.raw("{");
  write_definition(w, d);
  w.raw(",").key("created").string(d.created).raw(",").key("refreshed").string(d.refreshed).raw("}");
  return out;
}

std::optional<CrowdDefinition> decode_definition(std::string_view text) {
  // Not on a hot path (crowd management): a private parser, not the
  // request thread's.
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(text.data(), text.size()).get(obj)) return std::nullopt;
  CrowdDefinition d;
  std::string_view kind;
  std::string_view s;
  if (obj["kind"].get(kind)) return std::nullopt;
  if (obj["created"].get(s)) return std::nullopt;
  d.created = s;
  if (obj["refreshed"].get(s)) return std::nullopt;
  d.refreshed = s;
  if (kind == "upload") {
    d.kind = CrowdDefinition::Kind::kUpload;
    if (obj["id_type"].get(s) || obj["submitted"].get(d.size)) return std::nullopt;
    d.q = s;
    return d;
  }
  if (kind != "query" && kind != "lookalike") return std::nullopt;
  d.kind = kind == "query" ? CrowdDefinition::Kind::kQuery : CrowdDefinition::Kind::kLookalike;
  if (obj[d.kind == CrowdDefinition::Kind::kQuery ? "q" : "seed"].get(s)) return std::nullopt;
  d.q = s;
  if (obj["lenient"].get(d.lenient)) return std::nullopt;
  if (d.kind == CrowdDefinition::Kind::kLookalike) {
    if (obj["size"].get(d.size)) return std::nullopt;
    const auto candidates = obj["candidates"];
    if (!candidates.is_null()) {
      if (candidates.get(s)) return std::nullopt;
      d.candidates = std::string(s);
    }
    simdjson::dom::array fields;
    if (obj["fields"].get(fields)) return std::nullopt;
    for (const auto f : fields) {
      if (f.get(s)) return std::nullopt;
      d.fields.emplace_back(s);
    }
  }
  return d;
}

std::optional<std::string> crowd_name_problem(std::string_view name) {
  if (name.empty()) return "empty crowd name";
  if (name.size() > 128) return "crowd name longer than 128 bytes";
  if (!simdjson::validate_utf8(name.data(), name.size())) return "crowd name is not valid UTF-8";
  for (const char c : name) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b == 0x7f || std::string_view("()\"&|!*,@<>=").find(c) != std::string_view::npos) {
      return "crowd name may not hold spaces, control bytes or any of ( ) \" & | ! * , @ < > =";
    }
  }
  return std::nullopt;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm t{};
  gmtime_r(&now, &t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &t);
  return buf;
}

std::variant<Bitmap, ApiError> draw_crowd(const CrowdDefinition& d, const IndexView& view, query::Options options) {
  if (d.kind == CrowdDefinition::Kind::kUpload) {
    return bad_request("an uploaded list's crowd is not drawn again: upload the list again (POST /v1/match with "
                       "save_as)");
  }
  options.lenient = d.lenient;
  auto seed = compile_query(d.q, view, options);
  if (auto* e = std::get_if<ApiError>(&seed)) return *e;
  Bitmap members = thread_evaluator().materialize(std::get<query::Plan>(seed), view);
  if (d.kind == CrowdDefinition::Kind::kQuery) return members;
  if (auto e = seed_guard(members.cardinality(), options.min_seed)) return *e;

  query::LookalikeOptions expansion;
  expansion.size = d.size;
  expansion.fields = d.fields;
  Bitmap candidates;
  if (d.candidates) {
    auto plan = compile_query(*d.candidates, view, options);
    if (auto* e = std::get_if<ApiError>(&plan)) return *e;
    candidates = thread_evaluator().materialize(std::get<query::Plan>(plan), view);
    expansion.candidates = candidates.get();
  }
  if (const auto unknown = query::unknown_lookalike_field(view, expansion.fields)) {
    return bad_request("fields: no tag has the field \"" + *unknown + "\"");
  }
  return std::move(query::lookalike(view, members.get(), expansion).users);
}

std::optional<ApiError> save_crowd(activation::Activation& activation, std::string_view name,
                                   const CrowdDefinition& d, Bitmap members, std::string_view trigger,
                                   const activation::CrowdSettings& settings) {
  auto saved = activation.save_crowd(name, encode_definition(d), std::move(members), trigger, settings);
  if (const auto* r = std::get_if<activation::Refusal>(&saved)) return refusal_error(*r);
  return std::nullopt;
}

std::optional<SavedCrowd> find_crowd(const IndexView& view, std::string_view name) {
  const auto stored = view.system().saved_crowd(name);
  if (!stored) return std::nullopt;
  auto definition = decode_definition(stored->definition);
  if (!definition) return std::nullopt;
  return SavedCrowd{std::move(*definition), view.tag(stored->id).cardinality};
}

std::vector<std::string> crowd_names(const IndexView& view) { return view.system().saved_crowds(); }

}  // namespace crowd::server
