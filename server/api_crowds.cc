// Saved crowd routes (人群包):
//   GET    /v1/crowds                 every saved crowd, by name
//   PUT    /v1/crowds/{name}          {"q", "lenient"?, settings?}: draw and save (replaces)
//   GET    /v1/crowds/{name}          definition, size, created, refreshed, activation
//   POST   /v1/crowds/{name}/refresh  draw again from the definition
//   DELETE /v1/crowds/{name}
// Each draw is a new version (activation/activation.h); the settings
// (refresh, expires_at or ttl, holdout, push_to) are server/crowd_settings.h's.
// Names are percent-decoded path segments (UTF-8, see crowd_name_problem);
// the route table (routes.cc) sends each method and pattern here.
#include <simdjson.h>

#include <ctime>

#include "activation/activation.h"
#include "activation/schedule.h"
#include "server/api.h"
#include "server/authorize.h"
#include "server/crowd_settings.h"
#include "server/json_fields.h"
#include "server/json_writer.h"
#include "server/refusal_error.h"
#include "server/request_json.h"
#include "server/saved_crowds.h"

namespace crowd::server {
namespace {

void write_time(JsonWriter& w, std::string_view key, std::optional<int64_t> t) {
  w.raw(",").key(key);
  if (t) {
    w.string(activation::format_utc_time(*t));
  } else {
    w.null();
  }
}

// The crowd's version, schedule, expiry, hold-out and destinations' state.
void write_activation(JsonWriter& w, const std::optional<activation::CrowdActivation>& a) {
  const activation::CrowdRecord none;
  const auto& c = a ? a->record : none;
  w.raw(",").key("version").number(c.version);
  w.raw(",").key("refresh");
  if (c.refresh.empty()) {
    w.null();
  } else {
    w.string(c.refresh);
  }
  write_time(w, "next_refresh", a ? a->next_refresh : std::nullopt);
  write_time(w, "expires_at", c.expires_at);
  w.raw(",").key("expired").boolean(a && a->expired);
  w.raw(",").key("holdout").real(c.holdout_bp / 100.0);
  w.raw(",").key("push_to").raw("[");
  for (std::size_t i = 0; i < c.push_to.size(); ++i) w.raw(i > 0 ? "," : "").string(c.push_to[i]);
  w.raw("],").key("destinations").raw("{");
  bool first = true;
  for (const auto& [dest, s] : c.destinations) {
    w.raw(first ? "" : ",").key(dest).raw("{").key("acknowledged").number(s.acknowledged);
    w.raw(",").key("outstanding").number(s.outstanding).raw("}");
    first = false;
  }
  w.raw("},").key("last_error");
  if (c.last_error.empty()) {
    w.null();
  } else {
    w.string(c.last_error);
  }
}

// `sizes`: false for a caller without read scope (a write-only token), whose
// answer says what was saved but not how many it holds.
void write_crowd(JsonWriter& w, std::string_view name, const SavedCrowd& c,
                 const std::optional<activation::CrowdActivation>& a, bool sizes = true) {
  w.key("name").string(name).raw(",");
  write_definition(w, c.definition);
  if (sizes) w.raw(",").key("count").number(c.count);
  w.raw(",").key("created").string(c.definition.created);
  w.raw(",").key("refreshed").string(c.definition.refreshed);
  write_activation(w, a);
}

Reply crowd_reply(http::status status, std::string_view name, const SavedCrowd& c,
                  const std::optional<activation::CrowdActivation>& a, std::optional<uint64_t> previous_count,
                  uint64_t took_us, bool sizes) {
  std::string body;
  JsonWriter w(body);
  w.raw("{");
  write_crowd(w, name, c, a, sizes);
  if (previous_count && sizes) w.raw(",").key("previous_count").number(*previous_count);
  w.raw(",").key("took_us").number(took_us).raw("}");
  return json_reply(status, std::move(body));
}

// {"q": Q, "lenient"?: bool, settings?}
std::optional<ApiError> read_definition(std::string_view body, CrowdDefinition& d, CrowdSettingsFields& settings) {
  std::vector<JsonField> fields = {
      {"q", kRequired, string_into(d.q)},
      {"lenient", kOptional, bool_into(d.lenient)},
  };
  append_settings_fields(fields, settings);
  return read_body_fields(body, fields);
}

}  // namespace

Reply Api::crowd_list(Clock::time_point start) {
  const auto view = store_.view();
  std::string body;
  JsonWriter w(body);
  w.raw("{\"crowds\":[");
  bool first = true;
  for (const auto& name : crowd_names(*view)) {
    const auto c = find_crowd(*view, name);
    if (!c) continue;
    if (!first) w.raw(",");
    first = false;
    w.raw("{");
    write_crowd(w, name, *c, activation_->crowd(*view, name));
    w.raw("}");
  }
  w.raw("],").key("took_us").number(micros_since(start)).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

Reply Api::crowd_get(const std::string& name, Call& call, Clock::time_point start) {
  if (auto problem = crowd_name_problem(name)) return error_reply(bad_request(*problem));
  call.query = "@" + name;
  const auto view = store_.view();
  const auto c = find_crowd(*view, name);
  if (!c) return error_reply(not_found("no saved crowd " + name));
  // PATCH answers through here too, to callers that may lack read scope.
  return crowd_reply(http::status::ok, name, *c, activation_->crowd(*view, name), std::nullopt, micros_since(start),
                     sees_sizes(call));
}

Reply Api::crowd_put(const Request& req, const std::string& name, Call& call, Clock::time_point start) {
  if (auto problem = crowd_name_problem(name)) return error_reply(bad_request(*problem));
  call.query = "@" + name;
  CrowdDefinition d;
  CrowdSettingsFields fields;
  if (auto e = read_definition(req.body(), d, fields)) return error_reply(*e);
  auto settings = crowd_settings(fields, static_cast<int64_t>(std::time(nullptr)));
  if (auto* e = std::get_if<ApiError>(&settings)) return error_reply(*e);
  call.query += " = " + d.q;
  const auto view = store_.view();
  const auto existing = find_crowd(*view, name);
  auto drawn = draw_crowd(d, *view, query_options(d.lenient));
  if (auto* e = std::get_if<ApiError>(&drawn)) return error_reply(*e);
  d.refreshed = utc_now();
  d.created = existing ? existing->definition.created : d.refreshed;
  if (auto e = save_crowd(*activation_, name, d, std::move(std::get<Bitmap>(drawn)), "put",
                          std::get<activation::CrowdSettings>(settings))) {
    return error_reply(*e);
  }
  const auto after = store_.view();
  const auto saved = find_crowd(*after, name);
  if (!saved) return error_reply(not_found("saved crowd " + name + " was deleted meanwhile"));
  return crowd_reply(existing ? http::status::ok : http::status::created, name, *saved,
                     activation_->crowd(*after, name), std::nullopt, micros_since(start), sees_sizes(call));
}

Reply Api::crowd_refresh(const std::string& name, Call& call, Clock::time_point start) {
  if (auto problem = crowd_name_problem(name)) return error_reply(bad_request(*problem));
  call.query = "@" + name;
  const auto view = store_.view();
  auto existing = find_crowd(*view, name);
  if (!existing) return error_reply(not_found("no saved crowd " + name));
  CrowdDefinition d = std::move(existing->definition);
  auto drawn = draw_crowd(d, *view, query_options(d.lenient));
  if (auto* e = std::get_if<ApiError>(&drawn)) return error_reply(*e);
  d.refreshed = utc_now();
  if (auto e = save_crowd(*activation_, name, d, std::move(std::get<Bitmap>(drawn)), "refresh", {})) {
    return error_reply(*e);
  }
  const auto after = store_.view();
  const auto saved = find_crowd(*after, name);
  if (!saved) return error_reply(not_found("saved crowd " + name + " was deleted meanwhile"));
  return crowd_reply(http::status::ok, name, *saved, activation_->crowd(*after, name), existing->count,
                     micros_since(start), sees_sizes(call));
}

Reply Api::crowd_delete(const std::string& name, Call& call) {
  if (auto problem = crowd_name_problem(name)) return error_reply(bad_request(*problem));
  call.query = "@" + name;
  if (auto r = activation_->delete_crowd(name)) return error_reply(refusal_error(*r));
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("name").string(name).raw(",").key("deleted").boolean(true).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
