// Write routes: /v1/ingest, /v1/assign, DELETE /v1/users/{id}. Each request is
// one WriteBatch, parsed completely before anything is applied, so a bad line
// or entry rejects the whole request and changes nothing (CONTRACT §4).
#include <boost/beast/core/string.hpp>
#include <simdjson.h>

#include <iostream>
#include <vector>

#include "activation/activation.h"
#include "server/api.h"
#include "server/ingest_parser.h"
#include "server/json_fields.h"
#include "server/json_writer.h"
#include "server/request_json.h"
#include "server/retention.h"
#include "server/user_tags_json.h"
#include "server/write_failure.h"

namespace crowd::server {
namespace {

// Reads [{"id": ..., "tags": [...]}, ...] from `list` into the batch; `what`
// names the list in messages ("add", "remove").
// Entries naming IDs become persons through `persons`, numbered as lines
// from 1 across both lists (for the 409 that names one).
std::optional<ApiError> read_assign_list(simdjson::dom::element list, std::string_view what, WriteBatch& batch,
                                         bool adding, const EventDayLimit& latest, PersonSink& persons,
                                         uint64_t& entry_number) {
  simdjson::dom::array entries;
  if (list.get(entries)) {
    // Built with append: GCC 12 warns falsely (-Wrestrict) on "lit" + string.
    std::string message("\"");
    message.append(what).append("\" must be an array");
    return bad_request(std::move(message));
  }
  UserRecord record;
  std::size_t index = 0;
  for (const auto entry : entries) {
    std::string where(what);
    where.append("[").append(std::to_string(index++)).append("]");
    simdjson::dom::object obj;
    if (entry.get(obj)) return bad_request(where + ": expected an object {\"id\", \"tags\"}");
    if (auto problem = read_user_record(obj, adding ? RecordMode::kAdd : RecordMode::kRemove, record, latest,
                                        [&](std::string_view name) { return batch.intern(name); },
                                        [&](std::string_view tag, int64_t day) { return batch.intern_day(tag, day); })) {
      where.append(".").append(*problem);
      return bad_request(std::move(where));
    }
    ++entry_number;
    if (!record.ids.empty()) {
      const auto uid = record.has_id ? std::optional<UserId>(record.id) : std::nullopt;
      std::optional<std::string> problem;
      if (adding) {
        problem = persons.add(entry_number, uid, record.ids, record.hash, record.tags, record.values);
      } else {
        problem = persons.add(entry_number, uid, record.ids, record.hash, {}, {});
        if (!problem) {
          const WriteBatch::PersonRef p{static_cast<uint32_t>(batch.persons().size() - 1)};
          if (!record.tags.empty()) batch.remove(p, record.tags);
          for (const uint32_t attribute : record.cleared) batch.clear_value(p, attribute);
        }
      }
      if (problem) return bad_request(where.append(".").append(*problem));
      continue;
    }
    if (adding) {
      if (!record.tags.empty()) batch.add(record.id, record.tags);
      for (const auto& [attribute, v] : record.values) batch.set_value(record.id, attribute, v);
    } else {
      if (!record.tags.empty()) batch.remove(record.id, record.tags);
      for (const uint32_t attribute : record.cleared) batch.clear_value(record.id, attribute);
    }
  }
  return std::nullopt;
}

}  // namespace

Reply Api::ingest(Request& req, Call& call) {
  const auto type = media_type(req[http::field::content_type]);
  WriteBatch batch;
  const identity::IdTypes types(*store_.view());
  BatchSink sink(batch, &types);
  IngestCounts counts;
  std::optional<ApiError> error;
  if (type.empty() || type == "application/x-ndjson") {
    ensure_padding(req.body());
    error = parse_ndjson(req.body(), sink, counts, options_.clock.event_limit());
  } else if (type == "text/csv") {
    error = parse_csv(req.body(), sink, counts);
  } else {
    return error_reply({http::status::unsupported_media_type, "unsupported_media_type",
                        "ingest takes application/x-ndjson or text/csv, not " + type, {}, {}, {}});
  }
  if (error) return error_reply(*error);
  WriteResult result;
  if (!batch.empty()) {
    const WriteStatus status = store_.write(batch, result);
    if (auto failure = write_failure(status, result, sink.persons().line_of(result.refused_person))) {
      return error_reply(*failure);
    }
  }
  apply_retention(batch);
  call.users = counts.records;
  std::string body;
  JsonWriter w(body);
  // Records read come from the caller's own body; how many pairs were new
  // says who held a tag before, which a write-only token must not learn.
  w.raw("{").key("users").number(counts.records);
  if (sees_sizes(call)) w.raw(",").key("assignments").number(result.added);
  w.raw("}");
  return json_reply(http::status::ok, std::move(body));
}

Reply Api::assign(const Request& req, Call& call) {
  WriteBatch batch;
  simdjson::dom::element add_list;
  simdjson::dom::element remove_list;
  bool has_add = false;
  bool has_remove = false;
  // Kept as elements and read below in a fixed order, whatever the body's.
  const auto keep = [](simdjson::dom::element& into, bool& given) -> FieldReader {
    return [&into, &given](std::string_view, simdjson::dom::element v) -> std::optional<ApiError> {
      into = v;
      given = true;
      return std::nullopt;
    };
  };
  const JsonField fields[] = {
      {"add", kOptional, keep(add_list, has_add)},
      {"remove", kOptional, keep(remove_list, has_remove)},
  };
  if (auto e = read_body_fields(req.body(), fields)) return error_reply(*e);
  // Adds first, then removes: a pair in both ends up cleared.
  const auto latest = options_.clock.event_limit();
  const identity::IdTypes types(*store_.view());
  PersonSink persons(batch, &types);
  uint64_t entries = 0;
  if (has_add) {
    if (auto e = read_assign_list(add_list, "add", batch, true, latest, persons, entries)) return error_reply(*e);
  }
  if (has_remove) {
    if (auto e = read_assign_list(remove_list, "remove", batch, false, latest, persons, entries)) {
      return error_reply(*e);
    }
  }
  WriteResult result;
  if (!batch.empty()) {
    const WriteStatus status = store_.write(batch, result);
    // The 409 names the entry: its number counting add's entries, then remove's, from 1.
    if (auto failure = write_failure(status, result, persons.line_of(result.refused_person))) {
      return error_reply(*failure);
    }
  }
  apply_retention(batch);
  call.users = result.users;
  std::string body;
  JsonWriter w(body);
  // Without read scope, no counts: `removed` would say who held a tag.
  w.raw("{");
  if (sees_sizes(call)) w.key("added").number(result.added).raw(",").key("removed").number(result.removed);
  w.raw("}");
  return json_reply(http::status::ok, std::move(body));
}

void Api::apply_retention(const WriteBatch& written) {
  if (options_.retention == nullptr) return;
  // The write itself is acknowledged either way: a failed clearing is
  // retried after the next write (the newest day stays unenforced).
  std::string error;
  if (!options_.retention->enforce(&written, error)) std::cerr << "crowdd: " << error << "\n";
}

Reply Api::delete_user(std::string_view id_text, Call& call) {
  const auto id = parse_decimal_id(id_text);
  if (!id) return error_reply(bad_request("user id must be an unsigned 64-bit decimal integer"));
  WriteBatch batch;
  batch.erase(*id);
  // The user's IDs that destinations hold are recorded as removes for their
  // next pushes, in the same write (activation/activation.h).
  const auto view = store_.view();
  std::optional<Ordinal> ordinal;
  store_.find_uids(std::span(&*id, 1), std::span(&ordinal, 1));
  std::vector<Ordinal> erased;
  if (ordinal && *ordinal < view->ordinal_count()) erased.push_back(*ordinal);
  WriteResult result;
  if (auto failure = write_failure(activation_->erase_users(*view, erased, batch, result), result)) {
    return error_reply(*failure);
  }
  if (result.erased == 0) return error_reply(not_found("no user " + std::string(id_text)));
  call.users = 1;
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("id").user_id(*id).raw(",").key("deleted").boolean(true).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
