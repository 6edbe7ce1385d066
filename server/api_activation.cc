// Activation routes (docs/activation.md):
//   GET    /v1/destinations              every destination (secrets left out)
//   GET    /v1/destinations/{name}
//   PUT    /v1/destinations/{name}       {"kind": "file"|"webhook", ...}
//   DELETE /v1/destinations/{name}
//   POST   /v1/crowds/{name}/push        {"destination", "mode"?}: 202, delivered by the worker
//   GET    /v1/crowds/{name}/pushes      the push history
//   GET    /v1/crowds/{name}/versions    the version history
//   PATCH  /v1/crowds/{name}             settings only: refresh, expires_at/ttl, holdout, push_to
// Validation is here; the bookkeeping is activation/activation.h's.
#include <simdjson.h>

#include <ctime>
#include <iostream>

#include "activation/activation.h"
#include "activation/file_sink.h"
#include "activation/schedule.h"
#include "activation/webhook_sink.h"
#include "identity/id_type.h"
#include "identity/id_types.h"
#include "query/deadline.h"
#include "server/api.h"
#include "server/audit_log.h"
#include "server/crowd_settings.h"
#include "server/json_fields.h"
#include "server/json_writer.h"
#include "server/refusal_error.h"
#include "server/request_json.h"
#include "server/saved_crowds.h"

namespace crowd::server {
namespace {

using activation::Destination;
using activation::PushRecord;

constexpr std::size_t kMaxHeaders = 16;

std::optional<std::string> destination_name_problem(std::string_view name) {
  if (name.empty() || name.size() > 64) return "a destination name has 1 to 64 characters";
  for (const char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return "a destination name holds only letters, digits, '.', '_' and '-'";
  }
  return std::nullopt;
}

// An HTTP header name (RFC 9110 token) and a value without CR, LF or NUL.
std::optional<std::string> header_problem(std::string_view name, std::string_view value) {
  if (name.empty()) return "headers: an empty header name";
  for (const char c : name) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b >= 0x7f || std::string_view("\"(),/:;<=>?@[\\]{}").find(c) != std::string_view::npos) {
      return "headers: a header name holds only token characters";
    }
  }
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    return "headers: a header value may not hold CR, LF or NUL";
  }
  return std::nullopt;
}

// The URL as GET shows it: scheme, host, port and path, without a query
// (which may hold a token).
std::string shown_url(std::string_view url) {
  const auto q = url.find_first_of("?#");
  return std::string(url.substr(0, q)) + (q == std::string_view::npos ? "" : "?…");
}

void write_destination(JsonWriter& w, std::string_view name, const Destination& d) {
  const bool file = d.kind == Destination::Kind::kFile;
  w.raw("{").key("name").string(name).raw(",").key("kind").string(file ? "file" : "webhook");
  if (file) {
    w.raw(",").key("path").string(d.path);
  } else {
    w.raw(",").key("url").string(shown_url(d.url)).raw(",").key("headers").raw("[");
    for (std::size_t i = 0; i < d.headers.size(); ++i) w.raw(i > 0 ? "," : "").string(d.headers[i].first);
    w.raw("],").key("timeout_ms").number(d.timeout_ms).raw(",").key("deadline_ms").number(d.deadline_ms);
  }
  w.raw(",").key("id_type").string(d.id_type).raw(",").key("format").string(activation::format_name(d.format));
  w.raw(",").key("min_size").number(d.min_size).raw(",").key("max_size").number(d.max_size);
  w.raw(",").key("created").string(activation::format_utc_time(d.created)).raw("}");
}

void write_push(JsonWriter& w, const PushRecord& p) {
  w.raw("{").key("id").string(p.id).raw(",").key("seq").number(p.seq);
  w.raw(",").key("destination").string(p.destination).raw(",").key("mode").string(p.full ? "full" : "delta");
  w.raw(",").key("version").number(p.version).raw(",").key("base_version").number(p.base_version);
  w.raw(",").key("status").string(activation::status_name(p.status));
  w.raw(",").key("attempts").number(p.attempts).raw(",").key("error");
  if (p.error.empty()) {
    w.null();
  } else {
    w.string(p.error);
  }
  w.raw(",").key("adds").number(p.adds).raw(",").key("removes").number(p.removes);
  w.raw(",").key("held_out").number(p.held_out).raw(",").key("bytes").number(p.bytes);
  w.raw(",").key("sha256");
  if (p.sha256.empty()) {
    w.null();
  } else {
    w.string(p.sha256);
  }
  w.raw(",").key("trigger").string(p.trigger);
  w.raw(",").key("created").string(activation::format_utc_time(p.created));
  w.raw(",").key("finished");
  if (p.finished == 0) {
    w.null();
  } else {
    w.string(activation::format_utc_time(p.finished));
  }
  w.raw(",").key("next_attempt");
  if (p.status == PushRecord::Status::kRetrying) {
    w.string(activation::format_utc_time(p.next_attempt));
  } else {
    w.null();
  }
  w.raw("}");
}

struct DestinationFields {
  std::string kind, path, url, id_type = "uid", format = "ndjson";
  std::vector<std::pair<std::string, std::string>> headers;
  bool has_headers = false;
  uint64_t min_size = 0, max_size = 0;
  std::optional<uint64_t> timeout_ms, deadline_ms;
};

FieldReader optional_uint_into(std::optional<uint64_t>& out, uint64_t min, uint64_t max) {
  return [&out, min, max](std::string_view name, simdjson::dom::element v) -> std::optional<ApiError> {
    uint64_t n = 0;
    if (auto e = uint_into(n, min, max)(name, v)) return e;
    out = n;
    return std::nullopt;
  };
}

std::variant<Destination, ApiError> read_destination(std::string_view body, const IndexView& view) {
  DestinationFields f;
  const JsonField fields[] = {
      {"kind", kRequired, string_into(f.kind)},
      {"path", kOptional, string_into(f.path)},
      {"url", kOptional, string_into(f.url)},
      {"headers", kOptional,
       [&f](std::string_view name, simdjson::dom::element v) -> std::optional<ApiError> {
         simdjson::dom::object o;
         if (v.get(o)) return field_must_be(name, "an object of strings");
         for (const auto member : o) {
           std::string_view value;
           if (member.value.get(value)) return bad_request("headers: every value must be a string");
           if (auto p = header_problem(member.key, value)) return bad_request(*p);
           f.headers.emplace_back(std::string(member.key), std::string(value));
         }
         if (f.headers.size() > kMaxHeaders) return bad_request("headers: at most 16");
         f.has_headers = true;
         return std::nullopt;
       }},
      {"id_type", kOptional, string_into(f.id_type)},
      {"format", kOptional, string_into(f.format)},
      {"min_size", kOptional, uint_into(f.min_size, 0, UINT64_MAX)},
      {"max_size", kOptional, uint_into(f.max_size, 0, UINT64_MAX)},
      {"timeout_ms", kOptional, optional_uint_into(f.timeout_ms, 100, 600'000)},
      {"deadline_ms", kOptional, optional_uint_into(f.deadline_ms, 100, 86'400'000)},
  };
  if (auto e = read_body_fields(body, fields)) return *e;
  Destination d;
  if (f.kind == "file") {
    d.kind = Destination::Kind::kFile;
    if (f.path.empty() || f.path.front() != '/')
      return bad_request("path: a file destination needs an absolute directory");
    if (!f.url.empty() || f.has_headers || f.timeout_ms || f.deadline_ms) {
      return bad_request("a file destination takes no url, headers, timeout_ms or deadline_ms");
    }
    if (auto p = activation::file_directory_problem(f.path)) return bad_request("path: " + *p);
    d.path = f.path;
  } else if (f.kind == "webhook") {
    d.kind = Destination::Kind::kWebhook;
    if (!f.path.empty()) return bad_request("a webhook takes no path");
    if (auto p = activation::webhook_url_problem(f.url)) return bad_request("url: " + *p);
    d.url = f.url;
    d.headers = std::move(f.headers);
    d.timeout_ms = f.timeout_ms.value_or(d.timeout_ms);
    d.deadline_ms = f.deadline_ms.value_or(d.deadline_ms);
    if (d.deadline_ms < d.timeout_ms) return bad_request("deadline_ms must be at least timeout_ms");
  } else {
    return bad_request("kind: \"file\" or \"webhook\"");
  }
  if (f.id_type != identity::kBuiltInUid && identity::IdTypes(view).find(f.id_type) == nullptr) {
    return bad_request("id_type: no ID type " + f.id_type + " (GET /v1/id-types lists them)");
  }
  d.id_type = f.id_type;
  if (f.format != "ndjson" && f.format != "csv") return bad_request("format: \"ndjson\" or \"csv\"");
  d.format = f.format == "csv" ? activation::PayloadFormat::kCsv : activation::PayloadFormat::kNdjson;
  if (f.max_size > 0 && f.min_size > f.max_size) return bad_request("min_size is above max_size");
  d.min_size = f.min_size;
  d.max_size = f.max_size;
  return d;
}

}  // namespace

Reply Api::destination_list() {
  const auto view = store_.view();
  std::string body;
  JsonWriter w(body);
  w.raw("{\"destinations\":[");
  bool first = true;
  for (const auto& [name, d] : activation::Activation::destinations(*view)) {
    if (!first) w.raw(",");
    first = false;
    write_destination(w, name, d);
  }
  w.raw("]}");
  return json_reply(http::status::ok, std::move(body));
}

Reply Api::destination_get(const std::string& name) {
  if (auto p = destination_name_problem(name)) return error_reply(bad_request(*p));
  const auto d = activation::Activation::destination(*store_.view(), name);
  if (!d) return error_reply(not_found("no destination " + name));
  std::string body;
  JsonWriter w(body);
  write_destination(w, name, *d);
  return json_reply(http::status::ok, std::move(body));
}

Reply Api::destination_put(const Request& req, const std::string& name, Call& call) {
  if (auto p = destination_name_problem(name)) return error_reply(bad_request(*p));
  call.query = "destination " + name;
  auto parsed = read_destination(req.body(), *store_.view());
  if (auto* e = std::get_if<ApiError>(&parsed)) return error_reply(*e);
  bool created = false;
  if (auto r = activation_->put_destination(name, std::get<Destination>(parsed), created)) {
    return error_reply(refusal_error(*r));
  }
  const auto d = activation::Activation::destination(*store_.view(), name);
  if (!d) return error_reply(not_found("destination " + name + " was deleted meanwhile"));
  std::string body;
  JsonWriter w(body);
  write_destination(w, name, *d);
  return json_reply(created ? http::status::created : http::status::ok, std::move(body));
}

Reply Api::destination_delete(const std::string& name, Call& call) {
  if (auto p = destination_name_problem(name)) return error_reply(bad_request(*p));
  call.query = "destination " + name;
  if (auto r = activation_->delete_destination(name)) return error_reply(refusal_error(*r));
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("name").string(name).raw(",").key("deleted").boolean(true).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

Reply Api::crowd_push(const Request& req, const std::string& name, Call& call) {
  if (auto problem = crowd_name_problem(name)) return error_reply(bad_request(*problem));
  std::string destination;
  std::string mode = "delta";
  const JsonField fields[] = {
      {"destination", kRequired, string_into(destination)},
      {"mode", kOptional, string_into(mode)},
  };
  if (auto e = read_body_fields(req.body(), fields)) return error_reply(*e);
  if (mode != "delta" && mode != "full") return error_reply(bad_request("mode: \"delta\" or \"full\""));
  call.query = "@" + name + " -> " + destination;
  // A push already outstanding for the pair is returned (and tried now)
  // rather than a new one: it must land first.
  bool resent = false;
  if (const auto before = activation_->crowd(*store_.view(), name)) {
    const auto it = before->record.destinations.find(destination);
    resent = it != before->record.destinations.end() && it->second.outstanding != 0;
  }
  auto pushed = activation_->push(name, destination, mode == "full", "request");
  if (const auto* r = std::get_if<activation::Refusal>(&pushed)) return error_reply(refusal_error(*r));
  const PushRecord& p = std::get<PushRecord>(pushed);
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("crowd").string(name).raw(",").key("resent").boolean(resent).raw(",").key("push");
  write_push(w, p);
  w.raw("}");
  return json_reply(http::status::accepted, std::move(body));
}

Reply Api::crowd_pushes(const std::string& name) {
  if (auto problem = crowd_name_problem(name)) return error_reply(bad_request(*problem));
  const auto view = store_.view();
  if (!find_crowd(*view, name)) return error_reply(not_found("no saved crowd " + name));
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("crowd").string(name).raw(",").key("pushes").raw("[");
  bool first = true;
  for (const auto& p : activation::Activation::pushes(*view, name)) {
    if (!first) w.raw(",");
    first = false;
    write_push(w, p);
  }
  w.raw("]}");
  return json_reply(http::status::ok, std::move(body));
}

Reply Api::crowd_versions(const std::string& name) {
  if (auto problem = crowd_name_problem(name)) return error_reply(bad_request(*problem));
  const auto view = store_.view();
  if (!find_crowd(*view, name)) return error_reply(not_found("no saved crowd " + name));
  const auto a = activation_->crowd(*view, name);
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("crowd").string(name).raw(",").key("version").number(a ? a->record.version : 0);
  w.raw(",").key("versions").raw("[");
  if (a) {
    bool first = true;
    for (const auto& v : a->record.versions) {
      w.raw(first ? "" : ",").raw("{").key("version").number(v.version);
      w.raw(",").key("at").string(activation::format_utc_time(v.at)).raw(",").key("size").number(v.size);
      w.raw(",").key("adds").number(v.adds).raw(",").key("removes").number(v.removes);
      w.raw(",").key("trigger").string(v.trigger).raw("}");
      first = false;
    }
  }
  w.raw("]}");
  return json_reply(http::status::ok, std::move(body));
}

Reply Api::crowd_patch(const Request& req, const std::string& name, Call& call, Clock::time_point start) {
  if (auto problem = crowd_name_problem(name)) return error_reply(bad_request(*problem));
  call.query = "@" + name;
  CrowdSettingsFields fields;
  std::vector<JsonField> readers;
  append_settings_fields(readers, fields);
  if (auto e = read_body_fields(req.body(), readers)) return error_reply(*e);
  auto settings = crowd_settings(fields, static_cast<int64_t>(std::time(nullptr)));
  if (auto* e = std::get_if<ApiError>(&settings)) return error_reply(*e);
  auto updated = activation_->update_settings(name, std::get<activation::CrowdSettings>(settings));
  if (const auto* r = std::get_if<activation::Refusal>(&updated)) return error_reply(refusal_error(*r));
  return crowd_get(name, call, start);
}

std::variant<activation::DrawnCrowd, std::string> Api::draw_saved(std::string_view name) {
  const auto view = store_.view();
  auto existing = find_crowd(*view, name);
  if (!existing) return "the saved crowd is gone";
  CrowdDefinition d = std::move(existing->definition);
  std::optional<query::Deadline::Scope> budget;
  if (options_.time_budget.count() > 0) budget.emplace(query::Deadline::Clock::now() + options_.time_budget);
  try {
    auto drawn = draw_crowd(d, *view, query_options(d.lenient));
    if (auto* e = std::get_if<ApiError>(&drawn)) return e->message;
    d.refreshed = utc_now();
    return activation::DrawnCrowd{std::move(std::get<Bitmap>(drawn)), encode_definition(d)};
  } catch (const query::TimedOut&) {
    return "the refresh took longer than the time budget (--time-budget-ms)";
  }
}

void Api::audit_push(std::string_view crowd, uint64_t ids, std::string_view destination) {
  if (options_.audit == nullptr) return;
  std::string query = "@";
  query.append(crowd).append(" -> ").append(destination);
  AuditEntry e;
  e.token = "activation";
  e.method = "PUSH";
  e.route = "/v1/crowds/{name}/push";
  e.status = 200;
  e.query = query;
  e.ids = ids;
  std::string error;
  if (!options_.audit->append(e, error)) std::cerr << "crowdd: cannot write the audit log: " << error << "\n";
}

}  // namespace crowd::server
