// POST /v1/match?id_type=T[&hash=true][&save_as=NAME] (issue 15): how much
// of an uploaded ID list -- a brand's CRM members as hashed phones, say --
// is in the index, and optionally those users saved as a crowd (the
// custom-audience workflow).
//
// The body is one ID a line (text/plain or text/csv; blank lines skipped) or
// a JSON array of strings (application/json), read once in order without a
// tree (simdjson On-Demand for JSON), each ID handed to a ListMatcher
// (identity/list_match.h), which deduplicates and looks IDs up a batch at a
// time. Memory: the body, and ~50 bytes a distinct SHA-256 ID.
//
// Privacy: a list is the caller's own, but what matched says who is a user.
// Under --min-export-size K, fewer than K matched users are answered "<K"
// (as analytics cells are), and such a list cannot be saved.
#include <simdjson.h>

#include <string>

#include "identity/id_types.h"
#include "identity/list_match.h"
#include "server/analytics_request.h"
#include "server/api.h"
#include "server/json_writer.h"
#include "server/query_params.h"
#include "server/request_json.h"
#include "server/saved_crowds.h"

namespace crowd::server {
namespace {

// Each non-blank line, without a trailing \r.
void match_lines(std::string_view body, identity::ListMatcher& matcher) {
  uint64_t line = 0;
  std::size_t at = 0;
  while (at < body.size()) {
    ++line;
    std::size_t end = body.find('\n', at);
    if (end == std::string_view::npos) end = body.size();
    std::string_view text = body.substr(at, end - at);
    at = end + 1;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.empty()) continue;
    matcher.add(line, text);
  }
}

// The array's elements, numbered from 1. A non-string element or broken
// JSON ends the request (400): nothing was written yet.
std::optional<ApiError> match_json(std::string& body, identity::ListMatcher& matcher) {
  if (body.capacity() - body.size() < simdjson::SIMDJSON_PADDING) body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (parser.iterate(body.data(), body.size(), body.capacity()).get(doc)) {
    return bad_request("the body is not JSON (send an array of strings, or text/plain with one ID a line)");
  }
  simdjson::ondemand::array list;
  if (doc.get_array().get(list)) return bad_request("the body must be a JSON array of strings");
  uint64_t index = 0;
  for (auto element : list) {
    ++index;
    std::string_view text;
    if (element.get_string().get(text)) {
      return bad_request("element " + std::to_string(index) + " of the array is not a string");
    }
    matcher.add(index, text);
  }
  // In bounds after the array's end: something follows it.
  const char* after = nullptr;
  if (!doc.current_location().get(after)) return bad_request("text after the JSON array");
  return std::nullopt;
}

}  // namespace

Reply Api::match(Request& req, const boost::urls::url_view& url, Call& call, Clock::time_point start) {
  const auto type_name = url_param(url, "id_type");
  if (!type_name) return error_reply(bad_request("missing query parameter id_type"));
  const auto hash = url_bool(url, "hash", false);
  if (const auto* e = std::get_if<ApiError>(&hash)) return error_reply(*e);
  const auto save_as = url_param(url, "save_as");
  call.query = "match " + *type_name;
  if (save_as) {
    call.query += " save_as @" + *save_as;
    if (auto problem = crowd_name_problem(*save_as)) return error_reply(bad_request("save_as: " + *problem));
    if (call.principal != nullptr && !call.principal->may(kScopeWrite)) {
      return error_reply(forbidden("the token \"" + call.principal->name + "\" lacks the write scope (save_as)"));
    }
  }
  const auto view = store_.view();
  const identity::IdTypes types(*view);
  const auto* type = types.find(*type_name);
  if (type == nullptr) {
    return error_reply(bad_request(*type_name == identity::kBuiltInUid
                                       ? std::string("match takes lists of the defined ID types, not uids (count uids "
                                                     "with /v1/count, or assign them a tag)")
                                       : "unknown id_type '" + *type_name + "' (GET /v1/id-types lists them)"));
  }
  const bool plain = std::get<bool>(hash);
  if (plain && !identity::is_hashed(type->type.kind)) {
    return error_reply(bad_request("hash=true applies to md5 and sha256 types; " + *type_name + " is not one"));
  }
  identity::ListMatcher matcher(type->type, type->space, view->ordinal_count(), &view->universe().bits, plain);
  const auto media = media_type(req[http::field::content_type]);
  if (media == "application/json") {
    if (auto e = match_json(req.body(), matcher)) return error_reply(*e);
  } else if (media.empty() || media == "text/plain" || media == "text/csv") {
    match_lines(req.body(), matcher);
  } else {
    return error_reply({http::status::unsupported_media_type, "unsupported_media_type",
                        "match takes text/plain (one ID a line) or application/json (an array), not " + media,
                        {},
                        {},
                        {}});
  }
  identity::ListMatchResult r = matcher.finish();
  const uint64_t users = r.users.cardinality();
  const uint64_t k = options_.min_export_size;
  if (save_as) {
    if (hidden(users, k)) {
      return error_reply(crowd_too_small("fewer than " + std::to_string(k) +
                                         " users matched; a crowd of them cannot be saved (--min-export-size)"));
    }
    CrowdDefinition d;
    d.kind = CrowdDefinition::Kind::kUpload;
    d.q = *type_name;
    d.size = r.submitted;
    d.refreshed = utc_now();
    const auto existing = find_crowd(*view, *save_as);
    d.created = existing ? existing->definition.created : d.refreshed;
    if (auto e = save_crowd(*activation_, *save_as, d, r.users.clone(), "upload", {})) return error_reply(*e);
  }
  call.users = users;

  std::string body;
  JsonWriter w(body);
  w.raw("{").key("id_type").string(*type_name).raw(",").key("submitted").number(r.submitted);
  w.raw(",").key("valid").number(r.valid).raw(",").key("invalid").number(r.invalid);
  w.raw(",").key("invalid_lines").raw("[");
  for (std::size_t i = 0; i < r.first_invalid.size(); ++i) {
    w.raw(i == 0 ? "{" : ",{").key("line").number(r.first_invalid[i].line);
    w.raw(",").key("reason").string(r.first_invalid[i].reason).raw("}");
  }
  w.raw("],").key("duplicates").number(r.duplicates).raw(",").key("distinct").number(r.distinct());
  // With fewer than K users matched, the key count says as much: hidden too.
  w.raw(",").key("matched");
  if (hidden(users, k)) {
    write_cell(w, users, k);
  } else {
    w.number(r.matched);
  }
  w.raw(",").key("users");
  write_cell(w, users, k);
  w.raw(",").key("match_rate");
  write_ratio(w, hidden(users, k) || r.distinct() == 0 ? std::nullopt : std::optional<double>(r.match_rate()));
  w.raw(",").key("saved");
  if (save_as) {
    w.string(*save_as);
  } else {
    w.null();
  }
  w.raw(",").key("took_us").number(micros_since(start)).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
