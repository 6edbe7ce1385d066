// Saved crowd routes (人群包):
//   GET    /v1/crowds                 every saved crowd, by name
//   PUT    /v1/crowds/{name}          {"q", "lenient"?}: draw and save (replaces)
//   GET    /v1/crowds/{name}          definition, size, created, refreshed
//   POST   /v1/crowds/{name}/refresh  draw again from the definition
//   DELETE /v1/crowds/{name}
// Names are percent-decoded path segments (UTF-8, see crowd_name_problem);
// the route table (routes.cc) sends each method and pattern here.
#include <simdjson.h>

#include "server/api.h"
#include "server/json_fields.h"
#include "server/json_writer.h"
#include "server/request_json.h"
#include "server/saved_crowds.h"
#include "server/write_failure.h"

namespace crowd::server {
namespace {

// `sizes`: false for a caller without read scope (a write-only token), whose
// answer says what was saved but not how many it holds.
void write_crowd(JsonWriter& w, std::string_view name, const SavedCrowd& c, bool sizes = true) {
  w.key("name").string(name).raw(",");
  write_definition(w, c.definition);
  if (sizes) w.raw(",").key("count").number(c.count);
  w.raw(",").key("created").string(c.definition.created);
  w.raw(",").key("refreshed").string(c.definition.refreshed);
}

Reply crowd_reply(http::status status, std::string_view name, const SavedCrowd& c,
                  std::optional<uint64_t> previous_count, uint64_t took_us, bool sizes) {
  std::string body;
  JsonWriter w(body);
  w.raw("{");
  write_crowd(w, name, c, sizes);
  if (previous_count && sizes) w.raw(",").key("previous_count").number(*previous_count);
  w.raw(",").key("took_us").number(took_us).raw("}");
  return json_reply(status, std::move(body));
}

// {"q": Q, "lenient"?: bool}
std::variant<CrowdDefinition, ApiError> read_definition(std::string_view body) {
  CrowdDefinition d;
  const JsonField fields[] = {
      {"q", kRequired, string_into(d.q)},
      {"lenient", kOptional, bool_into(d.lenient)},
  };
  if (auto e = read_body_fields(body, fields)) return *e;
  return d;
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
    write_crowd(w, name, *c);
    w.raw("}");
  }
  w.raw("],").key("took_us").number(micros_since(start)).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

Reply Api::crowd_get(const std::string& name, Call& call, Clock::time_point start) {
  if (auto problem = crowd_name_problem(name)) return error_reply(bad_request(*problem));
  call.query = "@" + name;
  const auto c = find_crowd(*store_.view(), name);
  if (!c) return error_reply(not_found("no saved crowd " + name));
  return crowd_reply(http::status::ok, name, *c, std::nullopt, micros_since(start), true);
}

Reply Api::crowd_put(const Request& req, const std::string& name, Call& call, Clock::time_point start) {
  if (auto problem = crowd_name_problem(name)) return error_reply(bad_request(*problem));
  call.query = "@" + name;
  auto parsed = read_definition(req.body());
  if (auto* e = std::get_if<ApiError>(&parsed)) return error_reply(*e);
  CrowdDefinition d = std::move(std::get<CrowdDefinition>(parsed));
  call.query += " = " + d.q;
  const auto view = store_.view();
  const auto existing = find_crowd(*view, name);
  auto drawn = draw_crowd(d, *view, query_options(d.lenient));
  if (auto* e = std::get_if<ApiError>(&drawn)) return error_reply(*e);
  d.refreshed = utc_now();
  d.created = existing ? existing->definition.created : d.refreshed;
  if (auto e = save_crowd(store_, name, d, std::move(std::get<Bitmap>(drawn)))) return error_reply(*e);
  const auto saved = find_crowd(*store_.view(), name);
  if (!saved) return error_reply(not_found("saved crowd " + name + " was deleted meanwhile"));
  return crowd_reply(existing ? http::status::ok : http::status::created, name, *saved, std::nullopt,
                     micros_since(start), sees_sizes(call));
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
  if (auto e = save_crowd(store_, name, d, std::move(std::get<Bitmap>(drawn)))) return error_reply(*e);
  const auto saved = find_crowd(*store_.view(), name);
  if (!saved) return error_reply(not_found("saved crowd " + name + " was deleted meanwhile"));
  return crowd_reply(http::status::ok, name, *saved, existing->count, micros_since(start), sees_sizes(call));
}

Reply Api::crowd_delete(const std::string& name, Call& call) {
  if (auto problem = crowd_name_problem(name)) return error_reply(bad_request(*problem));
  call.query = "@" + name;
  if (!find_crowd(*store_.view(), name)) return error_reply(not_found("no saved crowd " + name));
  WriteBatch batch;
  batch.delete_crowd(name);
  WriteResult ignored;
  if (auto e = write_failure(store_.write(batch, ignored), ignored)) return error_reply(*e);
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("name").string(name).raw(",").key("deleted").boolean(true).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
