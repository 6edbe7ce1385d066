// The tag library (标签库, issue 17): fields with their labels, kinds and
// coverage; one field's values; defining and forgetting a field's metadata.
//   GET    /v1/fields                 every field, numeric attributes too
//   GET    /v1/fields/{field}         one field: metadata and its values
//   PUT    /v1/fields/{field}         label, description, kind, values, parent
//   DELETE /v1/fields/{field}         forget the metadata (the tags stay)
#include <algorithm>
#include <variant>

#include "catalog/catalog.h"
#include "index/system_view.h"
#include "server/api.h"
#include "server/json_writer.h"
#include "server/request_json.h"
#include "server/write_failure.h"

namespace crowd::server {
namespace {

double coverage(uint64_t users, uint64_t total) {
  return total == 0 ? 0.0 : static_cast<double>(users) / static_cast<double>(total);
}

void write_meta(JsonWriter& w, const catalog::FieldMeta* meta, bool exclusive) {
  w.raw(",").key("kind").string(exclusive ? "exclusive" : "multi");
  if (meta == nullptr) return;
  if (!meta->label.empty()) w.raw(",").key("label").string(meta->label);
  if (!meta->description.empty()) w.raw(",").key("description").string(meta->description);
  if (!meta->parent.empty()) w.raw(",").key("parent").string(meta->parent);
}

}  // namespace

Reply Api::fields() {
  const auto view = store_.view();
  const catalog::Catalog library(*view);
  const auto dated = view->system().dated_tags();
  const uint64_t total = view->universe().cardinality;
  std::string body;
  JsonWriter w(body);
  w.raw("{\"fields\":[");
  bool first = true;
  for (const auto& f : view->field_stats()) {
    if (!first) w.raw(",");
    first = false;
    uint64_t dated_count = 0;
    for (const TagId id : view->dictionary().with_prefix(f.field + ":")) {
      dated_count += dated.contains(view->dictionary().name(id)) ? 1 : 0;
    }
    w.raw("{").key("field").string(f.field).raw(",").key("tags").number(f.tags).raw(",").key("users").number(f.users);
    w.raw(",").key("coverage").real(coverage(f.users, total));
    write_meta(w, library.field(f.field), view->system().exclusive(f.field));
    if (dated_count > 0) w.raw(",").key("dated_tags").number(dated_count);
    w.raw("}");
  }
  // Fields described in the library that no tag has (any more): listed, so
  // their entries can be found and removed (DELETE /v1/fields/{field}).
  const auto attributes = view->system().attributes();
  for (const auto& [name, meta] : library.fields()) {
    const auto& stats = view->field_stats();
    // An init-capture: Clang 14 (the sanitizer build) cannot capture a structured binding.
    const bool has_tags =
        std::any_of(stats.begin(), stats.end(), [&field = name](const FieldStat& f) { return f.field == field; });
    if (has_tags || std::find(attributes.begin(), attributes.end(), name) != attributes.end()) continue;
    if (!first) w.raw(",");
    first = false;
    w.raw("{").key("field").string(name).raw(",").key("tags").raw("0").raw(",").key("users").raw("0");
    w.raw(",").key("coverage").real(0.0);
    write_meta(w, &meta, view->system().exclusive(name));
    w.raw("}");
  }
  // Numeric attributes: compared in queries (spend_90d >= 500), never tags.
  for (const auto& name : attributes) {
    const auto slices = view->system().attribute(name);
    const uint64_t users = slices ? slices->exists->cardinality : 0;
    if (!first) w.raw(",");
    first = false;
    w.raw("{").key("field").string(name).raw(",").key("tags").raw("0").raw(",").key("users").number(users);
    w.raw(",").key("coverage").real(coverage(users, total)).raw(",").key("kind").string("numeric");
    if (const auto* meta = library.field(name); meta != nullptr && !meta->label.empty()) {
      w.raw(",").key("label").string(meta->label);
    }
    w.raw("}");
  }
  w.raw("]}");
  return json_reply(http::status::ok, std::move(body));
}

Reply Api::field_get(const std::string& field) {
  if (auto p = field_name_problem(field)) return error_reply(bad_request(*p));
  const auto view = store_.view();
  const catalog::Catalog library(*view);
  const catalog::FieldMeta* meta = library.field(field);
  const auto ids = view->dictionary().with_prefix(field + ":");
  if (meta == nullptr && ids.empty() && !view->find_tag(field)) return error_reply(not_found("no field " + field));
  const auto dated = view->system().dated_tags();
  const uint64_t total = view->universe().cardinality;
  std::vector<TagId> by_size(ids.begin(), ids.end());
  if (const auto bare = view->find_tag(field)) by_size.push_back(*bare);  // a tag with no ':' is its own field
  // Most users first; equal counts by name, so that the order does not
  // depend on when each tag was made (a cluster router merges to the same).
  std::sort(by_size.begin(), by_size.end(), [&](TagId a, TagId b) {
    const uint64_t na = view->tag(a).cardinality, nb = view->tag(b).cardinality;
    return na != nb ? na > nb : view->dictionary().name(a) < view->dictionary().name(b);
  });
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("field").string(field);
  write_meta(w, meta, view->system().exclusive(field));
  w.raw(",").key("described").boolean(meta != nullptr);
  w.raw(",").key("values").raw("[");
  for (std::size_t i = 0; i < by_size.size(); ++i) {
    const std::string& tag = view->dictionary().name(by_size[i]);
    const uint64_t n = view->tag(by_size[i]).cardinality;
    w.raw(i ? "," : "").raw("{").key("tag").string(tag).raw(",").key("count").number(n);
    w.raw(",").key("coverage").real(coverage(n, total));
    if (const auto label = library.label_of(tag); !label.empty()) w.raw(",").key("label").string(label);
    if (const auto parent = library.parent_of(tag); !parent.empty()) w.raw(",").key("parent").string(parent);
    w.raw(",").key("kind").string(dated.contains(tag) ? "dated" : "tag").raw("}");
  }
  w.raw("]}");
  return json_reply(http::status::ok, std::move(body));
}

Reply Api::field_put(const Request& req, const std::string& field) {
  if (auto p = field_name_problem(field)) return error_reply(bad_request(*p));
  auto parsed = catalog::parse_field_meta(req.body());
  if (const auto* problem = std::get_if<std::string>(&parsed)) return error_reply(bad_request(*problem));
  const auto& meta = std::get<catalog::FieldMeta>(parsed);
  const bool exclusive = meta.kind == catalog::FieldKind::kExclusive;
  WriteBatch batch;
  batch.set_field_meta(field, catalog::to_json(meta));
  batch.set_exclusive_field(field, exclusive);
  // Turning exclusive on is refused by the index while users hold two of
  // the field's values (index/exclusive_fields.h), checked and applied
  // under the writer lock.
  WriteResult result;
  const WriteStatus status = store_.write(batch, result);
  if (status == WriteStatus::kConflict) {
    return error_reply({http::status::conflict, "field_not_exclusive", result.refusal, {}, {}, {}});
  }
  if (auto e = write_failure(status, result)) return error_reply(*e);
  return field_get(field);
}

Reply Api::field_delete(const std::string& field) {
  if (auto p = field_name_problem(field)) return error_reply(bad_request(*p));
  const auto view = store_.view();
  if (!view->system().field_meta(field) && !view->system().exclusive(field)) {
    return error_reply(not_found("field " + field + " has no metadata"));
  }
  WriteBatch batch;
  batch.erase_field_meta(field);
  batch.set_exclusive_field(field, false);
  WriteResult result;
  if (auto e = write_failure(store_.write(batch, result), result)) return error_reply(*e);
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("field").string(field).raw(",").key("deleted").boolean(true).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
