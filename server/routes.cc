// The route table: every route crowdd answers, one row each (route.h says
// what a row holds and what is derived from it). Adding a route is a row
// here and its handler; a test fails until docs/openapi.json describes it
// (tests/server_routes_test.cc, tests/openapi/).
//
// Scopes (access.h): read for counts, listings and profiles; export for ID
// lists in any format; write for anything that changes the index or a saved
// crowd; admin for operations; none for liveness and the API's description.
#include "server/api.h"
#include "server/call.h"

namespace crowd::server {
namespace {

using http::verb;

// URL query parameters, per route that reads any.
constexpr std::string_view kCountParams[] = {"q", "lenient", "as_of", "estimate"};
constexpr std::string_view kIdsParams[] = {"q", "lenient", "as_of", "format", "limit", "cursor", "id_type"};
constexpr std::string_view kTagsParams[] = {"prefix", "limit", "offset", "empty", "search", "sort"};
constexpr std::string_view kMatchParams[] = {"id_type", "hash", "save_as"};
constexpr std::string_view kReportParams[] = {"campaign"};
constexpr std::span<const std::string_view> kNone;

}  // namespace

std::span<const Route> Api::routes() {
  using A = Audited;
  using B = Budgeted;
  // clang-format off
  static const Route kRoutes[] = {
    // Liveness, operations and the API's own description.
    {verb::get, "/healthz", kScopeNone, A::kNo, B::kNo, kNoBody, kNone,
     [](Api& a, Exchange&) { return a.health(); }, "liveness and size"},
    {verb::get, "/metrics", kScopeAdmin, A::kNo, B::kNo, kNoBody, kNone,
     [](Api& a, Exchange&) { return a.metrics_text(); }, "Prometheus metrics"},
    {verb::get, "/v1/openapi.json", kScopeNone, A::kNo, B::kNo, kNoBody, kNone,
     [](Api& a, Exchange&) { return a.openapi(); }, "this API as an OpenAPI 3.1 document"},
    {verb::post, "/v1/admin/snapshot", kScopeAdmin, A::kNo, B::kNo, kIgnoredBody, kNone,
     [](Api& a, Exchange&) { return a.snapshot(); }, "write a snapshot now"},
    {verb::post, "/v1/admin/tags/prune", kScopeAdmin, A::kYes, B::kNo, kIgnoredBody, kNone,
     [](Api& a, Exchange& x) { return a.prune_tags(x.start); }, "drop tags no user holds, then snapshot"},

    // Queries (api_query.cc).
    {verb::get, "/v1/count", kScopeRead, A::kNo, B::kYes, kNoBody, kCountParams,
     [](Api& a, Exchange& x) { return a.count_get(x.url, x.start); }, "a crowd's size"},
    {verb::post, "/v1/count", kScopeRead, A::kNo, B::kYes, kQueryBody, kNone,
     [](Api& a, Exchange& x) { return a.count_post(x.req, x.start); }, "a crowd's size"},
    {verb::get, "/v1/ids", kScopeExport, A::kYes, B::kYes, kNoBody, kIdsParams,
     [](Api& a, Exchange& x) { return a.ids_get(x.url, x.call, x.start); }, "a crowd's IDs: a page, CSV or Roaring"},
    {verb::post, "/v1/ids", kScopeExport, A::kYes, B::kYes, kQueryBody, kNone,
     [](Api& a, Exchange& x) { return a.ids_post(x.req, x.call, x.start); }, "a page of a crowd's IDs"},

    // The dictionary (api_info.cc).
    {verb::get, "/v1/tags", kScopeRead, A::kNo, B::kYes, kNoBody, kTagsParams,
     [](Api& a, Exchange& x) { return a.tags(x.url); }, "tags by prefix, with counts"},
    {verb::delete_, "/v1/tags/{tag}", kScopeAdmin, A::kYes, B::kNo, kNoBody, kNone,
     [](Api& a, Exchange& x) { return a.tag_delete(x.path_param("tag")); }, "remove a tag no user holds"},
    {verb::get, "/v1/fields", kScopeRead, A::kNo, B::kYes, kNoBody, kNone,
     [](Api& a, Exchange&) { return a.fields(); }, "fields with labels, kinds, tag and user counts"},
    // The tag library (api_fields.cc).
    {verb::get, "/v1/fields/{field}", kScopeRead, A::kNo, B::kYes, kNoBody, kNone,
     [](Api& a, Exchange& x) { return a.field_get(x.path_param("field")); }, "one field: metadata and values"},
    {verb::put, "/v1/fields/{field}", kScopeAdmin, A::kYes, B::kNo, kFieldBody, kNone,
     [](Api& a, Exchange& x) { return a.field_put(x.req, x.path_param("field")); },
     "label, describe and type a field (exclusive or multi), label its values"},
    {verb::delete_, "/v1/fields/{field}", kScopeAdmin, A::kYes, B::kNo, kNoBody, kNone,
     [](Api& a, Exchange& x) { return a.field_delete(x.path_param("field")); }, "forget a field's metadata"},

    // Writes (api_write.cc).
    {verb::post, "/v1/ingest", kScopeWrite, A::kYes, B::kNo, kServerMaxBody, kNone,
     [](Api& a, Exchange& x) { return a.ingest(x.req, x.call); }, "bulk NDJSON or CSV"},
    {verb::post, "/v1/assign", kScopeWrite, A::kYes, B::kNo, kServerMaxBody, kNone,
     [](Api& a, Exchange& x) { return a.assign(x.req, x.call); }, "add and remove tags and values"},
    {verb::delete_, "/v1/users/{id}", kScopeWrite, A::kYes, B::kNo, kNoBody, kNone,
     [](Api& a, Exchange& x) { return a.delete_user(x.path_param("id"), x.call); }, "erase a user"},

    // Identity (api_identity.cc, docs/identity.md).
    {verb::get, "/v1/id-types", kScopeRead, A::kNo, B::kNo, kNoBody, kNone,
     [](Api& a, Exchange&) { return a.id_types_list(); }, "the ID types, with their ID counts"},
    {verb::put, "/v1/id-types/{name}", kScopeAdmin, A::kYes, B::kNo, kQueryBody, kNone,
     [](Api& a, Exchange& x) { return a.id_type_put(x.req, x.path_param("name"), x.call); }, "define an ID type"},
    {verb::get, "/v1/users/{id}", kScopeExport, A::kYes, B::kNo, kNoBody, kNone,
     [](Api& a, Exchange& x) { return a.user_get("uid", x.path_param("id"), x.call); },
     "one user: IDs, tags, values, days, saved crowds"},
    {verb::get, "/v1/users/{id_type}/{id}", kScopeExport, A::kYes, B::kNo, kNoBody, kNone,
     [](Api& a, Exchange& x) { return a.user_get(x.path_param("id_type"), x.path_param("id"), x.call); },
     "one user, found by an ID of any type"},
    {verb::delete_, "/v1/users/{id_type}/{id}", kScopeWrite, A::kYes, B::kNo, kNoBody, kNone,
     [](Api& a, Exchange& x) { return a.user_delete(x.path_param("id_type"), x.path_param("id"), x.call); },
     "erase a user and every linked ID"},
    {verb::post, "/v1/admin/users/merge", kScopeAdmin, A::kYes, B::kNo, kQueryBody, kNone,
     [](Api& a, Exchange& x) { return a.users_merge(x.req, x.call); }, "merge two users (tags, values, IDs)"},
    // save_as also needs write: checked by the handler.
    {verb::post, "/v1/match", kScopeRead, A::kYes, B::kNo, kServerMaxBody, kMatchParams,
     [](Api& a, Exchange& x) { return a.match(x.req, x.url, x.call, x.start); },
     "match an uploaded ID list (custom audience), optionally saved as a crowd"},
    {verb::post, "/v1/membership", kScopeExport, A::kYes, B::kYes, kQueriesBody, kNone,
     [](Api& a, Exchange& x) { return a.membership(x.req, x.call, x.start); },
     "which saved crowds and tags each of a batch of IDs is in"},

    // Analytics (api_<route>.cc).
    {verb::post, "/v1/insight", kScopeRead, A::kNo, B::kYes, kQueryBody, kNone,
     [](Api& a, Exchange& x) { return a.insight(x.req, x.start); }, "a crowd's profile (TGI)"},
    {verb::post, "/v1/overlap", kScopeRead, A::kNo, B::kYes, kQueriesBody, kNone,
     [](Api& a, Exchange& x) { return a.overlap(x.req, x.start); }, "how crowds overlap"},
    {verb::post, "/v1/flow", kScopeRead, A::kNo, B::kYes, kQueriesBody, kNone,
     [](Api& a, Exchange& x) { return a.flow(x.req, x.start); }, "movement between layers"},
    {verb::post, "/v1/funnel", kScopeRead, A::kNo, B::kYes, kQueriesBody, kNone,
     [](Api& a, Exchange& x) { return a.funnel(x.req, x.start); }, "nested steps"},
    // save_as also needs write, and is audited: checked by the handler.
    {verb::post, "/v1/lookalike", kScopeRead, A::kNo, B::kYes, kQueryBody, kNone,
     [](Api& a, Exchange& x) { return a.lookalike(x.req, x.call, x.start); }, "lookalike expansion"},
    {verb::post, "/v1/stats", kScopeRead, A::kNo, B::kYes, kQueryBody, kNone,
     [](Api& a, Exchange& x) { return a.stats(x.req, x.start); }, "a numeric attribute over a crowd"},

    // Saved crowds (api_crowds.cc).
    {verb::get, "/v1/crowds", kScopeRead, A::kNo, B::kYes, kNoBody, kNone,
     [](Api& a, Exchange& x) { return a.crowd_list(x.start); }, "every saved crowd"},
    {verb::get, "/v1/crowds/{name}", kScopeRead, A::kNo, B::kYes, kNoBody, kNone,
     [](Api& a, Exchange& x) { return a.crowd_get(x.path_param("name"), x.call, x.start); }, "a saved crowd"},
    {verb::put, "/v1/crowds/{name}", kScopeWrite, A::kYes, B::kYes, kQueryBody, kNone,
     [](Api& a, Exchange& x) { return a.crowd_put(x.req, x.path_param("name"), x.call, x.start); },
     "draw and save a crowd"},
    {verb::delete_, "/v1/crowds/{name}", kScopeWrite, A::kYes, B::kYes, kNoBody, kNone,
     [](Api& a, Exchange& x) { return a.crowd_delete(x.path_param("name"), x.call); }, "delete a saved crowd"},
    {verb::post, "/v1/crowds/{name}/refresh", kScopeWrite, A::kYes, B::kYes, kIgnoredBody, kNone,
     [](Api& a, Exchange& x) { return a.crowd_refresh(x.path_param("name"), x.call, x.start); },
     "draw a saved crowd again"},

    // Activation (api_activation.cc, docs/activation.md).
    {verb::patch, "/v1/crowds/{name}", kScopeWrite, A::kYes, B::kNo, kQueryBody, kNone,
     [](Api& a, Exchange& x) { return a.crowd_patch(x.req, x.path_param("name"), x.call, x.start); },
     "a saved crowd's schedule, expiry, hold-out and destinations"},
    {verb::get, "/v1/crowds/{name}/versions", kScopeRead, A::kNo, B::kNo, kNoBody, kNone,
     [](Api& a, Exchange& x) { return a.crowd_versions(x.path_param("name")); }, "a saved crowd's versions"},
    {verb::post, "/v1/crowds/{name}/push", kScopeExport, A::kYes, B::kNo, kQueryBody, kNone,
     [](Api& a, Exchange& x) { return a.crowd_push(x.req, x.path_param("name"), x.call); },
     "push a saved crowd to a destination (full, or adds and removes)"},
    {verb::get, "/v1/crowds/{name}/pushes", kScopeRead, A::kNo, B::kNo, kNoBody, kNone,
     [](Api& a, Exchange& x) { return a.crowd_pushes(x.path_param("name")); }, "a saved crowd's pushes"},
    {verb::get, "/v1/crowds/{name}/report", kScopeRead, A::kNo, B::kYes, kNoBody, kReportParams,
     [](Api& a, Exchange& x) { return a.crowd_report(x.path_param("name"), x.url); },
     "a campaign's results per pushed version, with the lift over the hold-out"},
    {verb::post, "/v1/feedback", kScopeWrite, A::kYes, B::kNo, kServerMaxBody, kNone,
     [](Api& a, Exchange& x) { return a.feedback(x.req, x.call); },
     "campaign events (impressions, clicks, orders) by any ID type"},
    {verb::get, "/v1/destinations", kScopeRead, A::kNo, B::kNo, kNoBody, kNone,
     [](Api& a, Exchange&) { return a.destination_list(); }, "every push destination"},
    {verb::get, "/v1/destinations/{name}", kScopeRead, A::kNo, B::kNo, kNoBody, kNone,
     [](Api& a, Exchange& x) { return a.destination_get(x.path_param("name")); }, "a push destination"},
    {verb::put, "/v1/destinations/{name}", kScopeAdmin, A::kYes, B::kNo, kQueryBody, kNone,
     [](Api& a, Exchange& x) { return a.destination_put(x.req, x.path_param("name"), x.call); },
     "define a push destination (a directory or a webhook)"},
    {verb::delete_, "/v1/destinations/{name}", kScopeAdmin, A::kYes, B::kNo, kNoBody, kNone,
     [](Api& a, Exchange& x) { return a.destination_delete(x.path_param("name"), x.call); },
     "delete a push destination"},
  };
  // clang-format on
  return kRoutes;
}

}  // namespace crowd::server
