// Info routes: /v1/tags, /v1/fields, /healthz, /metrics, /v1/admin/snapshot,
// /v1/admin/tags/prune, /v1/openapi.json.
#include <algorithm>

#include "activation/activation.h"
#include "catalog/catalog.h"
#include "index/system_view.h"
#include "server/api.h"
#include "server/tag_listing.h"
#include "server/retention.h"
#include "server/audit_log.h"

#include "query/union_cache.h"
#include "server/json_writer.h"
#include "server/openapi_document.h"
#include "server/query_params.h"
#include "server/request_json.h"

namespace crowd::server {

Reply Api::tags(const boost::urls::url_view& url) {
  const auto prefix = url_param(url, "prefix").value_or("");
  const auto limit = url_uint(url, "limit", 1000, 1, 100'000);
  if (const auto* e = std::get_if<ApiError>(&limit)) return error_reply(*e);
  const auto offset = url_uint(url, "offset", 0, 0, UINT64_MAX);
  if (const auto* e = std::get_if<ApiError>(&offset)) return error_reply(*e);
  // empty=true: only the tags no user holds (what DELETE /v1/tags/{tag} or
  // the prune can remove).
  const auto empty = url_bool(url, "empty", false);
  if (const auto* e = std::get_if<ApiError>(&empty)) return error_reply(*e);
  // search=TEXT: the tags whose name, label or field label holds it (the
  // tag library's search box; CJK as typed, ASCII in any case).
  const auto search = url_param(url, "search").value_or("");
  // sort=coverage: most users first (else byte order of names).
  const auto sort = url_param(url, "sort").value_or("name");
  if (sort != "name" && sort != "coverage") return error_reply(bad_request("sort must be name or coverage"));

  const auto view = store_.view();
  const catalog::Catalog library(*view);
  const auto all = view->dictionary().with_prefix(prefix);
  std::vector<TagId> filtered;
  const bool filter = std::get<bool>(empty) || !search.empty() || sort == "coverage";
  if (filter) {
    for (const TagId id : all) {
      if (std::get<bool>(empty) && view->tag(id).cardinality != 0) continue;
      if (!search.empty() && !library.matches(view->dictionary().name(id), search)) continue;
      filtered.push_back(id);
    }
    if (sort == "coverage") {
      std::stable_sort(filtered.begin(), filtered.end(),
                       [&](TagId a, TagId b) { return view->tag(a).cardinality > view->tag(b).cardinality; });
    }
  }
  const std::span<const TagId> matching = filter ? std::span<const TagId>(filtered) : all;
  const auto dated = view->system().dated_tags();
  const uint64_t total = view->universe().cardinality;
  const auto first = std::min<uint64_t>(std::get<uint64_t>(offset), matching.size());
  const auto last = std::min<uint64_t>(first + std::get<uint64_t>(limit), matching.size());
  std::vector<TagRow> rows;
  rows.reserve(last - first);
  for (auto i = first; i < last; ++i) {
    const TagId id = matching[i];
    const std::string& tag = view->dictionary().name(id);
    rows.push_back({tag, view->tag(id).cardinality, dated.contains(tag), library.label_of(tag)});
  }
  std::string body = tags_body(rows, total, matching.size());
  return json_reply(http::status::ok, std::move(body));
}

// One empty tag out of the dictionary, durably (a snapshot, as the prune:
// tags are dropped by id, which the log cannot name). A tag some user still
// holds is refused: removing it from them is a write (/v1/assign).
Reply Api::tag_delete(const std::string& tag) {
  if (auto problem = tag_problem(tag)) return error_reply(bad_request(*problem));
  const auto view = store_.view();
  const auto id = view->find_tag(tag);
  if (!id) return error_reply(not_found("no tag " + tag));
  const uint64_t holders = view->tag(*id).cardinality;
  const auto not_empty = [&](uint64_t users) {
    return error_reply({http::status::conflict, "tag_not_empty",
                        "tag " + tag + " is held by " + std::to_string(users) +
                            " users: remove it from them first (POST /v1/assign), then delete it",
                        {}, {}, {}});
  };
  if (holders > 0) return not_empty(holders);
  uint64_t dropped = 0;
  std::string error;
  const bool durable =
      store_.bulk_load([&](Index& index) { dropped = index.drop_empty_tags(std::string_view(tag)); }, error);
  if (dropped == 0) {
    // Someone was given the tag meanwhile.
    const auto now = store_.view();
    const auto again = now->find_tag(tag);
    return again ? not_empty(now->tag(*again).cardinality) : error_reply(not_found("no tag " + tag));
  }
  if (!durable) return error_reply(unavailable("deleted in memory, but the snapshot failed: " + error));
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("tag").string(tag).raw(",").key("deleted").boolean(true).raw(",").key("snapshot").boolean(
      store_.persistent());
  w.raw("}");
  return json_reply(http::status::ok, std::move(body));
}


Reply Api::health() {
  const auto view = store_.view();
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("status").string("ok").raw(",").key("users").number(view->universe().cardinality);
  w.raw(",").key("tags").number(view->dictionary().user_tag_count()).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

void Api::append_activation_metrics(const IndexView& view, std::string& b) const {
  const auto [kept, kept_bytes] = activation::Activation::kept(view);
  const auto s = activation_->stats();
  const auto metric = [&b](const char* name, const char* type, const char* help, uint64_t value) {
    b.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" ");
    b.append(type).append("\n").append(name).append(" ").append(std::to_string(value)).append("\n");
  };
  metric("crowd_activation_kept_bitmaps", "gauge",
         "Bitmaps activation keeps: versions destinations need, and pushed versions' cohorts.", kept);
  metric("crowd_activation_kept_bytes", "gauge", "Bytes of those bitmaps.", kept_bytes);
  metric("crowd_activation_outstanding_pushes", "gauge", "Pushes recorded and not delivered yet.",
         activation::Activation::outstanding(view));
  metric("crowd_activation_refreshes_total", "counter", "Scheduled refreshes made.", s.refreshes);
  metric("crowd_activation_refresh_failures_total", "counter", "Scheduled refreshes that failed (retried).",
         s.refresh_failures);
  metric("crowd_activation_pushes_delivered_total", "counter", "Pushes delivered.", s.pushes_delivered);
  metric("crowd_activation_push_failures_total", "counter", "Deliveries that failed and will be retried.",
         s.push_attempts_failed);
  metric("crowd_activation_push_bytes_total", "counter", "Payload bytes of delivered pushes.", s.push_bytes);
  metric("crowd_activation_crowds_expired_total", "counter", "Crowds found expired by the worker.", s.crowds_expired);
}

Reply Api::metrics_text() {
  Reply r;
  r.message.result(http::status::ok);
  r.message.set(http::field::content_type, "text/plain; version=0.0.4");
  const auto view = store_.view();
  r.message.body() = metrics_.render(view.get(), store_.wal_bytes());
  if (!view->id_spaces().empty()) {
    // ID types' names are [a-z][a-z0-9_]*: safe as label values unescaped.
    auto& b = r.message.body();
    b += "# HELP crowd_ids IDs linked to users, by ID type (uid excluded).\n# TYPE crowd_ids gauge\n";
    for (const auto& named : view->id_spaces().all()) {
      b += "crowd_ids{id_type=\"" + named.name + "\"} " + std::to_string(named.space->size()) + "\n";
    }
    b += "# HELP crowd_id_bytes Memory of each ID type's dictionary (keys, hash, per-user lists).\n"
         "# TYPE crowd_id_bytes gauge\n";
    for (const auto& named : view->id_spaces().all()) {
      b += "crowd_id_bytes{id_type=\"" + named.name + "\"} " + std::to_string(named.space->memory_bytes()) + "\n";
    }
    b += "# HELP crowd_uidless_users Users without a uid (made from other IDs only).\n"
         "# TYPE crowd_uidless_users gauge\n";
    b += "crowd_uidless_users " + std::to_string(view->uidless().cardinality) + "\n";
  }
  append_activation_metrics(*view, r.message.body());
  if (unions_ != nullptr) {
    const auto s = unions_->stats();
    auto& b = r.message.body();
    b += "# HELP crowd_union_cache_lookups Unions of 2+ tags looked up in the cache.\n"
         "# TYPE crowd_union_cache_lookups counter\n";
    b += "crowd_union_cache_lookups{result=\"hit\"} " + std::to_string(s.hits) + "\n";
    b += "crowd_union_cache_lookups{result=\"miss\"} " + std::to_string(s.misses) + "\n";
    b += "# HELP crowd_union_cache_bytes Bytes of cached unions.\n# TYPE crowd_union_cache_bytes gauge\n";
    b += "crowd_union_cache_bytes " + std::to_string(s.bytes) + "\n";
  }
  if (options_.retention != nullptr) {
    auto& b = r.message.body();
    b += "# HELP crowd_retention_refused_total Retention runs refused for dropping more than 25% of the dated "
         "days (nothing dropped; docs/operations.md).\n# TYPE crowd_retention_refused_total counter\n";
    b += "crowd_retention_refused_total " + std::to_string(options_.retention->refused()) + "\n";
  }
  if (options_.audit != nullptr) {
    const auto s = options_.audit->stats();
    auto& b = r.message.body();
    b += "# HELP crowd_audit_log_failing 1 while the audit log cannot be written: exports and audited writes "
         "answer 503.\n# TYPE crowd_audit_log_failing gauge\n";
    b += "crowd_audit_log_failing " + std::to_string(s.failing ? 1 : 0) + "\n";
    b += "# HELP crowd_audit_write_failures_total Audit lines that could not be written.\n"
         "# TYPE crowd_audit_write_failures_total counter\n";
    b += "crowd_audit_write_failures_total " + std::to_string(s.write_failures) + "\n";
    b += "# HELP crowd_audit_log_bytes Bytes in the current audit log file.\n# TYPE crowd_audit_log_bytes gauge\n";
    b += "crowd_audit_log_bytes " + std::to_string(s.bytes) + "\n";
    b += "# HELP crowd_audit_rotations_total Audit log rotations (--audit-max-mb).\n"
         "# TYPE crowd_audit_rotations_total counter\n";
    b += "crowd_audit_rotations_total " + std::to_string(s.rotations) + "\n";
    b += "# HELP crowd_audit_unauthenticated_total Requests to audited routes refused 401, counted here instead "
         "of logged.\n# TYPE crowd_audit_unauthenticated_total counter\n";
    b += "crowd_audit_unauthenticated_total " +
         std::to_string(unauthenticated_refusals_.load(std::memory_order_relaxed)) + "\n";
  }
  return r;
}

Reply Api::snapshot() {
  if (!store_.persistent()) {
    return error_reply(bad_request("the server runs without --data-dir: there is nowhere to write a snapshot"));
  }
  SnapshotInfo info;
  std::string error;
  if (!store_.snapshot(info, error)) return error_reply(unavailable("snapshot failed: " + error));
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("bytes").number(info.bytes).raw(",").key("took_us").number(info.micros).raw(",").key("path").string(
      info.path);
  w.raw("}");
  return json_reply(http::status::ok, std::move(body));
}

// Tag names can hold personal data ("email:ann@example.com") and used to
// outlive the erasure of everyone who had them. Pruning drops the names no
// user holds from the dictionary (Index::drop_empty_tags) and writes a
// snapshot at once, under the writer lock (Store::bulk_load): the snapshot,
// not a log record, makes it durable, and it truncates the log whose records
// still name the tags. Without --data-dir the prune is in memory only.
Reply Api::prune_tags(Clock::time_point start) {
  uint64_t dropped = 0;
  std::string error;
  const bool durable = store_.bulk_load([&dropped](Index& index) { dropped = index.drop_empty_tags(); }, error);
  if (!durable) return error_reply(unavailable("pruned in memory, but the snapshot failed: " + error));
  std::string body;
  JsonWriter w(body);
  w.raw("{").key("dropped").number(dropped).raw(",").key("snapshot").boolean(store_.persistent());
  w.raw(",").key("took_us").number(micros_since(start)).raw("}");
  return json_reply(http::status::ok, std::move(body));
}

Reply Api::openapi() {
  Reply r;
  r.message.result(http::status::ok);
  r.message.set(http::field::content_type, "application/json");
  r.message.body() = std::string(openapi_document());
  return r;
}

}  // namespace crowd::server
