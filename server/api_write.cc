// Write routes: /v1/ingest, /v1/assign, DELETE /v1/users/{id}. Each request is
// one WriteBatch, parsed completely before anything is applied, so a bad line
// or entry rejects the whole request and changes nothing (CONTRACT §4).
#include <boost/beast/core/string.hpp>

#include <iostream>
#include <vector>

#include "activation/activation.h"
#include "server/api.h"
#include "server/authorize.h"
#include "server/assign_request.h"
#include "server/ingest_parser.h"
#include "server/json_fields.h"
#include "server/json_writer.h"
#include "server/request_json.h"
#include "server/retention.h"
#include "server/user_tags_json.h"
#include "server/write_failure.h"

namespace crowd::server {
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
  const identity::IdTypes types(*store_.view());
  PersonSink persons(batch, &types);
  if (auto e = read_assign_body(req.body(), batch, options_.clock.event_limit(), persons)) return error_reply(*e);
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
