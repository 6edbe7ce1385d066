// ApiHarness: the real Api over a real Store, driven in process -- no socket,
// no child process -- so a test can send every route hundreds of requests in
// milliseconds. The store keeps its log and snapshots in a fresh temporary
// directory (removed at the end), so snapshot and persistence routes answer
// as they do in crowdd. End-to-end tests (tests/support/server_process.h)
// remain for what needs a socket: framing, limits, streaming, signals.
#pragma once

#include <boost/beast/http/verb.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "index/store.h"
#include "server/access.h"
#include "server/api.h"
#include "server/audit_log.h"
#include "server/metrics.h"

namespace crowd::test {

struct HarnessOptions {
  // A token table's text (access.h); empty: no access control.
  std::string tokens;
  bool audit = false;  // keep an audit log (audit_lines() reads it)
  server::AuditOptions audit_options;
  std::string audit_file;  // where the audit log goes (e.g. /dev/full); empty: in the temporary directory
  uint64_t min_export_size = 0;
  std::size_t max_body = 2'000'000;
};

struct ApiResult {
  int status = 0;
  std::string body;  // streamed replies drained whole
  std::string content_type;
  std::string allow;             // the Allow header of a 405
  std::string www_authenticate;  // of a 401
};

class ApiHarness {
 public:
  explicit ApiHarness(HarnessOptions options = {});
  ~ApiHarness();

  // One request through Api::handle. `token` goes into an Authorization:
  // Bearer header when not empty.
  ApiResult call(boost::beast::http::verb method, const std::string& target, const std::string& body = "",
                 const std::string& content_type = "application/json", const std::string& token = "");

  // The audit log's lines, parsed.
  [[nodiscard]] std::vector<std::string> audit_lines() const;
  // The audit log's path (rotated files are this plus ".1", ".2", ...).
  [[nodiscard]] const std::string& audit_path() const { return audit_path_; }
  [[nodiscard]] server::Api& api() { return *api_; }
  [[nodiscard]] Store& store() { return *store_; }

 private:
  std::string dir_;
  std::string audit_path_;
  std::unique_ptr<Store> store_;
  server::Metrics metrics_;
  std::optional<server::TokenTable> tokens_;
  std::unique_ptr<server::AuditLog> audit_;
  std::unique_ptr<server::Api> api_;
};

}  // namespace crowd::test
