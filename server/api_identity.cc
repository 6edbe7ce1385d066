// Identity routes (issue 15, docs/identity.md): ID types, one user's view,
// erasure of a person by any of its IDs, and the admin's merge of two users.
// (Matching a list is api_match.cc, membership api_membership.cc.)
//
// IDs are personal data: no message here repeats one, and the routes that
// take one in their path are shown by their pattern in the audit log.
#include <string>
#include <variant>
#include <vector>

#include "identity/id_codec.h"
#include "identity/id_types.h"
#include "identity/person_writer.h"
#include "index/system_view.h"
#include "query/date.h"
#include "activation/activation.h"
#include "server/api.h"
#include "server/json_fields.h"
#include "server/json_writer.h"
#include "server/request_json.h"
#include "server/write_failure.h"

namespace crowd::server {
namespace {

ApiError id_type_exists(std::string message) {
  return {http::status::conflict, "id_type_exists", std::move(message), {}, {}, {}};
}

void write_type(JsonWriter& w, const identity::IdType& t, std::size_t ids) {
  w.raw("{").key("name").string(t.name).raw(",").key("kind").string(identity::id_kind_name(t.kind));
  if (identity::is_hashed(t.kind)) w.raw(",").key("normalization").string(identity::normalization_name(t.normalization));
  if (t.kind == identity::IdKind::kString) w.raw(",").key("max_length").number(t.max_length);
  if (t.normalization == identity::Normalization::kPhone) {
    w.raw(",").key("default_country_code").string(t.default_country_code);
  }
  w.raw(",").key("ids").number(ids).raw("}");
}

// The user an ID names in `view`, or the 400/404 that says why not.
std::variant<Ordinal, ApiError> find_user(Store& store, const IndexView& view, const identity::IdTypes& types,
                                          std::string_view type_name, std::string_view id_text) {
  if (type_name == identity::kBuiltInUid) {
    const auto uid = parse_decimal_id(id_text);
    if (!uid) return bad_request("a uid is an unsigned 64-bit decimal integer");
    std::optional<Ordinal> o;
    store.find_uids(std::span(&*uid, 1), std::span(&o, 1));
    // Found under the writer lock, so checked against this view.
    if (!o || *o >= view.ordinal_count() || !view.universe().bits.contains(*o) || view.uidless().bits.contains(*o)) {
      return not_found("no user with this uid");
    }
    return *o;
  }
  const auto* type = types.find(type_name);
  if (type == nullptr || type->space == nullptr) {
    return bad_request("unknown ID type '" + std::string(type_name) + "' (GET /v1/id-types lists them)");
  }
  const auto key = identity::encode_id(type->type, id_text, false);
  if (!key.ok()) return bad_request(key.error);
  const auto o = view.owner(*type->space, key.key);
  if (!o) return not_found("no user with this " + std::string(type_name));
  return *o;
}

}  // namespace

Reply Api::id_types_list() {
  const auto view = store_.view();
  const identity::IdTypes types(*view);
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("id_types").raw("[{").key("name").string(identity::kBuiltInUid).raw(",").key("kind").string("u64");
  w.raw(",").key("built_in").boolean(true).raw(",").key("ids");
  w.number(view->universe().cardinality - view->uidless().cardinality).raw("}");
  for (const auto& t : types.all()) {
    w.raw(",");
    write_type(w, t.type, t.space != nullptr ? t.space->size() : 0);
  }
  w.raw("]}");
  return json_reply(http::status::ok, std::move(body));
}

Reply Api::id_type_put(const Request& req, const std::string& name, Call& call) {
  call.query = "id type " + name;
  std::string kind;
  std::string normalization;
  uint64_t max_length = 0;
  std::string country;
  const JsonField fields[] = {
      {"kind", kRequired, string_into(kind)},
      {"normalization", kOptional, string_into(normalization)},
      {"max_length", kOptional, uint_into(max_length, 1, identity::kMaxStringMaxLength)},
      {"default_country_code", kOptional, string_into(country)},
  };
  if (auto e = read_body_fields(req.body(), fields)) return error_reply(*e);
  if (!identity::valid_id_type_name(name)) {
    return error_reply(bad_request("an ID type's name is [a-z][a-z0-9_]{0,31}"));
  }
  identity::IdType type;
  type.name = name;
  const auto k = identity::id_kind_from_name(kind);
  if (!k) return error_reply(bad_request("kind: one of u64, string, md5, sha256"));
  type.kind = *k;
  if (!normalization.empty()) {
    const auto n = identity::normalization_from_name(normalization);
    if (!n) return error_reply(bad_request("normalization: one of none, phone, email"));
    type.normalization = *n;
  }
  type.max_length = static_cast<uint32_t>(max_length);
  type.default_country_code = country;
  if (name == identity::kBuiltInUid) {
    // Built in: "defining" it as it is changes nothing, anything else conflicts.
    if (type.kind != identity::IdKind::kU64 || !normalization.empty() || max_length != 0 || !country.empty()) {
      return error_reply(id_type_exists("uid is built in: an unsigned 64-bit integer"));
    }
    return id_types_list();
  }
  if (auto why = identity::complete_and_check(type); !why.empty()) return error_reply(bad_request(why));
  const std::string text = identity::encode_id_type(type);
  const auto view = store_.view();
  if (const auto existing = view->system().id_type(name)) {
    if (*existing != text) return error_reply(id_type_exists("ID type '" + name + "' is defined differently"));
    return id_types_list();
  }
  WriteBatch batch;
  batch.define_id_type(name, identity::fixed_key_bytes(type.kind), text);
  WriteResult result;
  const WriteStatus status = store_.write(batch, result);
  // A concurrent definition of the same name, if different, wins the race
  // and this one is refused by the store.
  if (status == WriteStatus::kConflict) return error_reply(id_type_exists(result.refusal));
  if (auto failure = write_failure(status, result)) return error_reply(*failure);
  Reply reply = id_types_list();
  reply.message.result(http::status::created);
  return reply;
}

Reply Api::user_get(std::string_view type_name, std::string_view id_text, Call& call) {
  const auto view = store_.view();
  const identity::IdTypes types(*view);
  auto found = find_user(store_, *view, types, type_name, id_text);
  if (auto* e = std::get_if<ApiError>(&found)) return error_reply(*e);
  const Ordinal o = std::get<Ordinal>(found);
  call.users = 1;
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("uid");
  if (view->uidless().bits.contains(o)) {
    w.null();
  } else {
    w.user_id(view->external(o));
  }
  // Every linked ID, by type.
  w.raw(",").key("ids").raw("{");
  bool first_type = true;
  std::string text;
  for (const auto& t : types.all()) {
    if (t.space == nullptr || !t.space->has_key(o)) continue;
    w.raw(first_type ? "" : ",").key(t.type.name).raw("[");
    first_type = false;
    bool first = true;
    t.space->for_each_key(o, [&](std::string_view key) {
      text.clear();
      identity::append_id_text(t.type, key, text);
      w.raw(first ? "" : ",").string(text);
      first = false;
    });
    w.raw("]");
  }
  w.raw("}");
  // Tags: O(tags) contains() calls, a few ms at 100k tags; one user's view
  // is a customer-service question, not a hot path.
  w.raw(",").key("tags").raw("[");
  bool first = true;
  for (const TagId id : view->user_tags()) {
    if (!view->tag(id).bits.contains(o)) continue;
    w.raw(first ? "" : ",").string(view->dictionary().name(id));
    first = false;
  }
  const SystemView system = view->system();
  w.raw("],").key("values").raw("{");
  first = true;
  for (const auto& attribute : system.attributes()) {
    const auto slices = system.attribute(attribute);
    if (!slices || !slices->exists->bits.contains(o)) continue;
    uint64_t bits = 0;
    for (int b = 0; b < AttributeSlices::kBits; ++b) {
      if (slices->bits[b] != nullptr && slices->bits[b]->bits.contains(o)) bits |= uint64_t{1} << b;
    }
    w.raw(first ? "" : ",").key(attribute).signed_number(AttributeSlices::from_offset_binary(bits));
    first = false;
  }
  w.raw("},").key("days").raw("{");
  first = true;
  std::string_view open_tag;  // the tag whose list is open, if any
  bool open = false;
  for (const DayTag& d : system.all_days()) {
    if (!view->tag(d.id).bits.contains(o)) continue;
    if (!open || d.tag != open_tag) {
      if (open) w.raw("]");
      w.raw(first ? "" : ",").key(d.tag).raw("[");
      first = false;
      open = true;
      open_tag = d.tag;
    } else {
      w.raw(",");
    }
    w.string(query::format_day(d.day));
  }
  if (open) w.raw("]");
  w.raw("},").key("crowds").raw("[");
  first = true;
  for (const auto& name : system.saved_crowds()) {
    const auto crowd = system.saved_crowd(name);
    if (!crowd || !view->tag(crowd->id).bits.contains(o)) continue;
    w.raw(first ? "" : ",").string(name);
    first = false;
  }
  w.raw("]}");
  return json_reply(http::status::ok, std::move(body));
}

Reply Api::user_delete(std::string_view type_name, std::string_view id_text, Call& call) {
  if (type_name == identity::kBuiltInUid) return delete_user(id_text, call);
  const auto view = store_.view();
  const identity::IdTypes types(*view);
  const auto* type = types.find(type_name);
  if (type == nullptr) {
    return error_reply(bad_request("unknown ID type '" + std::string(type_name) + "' (GET /v1/id-types lists them)"));
  }
  WriteBatch batch;
  identity::PersonWriter writer(types, batch);
  const identity::NamedId id{type_name, id_text};
  WriteBatch::PersonRef p{};
  if (auto problem = writer.add(std::nullopt, std::span(&id, 1), false, p)) return error_reply(bad_request(*problem));
  batch.erase(p);
  // As delete_user: what destinations hold of the user leaves with it.
  std::vector<Ordinal> erased;
  if (const auto key = identity::encode_id(type->type, id_text, false); key.ok() && type->space != nullptr) {
    if (const auto o = view->owner(*type->space, key.key)) erased.push_back(*o);
  }
  WriteResult result;
  const WriteStatus status = activation_->erase_users(*view, erased, batch, result);
  if (auto failure = write_failure(status, result)) return error_reply(*failure);
  if (result.erased == 0) return error_reply(not_found("no user with this " + std::string(type_name)));
  call.users = 1;
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("deleted").boolean(true).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

namespace {

// {"id_type": "…", "id": "…"} of a merge request.
FieldReader named_id_into(std::string& type, std::string& id) {
  return [&type, &id](std::string_view name, simdjson::dom::element v) -> std::optional<ApiError> {
    simdjson::dom::object obj;
    std::string_view t;
    std::string_view i;
    if (v.get(obj) || obj.size() != 2 || obj["id_type"].get(t) || obj["id"].get(i)) {
      return bad_request(std::string(name) + ": expected {\"id_type\": string, \"id\": string}");
    }
    type = t;
    id = i;
    return std::nullopt;
  };
}

}  // namespace

Reply Api::users_merge(const Request& req, Call& call) {
  std::string from_type, from_id, into_type, into_id;
  const JsonField fields[] = {
      {"from", kRequired, named_id_into(from_type, from_id)},
      {"into", kRequired, named_id_into(into_type, into_id)},
  };
  if (auto e = read_body_fields(req.body(), fields)) return error_reply(*e);
  const auto view = store_.view();
  const identity::IdTypes types(*view);
  auto from = find_user(store_, *view, types, from_type, from_id);
  if (auto* e = std::get_if<ApiError>(&from)) return error_reply(*e);
  auto into = find_user(store_, *view, types, into_type, into_id);
  if (auto* e = std::get_if<ApiError>(&into)) return error_reply(*e);
  call.users = 2;
  if (std::get<Ordinal>(from) == std::get<Ordinal>(into)) {
    return json_reply(http::status::ok, R"({"merged":false,"reason":"both IDs belong to one user already"})");
  }
  WriteBatch batch;
  identity::PersonWriter writer(types, batch);
  const identity::NamedId ids[] = {{from_type, from_id}, {into_type, into_id}};
  WriteBatch::PersonRef f{}, i{};
  if (auto problem = writer.add(std::nullopt, std::span(ids, 1), false, f)) return error_reply(bad_request(*problem));
  if (auto problem = writer.add(std::nullopt, std::span(ids + 1, 1), false, i)) {
    return error_reply(bad_request(*problem));
  }
  batch.merge(f, i);
  WriteResult result;
  const WriteStatus status = store_.write(batch, result);
  if (auto failure = write_failure(status, result)) return error_reply(*failure);
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("merged").boolean(true).raw(",").key("ids_moved").number(result.linked).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
