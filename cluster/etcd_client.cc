#include "cluster/etcd_client.h"

#include <nlohmann/json.hpp>

#include "cluster/base64.h"
#include "cluster/etcd_json.h"

namespace crowd::cluster {
namespace {

using json = nlohmann::json;

EtcdRange range_of(const json& j) {
  EtcdRange r;
  if (const auto h = j.find("header"); h != j.end()) r.revision = etcd_int(*h, "revision");
  if (const auto kvs = j.find("kvs"); kvs != j.end()) {
    for (const auto& kv : *kvs) r.kvs.push_back(etcd_kv(kv));
  }
  return r;
}

json put_request(std::string_view key, std::string_view value, int64_t lease) {
  json put = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0) put["lease"] = std::to_string(lease);
  return put;
}

template <typename T>
EtcdResult<T> failed(std::string error) {
  return EtcdResult<T>{std::nullopt, std::move(error)};
}

// A gateway answer's first line (streamed answers, such as keep-alives, are
// one JSON object a line) read by `read`, or why it cannot be.
template <typename T, typename Read>
EtcdResult<T> answer_of(const EtcdResult<std::string>& a, Read&& read) {
  if (!a.ok()) return failed<T>(a.error);
  const json j = json::parse(a->substr(0, a->find('\n')), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return failed<T>("etcd answered something that is not a JSON object");
  if (j.contains("error")) return failed<T>("etcd: " + j.value("error", ""));
  return EtcdResult<T>{read(j), {}};
}

// A transaction that puts when `compare` holds.
json guarded_put(json compare, std::string_view key, std::string_view value, int64_t lease) {
  return json{{"compare", json::array({std::move(compare)})},
              {"success", json::array({json{{"request_put", put_request(key, value, lease)}}})}};
}

// Whether a transaction's compare held (the gateway leaves out false).
bool succeeded(const json& j) { return j.value("succeeded", false); }

}  // namespace

int64_t etcd_int(const json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end()) return 0;
  if (it->is_string()) return std::stoll(it->get<std::string>());
  if (it->is_number_integer()) return it->get<int64_t>();
  return 0;
}

EtcdKv etcd_kv(const json& j) {
  EtcdKv kv;
  kv.key = base64_decode(j.value("key", "")).value_or("");
  kv.value = base64_decode(j.value("value", "")).value_or("");
  kv.create_revision = etcd_int(j, "create_revision");
  kv.mod_revision = etcd_int(j, "mod_revision");
  kv.version = etcd_int(j, "version");
  kv.lease = etcd_int(j, "lease");
  return kv;
}

std::string prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

EtcdClient::EtcdClient(const std::vector<std::string>& endpoints, std::chrono::milliseconds timeout)
    : endpoints_(endpoints), timeout_(timeout) {
  for (const auto& e : endpoints_) {
    const auto hp = split_host_port(e);
    clients_.push_back(hp ? std::make_unique<HttpClient>(hp->first, hp->second) : nullptr);
  }
}

EtcdClient::~EtcdClient() = default;

EtcdResult<std::string> EtcdClient::call(std::string_view target, const std::string& body) {
  std::string last_error = "no etcd endpoint";
  for (std::size_t tried = 0; tried < clients_.size(); ++tried) {
    const std::size_t i = (current_ + tried) % clients_.size();
    if (!clients_[i]) {
      last_error = "bad etcd endpoint '" + endpoints_[i] + "' (host:port)";
      continue;
    }
    HttpAnswer a = clients_[i]->post(target, body, timeout_);
    if (a.status == 0) {
      last_error = "etcd " + endpoints_[i] + ": " + a.error;
      continue;
    }
    if (a.status >= 500) {
      // No leader, or the member is not ready: another member may serve.
      last_error = "etcd " + endpoints_[i] + " answered " + std::to_string(a.status) + ": " + a.body;
      continue;
    }
    current_ = i;
    if (!a.ok()) return failed<std::string>("etcd answered " + std::to_string(a.status) + ": " + a.body);
    return EtcdResult<std::string>{std::move(a.body), {}};
  }
  return failed<std::string>(last_error);
}

EtcdResult<EtcdRange> EtcdClient::get(std::string_view key) {
  return answer_of<EtcdRange>(call("/v3/kv/range", json{{"key", base64_encode(key)}}.dump()), range_of);
}

EtcdResult<EtcdRange> EtcdClient::get_prefix(std::string_view prefix) {
  const json body = {{"key", base64_encode(prefix)}, {"range_end", base64_encode(prefix_range_end(prefix))}};
  return answer_of<EtcdRange>(call("/v3/kv/range", body.dump()), range_of);
}

EtcdResult<int64_t> EtcdClient::put(std::string_view key, std::string_view value, int64_t lease) {
  return answer_of<int64_t>(call("/v3/kv/put", put_request(key, value, lease).dump()),
                            [](const json& j) { return etcd_int(j.value("header", json::object()), "revision"); });
}

EtcdResult<bool> EtcdClient::create(std::string_view key, std::string_view value, int64_t lease) {
  json compare = {{"target", "CREATE"}, {"key", base64_encode(key)}, {"create_revision", "0"}, {"result", "EQUAL"}};
  return answer_of<bool>(call("/v3/kv/txn", guarded_put(std::move(compare), key, value, lease).dump()), succeeded);
}

EtcdResult<bool> EtcdClient::replace(std::string_view key, std::string_view value, int64_t mod_revision) {
  json compare = {{"target", "MOD"},
                  {"key", base64_encode(key)},
                  {"mod_revision", std::to_string(mod_revision)},
                  {"result", "EQUAL"}};
  return answer_of<bool>(call("/v3/kv/txn", guarded_put(std::move(compare), key, value, 0).dump()), succeeded);
}

EtcdResult<bool> EtcdClient::remove(std::string_view key) {
  return answer_of<bool>(call("/v3/kv/deleterange", json{{"key", base64_encode(key)}}.dump()),
                         [](const json& j) { return etcd_int(j, "deleted") > 0; });
}

EtcdResult<EtcdLease> EtcdClient::grant(int64_t ttl_seconds) {
  return answer_of<EtcdLease>(call("/v3/lease/grant", json{{"TTL", std::to_string(ttl_seconds)}}.dump()),
                              [](const json& j) { return EtcdLease{etcd_int(j, "ID"), etcd_int(j, "TTL")}; });
}

EtcdResult<int64_t> EtcdClient::keepalive(int64_t lease) {
  // The gateway streams keep-alive answers, each wrapped in {"result": ...};
  // one request gets one.
  return answer_of<int64_t>(call("/v3/lease/keepalive", json{{"ID", std::to_string(lease)}}.dump()),
                            [](const json& j) { return etcd_int(j.contains("result") ? j["result"] : j, "TTL"); });
}

EtcdResult<bool> EtcdClient::revoke(int64_t lease) {
  const auto a = call("/v3/lease/revoke", json{{"ID", std::to_string(lease)}}.dump());
  if (!a.ok()) {
    // An expired lease cannot be revoked: it is gone, which is what was asked.
    if (a.error.find("requested lease not found") != std::string::npos) return EtcdResult<bool>{false, {}};
    return failed<bool>(a.error);
  }
  return EtcdResult<bool>{true, {}};
}

}  // namespace crowd::cluster
