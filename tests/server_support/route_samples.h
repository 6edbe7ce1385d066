// Route samples: a small population and, for every row of the route table, at
// least one request that succeeds on it (and some that fail on purpose), in
// an order that works (a crowd is saved before it is read, an ID type is
// defined before a record names it, a user erased last).
// tests/server_routes_test.cc checks each answer's status in process;
// tests/openapi/route_samples_main.cc prints the answers for the OpenAPI
// check (tests/openapi/check_openapi.py), so every route's real responses are
// validated against docs/openapi.json.
#pragma once

#include <boost/beast/http/verb.hpp>

#include <string>
#include <vector>

#include "tests/server_support/api_harness.h"

namespace crowd::test {

struct RouteSample {
  boost::beast::http::verb method;
  std::string target;
  std::string body;
  std::string content_type = "application/json";
  int status = 200;  // expected
  // The name of the token it is sent with (sample_tokens()); "": none.
  std::string token = "all";
};

// The population the samples expect: 300 users with tags, values and dated
// events, as one NDJSON ingest body.
[[nodiscard]] std::string sample_population();

// The samples, in the order they must be sent.
[[nodiscard]] std::vector<RouteSample> route_samples();

// A token table with one token per scope ("read", "export", "write",
// "admin") and one with all four ("all"); token_of(name) is its token.
[[nodiscard]] std::string sample_tokens();
[[nodiscard]] std::string token_of(const std::string& name);

}  // namespace crowd::test
