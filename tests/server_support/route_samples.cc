#include "tests/server_support/route_samples.h"

#include <nlohmann/json.hpp>

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

std::vector<RouteSample> route_samples() {
  using V = http::verb;
  const std::string json_type = "application/json";
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
      {V::get, "/v1/ids?q=vip&limit=5", ""},
      {V::get, "/v1/ids?q=vip&format=csv", ""},
      {V::get, "/v1/ids?q=vip&format=roaring", ""},
      {V::post, "/v1/ids", R"({"q": "member:brand_x", "limit": 3, "cursor": null})"},
      // The user above 2^53 and user 402: an ID as a string, then a number.
      {V::get, "/v1/ids?q=vip%20AND%20NOT%20city:*", ""},
      {V::get, "/v1/ids?q=vip&limit=5", "", json_type, 401, ""},
      {V::get, "/v1/ids?q=vip&format=csv", "", json_type, 403, "read"},
      {V::get, "/v1/tags?prefix=city:&limit=2", ""},
      {V::get, "/v1/fields", ""},
      {V::get, "/v1/fields", "{}", json_type, 413},  // a GET takes no body
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
      // Refusals of any route.
      {V::get, "/v1/nothing", "", json_type, 404},
      {V::patch, "/v1/count", "", json_type, 405},
      {V::post, "/v1/count", std::string(300'000, ' '), json_type, 413},
      {V::get, "/v1/count?q=vip&qq=1", "", json_type, 400},
      // Operations, and an erasure last.
      {V::post, "/v1/admin/snapshot", ""},
      {V::post, "/v1/admin/tags/prune", ""},
      {V::delete_, "/v1/users/0x1", "", json_type, 400},
      {V::delete_, "/v1/users/402", ""},
      {V::delete_, "/v1/users/402", "", json_type, 404},
  };
}

std::string sample_tokens() {
  std::string text;
  for (const std::string name : {"read", "export", "write", "admin"}) text += name + " " + name + " " + token_of(name) + "\n";
  text += "all read,export,write,admin " + token_of("all") + "\n";
  return text;
}

std::string token_of(const std::string& name) { return "sample-token-of-" + name + "-0123456789"; }

}  // namespace crowd::test
