#include "tests/server_support/route_samples.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <stdexcept>

namespace crowd::test {

namespace http = boost::beast::http;
using json = nlohmann::json;

std::string sample_population() {
  static const char* const kCities[] = {"hangzhou", "shanghai", "杭州"};
  static const char* const kStates[] = {"A", "I", "P", "L"};
  std::string out;
  for (int id = 1; id <= 300; ++id) {
    json line{{"id", id}};
    json tags = {id % 2 ? "gender:female" : "gender:male", std::string("city:") + kCities[id % 3],
                 std::string("aipl:brand_x:") + kStates[id % 4]};
    if (id % 5 == 0) tags.push_back("vip");
    if (id % 7 == 0) tags.push_back("member:brand_x");
    line["tags"] = tags;
    line["values"] = {{"spend_90d", id * 7}, {"recency_days", id % 30}};
    if (id % 3 == 0) line["events"] = {{{"tag", "cat:7:buy"}, {"day", "2026-11-25"}}};
    out += line.dump() + "\n";
  }
  // One user with an ID above 2^53: written as a decimal string.
  out += R"({"id": "18446744073709551615", "tags": ["vip", "gender:female"]})"
         "\n";
  return out;
}

namespace {

// Records that name users by IDs of other types (issue 15, docs/identity.md),
// sent once the ID types exist: users 1 to 3 gain IDs (a phone given plain
// with "hash": true, the same kind of phone given as its SHA-256 hex), and
// two users are made from IDs alone, with no uid.
std::string identity_records() {
  return R"({"id": 1, "ids": {"oaid": "oaid-0001", "phone_sha256": "+86 138-0013-8000", "device_no": "90001"},)"
         R"( "hash": true, "tags": ["app:installed"]})"
         "\n"
         R"({"id": 2, "ids": {"oaid": ["oaid-0002a", "oaid-0002b"]}, "tags": ["app:installed"]})"
         "\n"
         R"({"id": 3, "ids": {"phone_sha256": "8ecd16c28453591a8b6576585086c0c05dc3f929c75bb2923948201fef2b79fb"},)"
         R"( "tags": ["app:installed"]})"
         "\n"
         R"({"ids": {"oaid": "oaid-0301", "device_no": "90301"}, "tags": ["app:installed", "gender:female"],)"
         R"( "values": {"spend_90d": 12}})"
         "\n"
         R"({"ids": {"oaid": "oaid-0302", "phone_sha256": "13700137000"}, "hash": true, "tags": ["app:installed"],)"
         R"( "events": [{"tag": "cat:7:buy", "day": "2026-11-25"}]})"
         "\n";
}

// SHA-256 of "8613800138000", user 1's phone normalised.
constexpr const char* kPhoneOfUser1 = "bf08aacce7f9b2452863cf99373043c3333f0e3127f1f787c4abb46ab6cf2b83";

// A fresh, empty, writable directory for the file destination's pushes,
// made once per process and removed at its exit (it stays empty: the
// in-process server's activation worker is not started, so pushes stay
// pending and nothing is written into it).
std::string push_directory() {
  static char dir[] = "/tmp/crowd-route-samples-XXXXXX";
  static const bool made = [] {
    if (::mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp failed");
    std::atexit([] { ::rmdir(dir); });
    return true;
  }();
  (void)made;
  return dir;
}

// The UTC date `days_ago` days before today, as YYYY-MM-DD: feedback events
// must not be dated past today (plus --max-future-days), so samples never
// carry a fixed date that would go stale.
std::string utc_date(int days_ago) {
  const std::time_t t = std::time(nullptr) - static_cast<std::time_t>(days_ago) * 86'400;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

// One feedback event of campaign c123 on `day`: `fields` are its other
// members, as JSON object members.
std::string feedback_event(const std::string& fields, const std::string& day) {
  return "{" + fields + R"(, "campaign": "c123", "day": ")" + day + "\"}\n";
}

// Campaign events for POST /v1/feedback (docs/activation.md): by uid and by
// OAID, an order with a value, a repeated event_id (a duplicate) and a uid no
// user has (counted as unknown).
std::string feedback_events() {
  const std::string yesterday = utc_date(1), today = utc_date(0);
  return feedback_event(R"("id_type": "uid", "id": 5, "event": "impression")", yesterday) +
         feedback_event(R"("id_type": "uid", "id": "5", "event": "click", "event_id": "clk-5-1")", yesterday) +
         feedback_event(R"("id_type": "uid", "id": 5, "event": "order", "value": 199.5, "event_id": "ord-5-1")",
                        today) +
         feedback_event(R"("id_type": "uid", "id": 5, "event": "order", "value": 199.5, "event_id": "ord-5-1")",
                        today) +
         feedback_event(R"("id_type": "uid", "id": 10, "event": "impression")", today) +
         feedback_event(R"("id_type": "oaid", "id": "oaid-0001", "event": "impression")", yesterday) +
         feedback_event(R"("id_type": "uid", "id": 999999, "event": "click")", today);
}

}  // namespace

std::vector<RouteSample> route_samples() {
  using V = http::verb;
  const std::string json_type = "application/json";
  const std::string ndjson = "application/x-ndjson";
  return {
      // Writes first: the population, then small ones.
      {V::post, "/v1/ingest", sample_population(), "application/x-ndjson"},
      {V::post, "/v1/ingest", "400,vip\n401,city:hangzhou\n", "text/csv"},
      {V::post, "/v1/ingest", "400,vip\n", "application/xml", 415},
      {V::post, "/v1/ingest", "{\"id\": 1}\n{\"id\": -1, \"tags\": [\"x\"]}\n", "application/x-ndjson", 400},
      {V::post, "/v1/assign", R"({"add": [{"id": 402, "tags": ["vip"], "values": {"spend_90d": 5}}],
                                  "remove": [{"id": 400, "tags": ["vip"]}]})"},
      {V::post, "/v1/ingest", "403,vip\n", "text/csv; charset=utf-8"},
      {V::get, "/healthz", ""},
      {V::get, "/healthz", "", json_type, 200, ""},  // public: no token needed
      {V::get, "/metrics", ""},
      {V::get, "/v1/openapi.json", "", json_type, 200, ""},
      // Queries.
      {V::get, "/v1/count?q=gender:female%20AND%20vip", ""},
      {V::get, "/v1/count?q=gender:femal", "", json_type, 400},  // unknown_tag, with suggestions
      {V::get, "/v1/count?q=(vip", "", json_type, 400},          // parse_error, with a position
      {V::post, "/v1/count", R"({"q": "city:* AND NOT vip", "lenient": false})"},
      {V::get, "/v1/count?q=gender:female%20AND%20vip&estimate=true", ""},
      {V::get, "/v1/count?q=vip&estimate=maybe", "", json_type, 400},
      {V::post, "/v1/count", R"({"q": "gender:female AND NOT vip", "estimate": true})"},
      {V::get, "/v1/ids?q=vip&limit=5", ""},
      {V::get, "/v1/ids?q=vip&format=csv", ""},
      {V::get, "/v1/ids?q=vip&format=roaring", ""},
      {V::post, "/v1/ids", R"({"q": "member:brand_x", "limit": 3, "cursor": null})"},
      // The user above 2^53 and user 402: an ID as a string, then a number.
      {V::get, "/v1/ids?q=vip%20AND%20NOT%20city:*", ""},
      {V::get, "/v1/ids?q=vip&limit=5", "", json_type, 401, ""},
      {V::get, "/v1/ids?q=vip&format=csv", "", json_type, 403, "read"},
      {V::get, "/v1/tags?prefix=city:&limit=2", ""},
      // A misspelt tag given and taken back: empty, listed as such, removed.
      {V::post, "/v1/assign", R"({"add": [{"id": 402, "tags": ["city:hangzho"]}]})"},
      {V::post, "/v1/assign", R"({"remove": [{"id": 402, "tags": ["city:hangzho"]}]})"},
      {V::get, "/v1/tags?prefix=city:&empty=true", ""},
      {V::delete_, "/v1/tags/city:hangzhou", "", json_type, 409},  // held by users: tag_not_empty
      {V::delete_, "/v1/tags/city:hangzho", ""},
      {V::delete_, "/v1/tags/city:hangzho", "", json_type, 404},
      {V::get, "/v1/fields", ""},
      {V::get, "/v1/fields", "{}", json_type, 413},  // a GET takes no body
      // The tag library.
      {V::put, "/v1/fields/city", R"({"label": "城市", "description": "where the user lives",
                                       "values": {"hangzhou": "杭州", "beijing": {"label": "北京", "parent": "region:north"}}})"},
      {V::put, "/v1/fields/gender", R"({"label": "性别", "kind": "exclusive"})"},
      {V::put, "/v1/fields/city", R"({"kind": "single"})", json_type, 400},
      {V::get, "/v1/fields/city", ""},
      {V::get, "/v1/fields/nothing", "", json_type, 404},
      {V::get, "/v1/tags?search=%E6%9D%AD&sort=coverage", ""},
      {V::delete_, "/v1/fields/gender", ""},
      {V::delete_, "/v1/fields/gender", "", json_type, 404},
      {V::get, "/v1/count?q=within(vip,%207d)&as_of=2026-12-01", ""},
      // Analytics.
      {V::post, "/v1/insight", R"({"q": "vip", "fields": ["city", "gender"], "top": 2, "sort": "tgi"})"},
      {V::post, "/v1/overlap", R"({"crowds": {"vip": "vip", "members": "member:brand_x", "women": "gender:female"}})"},
      {V::post, "/v1/flow", R"({"from": {"A": "aipl:brand_x:A", "I": "aipl:brand_x:I"},
                                "to": {"P": "aipl:brand_x:P", "L": "aipl:brand_x:L"}})"},
      // Five crowds: no Venn regions (null).
      {V::post, "/v1/overlap", R"({"crowds": {"a": "vip", "b": "member:brand_x", "c": "gender:female",
                                              "d": "gender:male", "e": "city:hangzhou"}})"},
      {V::post, "/v1/funnel", R"({"steps": ["city:*", "gender:female", "vip"]})"},
      // A funnel that empties: ratios over 0 are null.
      {V::post, "/v1/funnel", R"({"steps": ["vip", "NOT vip", "city:*"]})"},
      {V::post, "/v1/stats", R"({"q": "vip", "attr": "spend_90d"})"},
      {V::post, "/v1/stats", R"({"q": "vip", "attr": "nope"})", json_type, 400},
      // No values in an empty crowd: the statistics are null.
      {V::post, "/v1/stats", R"({"q": "vip AND NOT vip", "attr": "spend_90d"})"},
      {V::post, "/v1/lookalike", R"({"seed": "member:brand_x", "size": 20, "fields": ["city", "gender", "aipl"]})"},
      {V::post, "/v1/lookalike", R"({"seed": "vip", "size": 10, "save_as": "vip_like"})"},
      // Saving needs the write scope too.
      {V::post, "/v1/lookalike", R"({"seed": "vip", "size": 10, "save_as": "vip_like"})", json_type, 403, "read"},
      // No candidate outside the seed: nothing found, no threshold.
      {V::post, "/v1/lookalike", R"({"seed": "vip", "size": 5, "candidates": "vip"})"},
      // Saved crowds.
      {V::put, "/v1/crowds/buyers", R"({"q": "within(cat:7:buy, 30d) OR vip"})", json_type, 201},
      {V::put, "/v1/crowds/buyers", R"({"q": "cat:7:buy OR vip", "lenient": true})"},
      {V::get, "/v1/crowds", ""},
      {V::get, "/v1/crowds/buyers", ""},
      {V::get, "/v1/crowds/nobody", "", json_type, 404},
      {V::post, "/v1/crowds/buyers/refresh", ""},
      {V::get, "/v1/crowds/vip_like", ""},
      {V::post, "/v1/crowds/vip_like/refresh", "{}"},
      {V::put, "/v1/crowds/a%20b", R"({"q": "vip"})", json_type, 400},  // a space in the name
      {V::delete_, "/v1/crowds/buyers", ""},
      // Identity (docs/identity.md). ID types are defined (admin) before any
      // record names one; a type never changes once defined.
      {V::get, "/v1/id-types", ""},  // uid only
      {V::put, "/v1/id-types/oaid", R"({"kind": "string", "max_length": 64})", json_type, 201},
      {V::put, "/v1/id-types/oaid", R"({"kind": "string", "max_length": 64})"},  // the same again: 200
      {V::put, "/v1/id-types/oaid", R"({"kind": "u64"})", json_type, 409},       // id_type_exists
      {V::put, "/v1/id-types/phone_sha256", R"({"kind": "sha256", "normalization": "phone"})", json_type, 201},
      {V::put, "/v1/id-types/device_no", R"({"kind": "u64"})", json_type, 201},
      {V::put, "/v1/id-types/Phone", R"({"kind": "sha256"})", json_type, 400},  // not [a-z][a-z0-9_]*
      {V::put, "/v1/id-types/imei_md5", R"({"kind": "md5"})", json_type, 403, "write"},
      {V::get, "/v1/id-types", ""},
      {V::post, "/v1/ingest", identity_records(), ndjson},
      // Line 2 names IDs of user 1 and of the first user without a uid: 409
      // id_conflict with its line, and line 1 is not applied either.
      {V::post, "/v1/ingest",
       "{\"id\": 4, \"tags\": [\"app:installed\"]}\n"
       "{\"ids\": {\"oaid\": \"oaid-0001\", \"device_no\": \"90301\"}, \"tags\": [\"vip\"]}\n",
       ndjson, 409},
      // A digest that is not one (a plain value needs "hash": true): 400 bad_line.
      {V::post, "/v1/ingest", "{\"ids\": {\"phone_sha256\": \"12ab\"}, \"tags\": [\"vip\"]}\n", ndjson, 400},
      {V::post, "/v1/assign", R"({"add": [{"ids": {"oaid": "oaid-0002a"}, "tags": ["app:paid"]}],
                                  "remove": [{"ids": {"oaid": "oaid-0301"}, "values": ["spend_90d"]}]})"},
      {V::post, "/v1/assign", R"({"add": [{"id": 5, "ids": {"oaid": "oaid-0001"}, "tags": ["app:paid"]}]})", json_type,
       409},
      // One user's view, by uid or by any ID.
      {V::get, "/v1/users/1", ""},
      {V::get, "/v1/users/oaid/oaid-0302", ""},  // no uid: "uid" is null
      {V::get, std::string("/v1/users/phone_sha256/") + kPhoneOfUser1, ""},
      {V::get, "/v1/users/uid/3", ""},
      {V::get, "/v1/users/oaid/oaid-9999", "", json_type, 404},
      {V::get, "/v1/users/imei_md5/1", "", json_type, 400},  // no such ID type
      {V::get, "/v1/users/1", "", json_type, 403, "read"},
      // Exports in an ID type: users without one are skipped, and counted.
      {V::post, "/v1/ids", R"({"q": "app:installed", "id_type": "oaid", "limit": 2})"},
      {V::get, "/v1/ids?q=app:installed&id_type=phone_sha256&limit=10", ""},
      {V::get, "/v1/ids?q=app:installed&id_type=oaid&format=csv", ""},
      {V::get, "/v1/ids?q=app:installed&format=csv", ""},  // uids: the two users without one skipped
      {V::get, "/v1/ids?q=app:installed&id_type=device_no&format=roaring", ""},
      {V::get, "/v1/ids?q=app:installed&id_type=oaid&format=roaring", "", json_type, 400},  // strings: csv only
      // An uploaded list: plain phones hashed here, with a blank line, a
      // duplicate (two spellings of one phone) and an invalid line.
      {V::post, "/v1/match?id_type=phone_sha256&hash=true",
       "+86 138-0013-8000\n13900139000\n8613900139000\n\nnot a phone\n", "text/plain"},
      {V::post, "/v1/match?id_type=oaid&save_as=app_list", R"(["oaid-0001", "oaid-0302", "oaid-9999"])"},
      // save_as needs the write scope too.
      {V::post, "/v1/match?id_type=oaid&save_as=app_list", R"(["oaid-0001"])", json_type, 403, "read"},
      {V::post, "/v1/match?id_type=oaid", "oaid-0001\n", "application/xml", 415},
      {V::post, "/v1/match?id_type=oaid&hash=true", "oaid-0001\n", "text/plain", 400},  // hash: digest types only
      {V::get, "/v1/crowds/app_list", ""},
      {V::get, "/v1/crowds", ""},
      {V::post, "/v1/crowds/app_list/refresh", "", json_type, 400},  // an upload is not drawn again
      {V::post, "/v1/membership", R"({"lookups": [{"id_type": "oaid", "id": "oaid-0001"}, {"id_type": "uid", "id": "2"},
                                                  {"id_type": "oaid", "id": "oaid-9999"}],
                                      "crowds": ["app_list", "vip_like"], "tags": ["vip", "app:installed"]})"},
      {V::post, "/v1/membership", R"({"id_type": "phone_sha256", "hash": true,
                                      "lookups": ["+86 138-0013-8000", "13700137000"], "tags": ["app:installed"]})"},
      {V::post, "/v1/membership", R"({"lookups": ["1"], "tags": ["vip"]})", json_type, 400},  // no id_type
      // Activation (docs/activation.md): destinations (admin), a crowd with a
      // schedule, expiry, hold-out and automatic destinations, pushes (202:
      // recorded, then delivered by the worker, which these in-process
      // samples never start, so they stay pending), feedback and a report.
      {V::put, "/v1/destinations/files", json{{"kind", "file"}, {"path", push_directory()}}.dump(), json_type, 201},
      {V::put, "/v1/destinations/files",
       json{{"kind", "file"}, {"path", push_directory()}, {"format", "csv"}, {"min_size", 1}}.dump()},  // replaced: 200
      {V::put, "/v1/destinations/hook", R"({"kind": "webhook", "url": "http://127.0.0.1:9/crowd/audiences?team=7",
                                           "headers": {"Authorization": "Bearer not-shown"}, "id_type": "oaid",
                                           "timeout_ms": 5000, "deadline_ms": 60000})",
       json_type, 201},
      {V::put, "/v1/destinations/spare", R"({"kind": "webhook", "url": "http://127.0.0.1:9/spare"})", json_type, 201},
      {V::put, "/v1/destinations/ftp", R"({"kind": "ftp", "url": "ftp://example.com/"})", json_type, 400},  // bad kind
      {V::put, "/v1/destinations/tls", R"({"kind": "webhook", "url": "https://example.com/"})", json_type, 400},
      {V::put, "/v1/destinations/rel", R"({"kind": "file", "path": "pushes"})", json_type, 400},  // not absolute
      {V::put, "/v1/destinations/a%20b", R"({"kind": "file", "path": "/tmp"})", json_type, 400},  // bad name
      {V::put, "/v1/destinations/spare", R"({"kind": "webhook", "url": "http://127.0.0.1:9/spare"})", json_type, 403,
       "write"},  // admin only
      {V::get, "/v1/destinations", ""},
      {V::get, "/v1/destinations/hook", ""},  // header names only, no query
      {V::get, "/v1/destinations/nowhere", "", json_type, 404},
      // A crowd with settings; bad settings are refused whole.
      {V::put, "/v1/crowds/campaign_vip",
       R"({"q": "vip OR app:installed", "refresh": "daily@02:00", "ttl": "30d", "holdout": 5, "push_to": ["files"]})",
       json_type, 201},
      {V::put, "/v1/crowds/campaign_x", R"({"q": "vip", "refresh": "hourly"})", json_type, 400},  // bad schedule
      // push_to naming no destination.
      {V::put, "/v1/crowds/campaign_x", R"({"q": "vip", "push_to": ["nowhere"]})", json_type, 400},
      {V::put, "/v1/crowds/campaign_x", R"({"q": "vip", "ttl": "30d", "expires_at": "2030-01-01"})", json_type, 400},
      {V::put, "/v1/crowds/campaign_x", R"({"q": "vip", "holdout": 60})", json_type, 400},
      {V::get, "/v1/crowds/campaign_vip", ""},
      {V::patch, "/v1/crowds/campaign_vip", R"({"refresh": "12h", "push_to": ["files", "hook"]})"},
      {V::patch, "/v1/crowds/campaign_vip", R"({"expires_at": null, "holdout": 10})"},
      {V::patch, "/v1/crowds/campaign_vip", R"({"q": "vip"})", json_type, 400},  // settings only
      {V::patch, "/v1/crowds/nobody", R"({"refresh": null})", json_type, 404},
      {V::patch, "/v1/crowds/campaign_vip", R"({"refresh": null})", json_type, 403, "read"},
      // Pushes: the first is full; asked again while it is outstanding, the
      // same push is answered (resent: true).
      {V::post, "/v1/crowds/campaign_vip/push", R"({"destination": "files"})", json_type, 202},
      {V::post, "/v1/crowds/campaign_vip/push", R"({"destination": "files", "mode": "full"})", json_type, 202},
      {V::post, "/v1/crowds/campaign_vip/push", R"({"destination": "hook", "mode": "full"})", json_type, 202},
      {V::post, "/v1/crowds/campaign_vip/push", R"({"destination": "nowhere"})", json_type, 404},
      {V::post, "/v1/crowds/nobody/push", R"({"destination": "files"})", json_type, 404},
      {V::post, "/v1/crowds/campaign_vip/push", R"({"destination": "files", "mode": "sideways"})", json_type, 400},
      {V::post, "/v1/crowds/campaign_vip/push", R"({"destination": "files"})", json_type, 403, "write"},
      {V::get, "/v1/crowds/campaign_vip/pushes", ""},
      {V::get, "/v1/crowds/nobody/pushes", "", json_type, 404},
      // Pushed: the hold-out cannot change any more.
      {V::patch, "/v1/crowds/campaign_vip", R"({"holdout": 20})", json_type, 409},
      {V::post, "/v1/crowds/campaign_vip/refresh", ""},
      {V::get, "/v1/crowds/campaign_vip/versions", ""},
      {V::get, "/v1/crowds/nobody/versions", "", json_type, 404},
      // Results flowing back.
      {V::post, "/v1/feedback", feedback_events(), ndjson},
      {V::post, "/v1/feedback", feedback_event(R"("id_type": "uid", "id": 5, "event": "like")", utc_date(0)), ndjson,
       400},
      // A month ahead: past today + --max-future-days.
      {V::post, "/v1/feedback", feedback_event(R"("id_type": "uid", "id": 5, "event": "click")", utc_date(-30)), ndjson,
       400},
      {V::post, "/v1/feedback", "id,event\n5,click\n", "text/csv", 415},
      {V::get, "/v1/crowds/campaign_vip/report?campaign=c123", ""},
      {V::get, "/v1/crowds/campaign_vip/report", "", json_type, 400},  // campaign is required
      {V::get, "/v1/crowds/nobody/report?campaign=c123", "", json_type, 404},
      {V::get, "/v1/crowds", ""},
      // A destination in a crowd's push_to, or with a push outstanding, is
      // not deleted; one nothing uses is.
      {V::delete_, "/v1/destinations/files", "", json_type, 409},
      {V::patch, "/v1/crowds/campaign_vip", R"({"push_to": []})"},
      {V::delete_, "/v1/destinations/hook", "", json_type, 409},  // its push is outstanding
      {V::delete_, "/v1/destinations/spare", ""},
      {V::delete_, "/v1/destinations/spare", "", json_type, 404},
      // Refusals of any route.
      {V::get, "/v1/nothing", "", json_type, 404},
      {V::patch, "/v1/count", "", json_type, 405},
      {V::post, "/v1/count", std::string(300'000, ' '), json_type, 413},
      {V::get, "/v1/count?q=vip&qq=1", "", json_type, 400},
      // Operations, and an erasure last.
      {V::post, "/v1/admin/snapshot", ""},
      {V::post, "/v1/admin/tags/prune", ""},
      // A merge: the user without a uid into user 3; again (one user
      // already: merged false); two users with a uid each cannot be one (409).
      {V::post, "/v1/admin/users/merge",
       R"({"from": {"id_type": "oaid", "id": "oaid-0302"}, "into": {"id_type": "uid", "id": "3"}})"},
      {V::post, "/v1/admin/users/merge",
       R"({"from": {"id_type": "oaid", "id": "oaid-0302"}, "into": {"id_type": "uid", "id": "3"}})"},
      {V::post, "/v1/admin/users/merge",
       R"({"from": {"id_type": "uid", "id": "1"}, "into": {"id_type": "uid", "id": "2"}})", json_type, 409},
      {V::delete_, "/v1/users/0x1", "", json_type, 400},
      {V::delete_, "/v1/users/402", ""},
      {V::delete_, "/v1/users/402", "", json_type, 404},
      // Erasure by any ID: the person and every linked ID.
      {V::delete_, std::string("/v1/users/phone_sha256/") + kPhoneOfUser1, ""},
      {V::delete_, "/v1/users/oaid/oaid-0001", "", json_type, 404},  // gone with user 1
      {V::delete_, "/v1/users/uid/2", ""},
      {V::delete_, "/v1/users/phone_sha256/12ab", "", json_type, 400},
  };
}

std::string sample_tokens() {
  std::string text;
  for (const std::string name : {"read", "export", "write", "admin"})
    text += name + " " + name + " " + token_of(name) + "\n";
  text += "all read,export,write,admin " + token_of("all") + "\n";
  return text;
}

std::string token_of(const std::string& name) { return "sample-token-of-" + name + "-0123456789"; }

}  // namespace crowd::test
