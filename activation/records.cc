#include "activation/records.h"

#include <nlohmann/json.hpp>

namespace crowd::activation {
namespace {

using nlohmann::json;

// Reads a record; any missing member or wrong type is nullopt (a record
// this code did not write).
template <class T, class F>
std::optional<T> decode(std::string_view text, F&& fill) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  try {
    T out;
    fill(j, out);
    return out;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::string encode_destination(const Destination& d) {
  json j = {{"kind", d.kind == Destination::Kind::kFile ? "file" : "webhook"},
            {"id_type", d.id_type},
            {"format", format_name(d.format)},
            {"min_size", d.min_size},
            {"max_size", d.max_size},
            {"created", d.created}};
  if (d.kind == Destination::Kind::kFile) {
    j["path"] = d.path;
  } else {
    j["url"] = d.url;
    j["headers"] = d.headers;
    j["timeout_ms"] = d.timeout_ms;
    j["deadline_ms"] = d.deadline_ms;
  }
  return j.dump();
}

std::optional<Destination> decode_destination(std::string_view text) {
  return decode<Destination>(text, [](const json& j, Destination& d) {
    const auto kind = j.at("kind").get<std::string>();
    if (kind != "file" && kind != "webhook") throw json::other_error::create(0, "kind", nullptr);
    d.kind = kind == "file" ? Destination::Kind::kFile : Destination::Kind::kWebhook;
    d.id_type = j.at("id_type").get<std::string>();
    d.format = j.at("format").get<std::string>() == "csv" ? PayloadFormat::kCsv : PayloadFormat::kNdjson;
    d.min_size = j.at("min_size").get<uint64_t>();
    d.max_size = j.at("max_size").get<uint64_t>();
    d.created = j.at("created").get<int64_t>();
    if (d.kind == Destination::Kind::kFile) {
      d.path = j.at("path").get<std::string>();
    } else {
      d.url = j.at("url").get<std::string>();
      d.headers = j.at("headers").get<std::vector<std::pair<std::string, std::string>>>();
      d.timeout_ms = j.at("timeout_ms").get<uint64_t>();
      d.deadline_ms = j.at("deadline_ms").get<uint64_t>();
    }
  });
}

std::string encode_crowd_record(const CrowdRecord& c) {
  json versions = json::array();
  for (const auto& v : c.versions) {
    versions.push_back({{"version", v.version},
                        {"at", v.at},
                        {"size", v.size},
                        {"adds", v.adds},
                        {"removes", v.removes},
                        {"trigger", v.trigger}});
  }
  json destinations = json::object();
  for (const auto& [name, s] : c.destinations) {
    destinations[name] = {{"acknowledged", s.acknowledged}, {"outstanding", s.outstanding}};
  }
  json j = {{"refresh", c.refresh},
            {"holdout_bp", c.holdout_bp},
            {"push_to", c.push_to},
            {"version", c.version},
            {"last_refresh", c.last_refresh},
            {"retry_at", c.retry_at},
            {"last_error", c.last_error},
            {"expired", c.expired},
            {"next_push", c.next_push},
            {"versions", std::move(versions)},
            {"destinations", std::move(destinations)},
            {"pushed_versions", c.pushed_versions}};
  j["expires_at"] = c.expires_at ? json(*c.expires_at) : json(nullptr);
  return j.dump();
}

std::optional<CrowdRecord> decode_crowd_record(std::string_view text) {
  return decode<CrowdRecord>(text, [](const json& j, CrowdRecord& c) {
    c.refresh = j.at("refresh").get<std::string>();
    if (!j.at("expires_at").is_null()) c.expires_at = j.at("expires_at").get<int64_t>();
    c.holdout_bp = j.at("holdout_bp").get<uint32_t>();
    c.push_to = j.at("push_to").get<std::vector<std::string>>();
    c.version = j.at("version").get<uint64_t>();
    c.last_refresh = j.at("last_refresh").get<int64_t>();
    c.retry_at = j.at("retry_at").get<int64_t>();
    c.last_error = j.at("last_error").get<std::string>();
    c.expired = j.at("expired").get<bool>();
    c.next_push = j.at("next_push").get<uint64_t>();
    for (const auto& v : j.at("versions")) {
      c.versions.push_back(VersionEntry{v.at("version").get<uint64_t>(), v.at("at").get<int64_t>(),
                                        v.at("size").get<uint64_t>(), v.at("adds").get<uint64_t>(),
                                        v.at("removes").get<uint64_t>(), v.at("trigger").get<std::string>()});
    }
    for (const auto& [name, s] : j.at("destinations").items()) {
      c.destinations[name] =
          DestinationState{s.at("acknowledged").get<uint64_t>(), s.at("outstanding").get<uint64_t>()};
    }
    c.pushed_versions = j.at("pushed_versions").get<std::vector<uint64_t>>();
  });
}

const char* status_name(PushRecord::Status s) {
  switch (s) {
    case PushRecord::Status::kPending:
      return "pending";
    case PushRecord::Status::kRetrying:
      return "retrying";
    case PushRecord::Status::kDelivered:
      return "delivered";
    case PushRecord::Status::kCancelled:
      return "cancelled";
  }
  return "pending";
}

std::string encode_push_record(const PushRecord& p) {
  const json j = {{"seq", p.seq},
                  {"id", p.id},
                  {"destination", p.destination},
                  {"mode", p.full ? "full" : "delta"},
                  {"version", p.version},
                  {"base_version", p.base_version},
                  {"status", status_name(p.status)},
                  {"attempts", p.attempts},
                  {"failures", p.failures},
                  {"error", p.error},
                  {"created", p.created},
                  {"finished", p.finished},
                  {"next_attempt", p.next_attempt},
                  {"trigger", p.trigger},
                  {"adds", p.adds},
                  {"removes", p.removes},
                  {"held_out", p.held_out},
                  {"bytes", p.bytes},
                  {"sha256", p.sha256}};
  return j.dump();
}

std::optional<PushRecord> decode_push_record(std::string_view text) {
  return decode<PushRecord>(text, [](const json& j, PushRecord& p) {
    p.seq = j.at("seq").get<uint64_t>();
    p.id = j.at("id").get<std::string>();
    p.destination = j.at("destination").get<std::string>();
    p.full = j.at("mode").get<std::string>() == "full";
    p.version = j.at("version").get<uint64_t>();
    p.base_version = j.at("base_version").get<uint64_t>();
    const auto status = j.at("status").get<std::string>();
    bool known = false;
    for (const auto s : {PushRecord::Status::kPending, PushRecord::Status::kRetrying, PushRecord::Status::kDelivered,
                         PushRecord::Status::kCancelled}) {
      if (status == status_name(s)) {
        p.status = s;
        known = true;
      }
    }
    if (!known) throw json::other_error::create(0, "status", nullptr);
    p.attempts = j.at("attempts").get<unsigned>();
    p.failures = j.at("failures").get<unsigned>();
    p.error = j.at("error").get<std::string>();
    p.created = j.at("created").get<int64_t>();
    p.finished = j.at("finished").get<int64_t>();
    p.next_attempt = j.at("next_attempt").get<int64_t>();
    p.trigger = j.at("trigger").get<std::string>();
    p.adds = j.at("adds").get<uint64_t>();
    p.removes = j.at("removes").get<uint64_t>();
    p.held_out = j.at("held_out").get<uint64_t>();
    p.bytes = j.at("bytes").get<uint64_t>();
    p.sha256 = j.at("sha256").get<std::string>();
  });
}

}  // namespace crowd::activation
