#include "tests/server_support/api_harness.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "server/call.h"

namespace crowd::test {

namespace http = boost::beast::http;

ApiHarness::ApiHarness(HarnessOptions options) {
  char pattern[] = "/tmp/crowd-harness-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  std::string error;
  StoreOptions store_options;
  store_options.data_dir = dir_ + "/data";
  store_ = Store::open(store_options, error);
  if (!store_) throw std::runtime_error("store: " + error);
  server::ApiOptions api_options;
  if (!options.tokens.empty()) {
    tokens_ = server::TokenTable::parse(options.tokens, error);
    if (!tokens_) throw std::runtime_error("tokens: " + error);
    api_options.tokens = &*tokens_;
  }
  if (options.audit) {
    audit_path_ = options.audit_file.empty() ? dir_ + "/audit.log" : options.audit_file;
    audit_ = server::AuditLog::open(audit_path_, options.audit_options, error);
    if (!audit_) throw std::runtime_error("audit: " + error);
    api_options.audit = audit_.get();
  }
  api_options.min_export_size = options.min_export_size;
  api_options.max_body = options.max_body;
  api_ = std::make_unique<server::Api>(*store_, metrics_, api_options);
}

ApiHarness::~ApiHarness() {
  api_.reset();
  audit_.reset();
  store_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

ApiResult ApiHarness::call(http::verb method, const std::string& target, const std::string& body,
                           const std::string& content_type, const std::string& token) {
  server::Request req{method, target, 11};
  if (!body.empty()) req.set(http::field::content_type, content_type);
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  req.body() = body;
  req.prepare_payload();
  server::Call call;
  server::Reply reply = api_->handle(req, call);
  ApiResult r;
  r.status = reply.message.result_int();
  r.body = reply.message.body();
  if (reply.stream) {
    std::string chunk;
    while (reply.stream->next(chunk)) r.body += chunk;
  }
  r.content_type = std::string(reply.message[http::field::content_type]);
  r.allow = std::string(reply.message[http::field::allow]);
  r.www_authenticate = std::string(reply.message[http::field::www_authenticate]);
  return r;
}

std::vector<std::string> ApiHarness::audit_lines() const {
  std::vector<std::string> lines;
  std::ifstream in(audit_path_);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace crowd::test
