#include "server/crowd_settings.h"

#include <cmath>

#include "activation/holdout.h"
#include "activation/schedule.h"

namespace crowd::server {
namespace {

constexpr std::size_t kMaxPushTo = 16;

FieldReader nullable_into(std::optional<std::optional<std::string>>& out) {
  return [&out](std::string_view name, simdjson::dom::element v) -> std::optional<ApiError> {
    if (v.is_null()) {
      out.emplace(std::nullopt);
      return std::nullopt;
    }
    std::string_view s;
    if (v.get(s)) return field_must_be(name, "a string or null");
    out.emplace(std::string(s));
    return std::nullopt;
  };
}

}  // namespace

void append_settings_fields(std::vector<JsonField>& fields, CrowdSettingsFields& out) {
  fields.push_back({"refresh", kOptional, nullable_into(out.refresh)});
  fields.push_back({"expires_at", kOptional, nullable_into(out.expires_at)});
  fields.push_back(
      {"ttl", kOptional, [&out](std::string_view name, simdjson::dom::element v) -> std::optional<ApiError> {
         std::string_view s;
         if (v.get(s)) return field_must_be(name, "a string such as \"30d\"");
         out.ttl = std::string(s);
         return std::nullopt;
       }});
  fields.push_back(
      {"holdout", kOptional, [&out](std::string_view name, simdjson::dom::element v) -> std::optional<ApiError> {
         double d = 0;
         int64_t i = 0;
         uint64_t u = 0;
         if (!v.get(d)) {
           out.holdout = d;
         } else if (!v.get(i)) {
           out.holdout = static_cast<double>(i);
         } else if (!v.get(u)) {
           out.holdout = static_cast<double>(u);
         } else {
           return field_must_be(name, "a number (a percentage)");
         }
         return std::nullopt;
       }});
  fields.push_back(
      {"push_to", kOptional, [&out](std::string_view name, simdjson::dom::element v) -> std::optional<ApiError> {
         std::vector<std::string> names;
         if (auto e = strings_into(names, kMaxPushTo)(name, v)) return e;
         out.push_to = std::move(names);
         return std::nullopt;
       }});
}

std::variant<activation::CrowdSettings, ApiError> crowd_settings(const CrowdSettingsFields& in, int64_t now) {
  activation::CrowdSettings s;
  if (in.refresh) {
    if (*in.refresh && !in.refresh->value().empty()) {
      const auto parsed = activation::parse_schedule(**in.refresh);
      if (const auto* e = std::get_if<std::string>(&parsed)) return bad_request("refresh: " + *e);
      s.refresh = **in.refresh;
    } else {
      s.refresh = std::string();
    }
  }
  if (in.expires_at && in.ttl) return bad_request("give expires_at or ttl, not both");
  if (in.expires_at) {
    if (!*in.expires_at) {
      s.expires_at.emplace(std::nullopt);
    } else {
      const auto t = activation::parse_utc_time(**in.expires_at);
      if (!t) return bad_request("expires_at: an ISO 8601 UTC time such as \"2026-11-12T00:00:00Z\" or a date");
      s.expires_at.emplace(*t);
    }
  }
  if (in.ttl) {
    const auto d = activation::parse_duration_seconds(*in.ttl);
    if (const auto* e = std::get_if<std::string>(&d)) return bad_request("ttl: " + *e);
    s.expires_at.emplace(now + std::get<int64_t>(d));
  }
  if (in.holdout) {
    const double bp = std::round(*in.holdout * 100.0);
    if (!std::isfinite(*in.holdout) || bp < 0 || bp > activation::kMaxHoldoutBasisPoints) {
      return bad_request("holdout: a percentage from 0 to 50");
    }
    s.holdout_bp = static_cast<uint32_t>(bp);
  }
  if (in.push_to) s.push_to = *in.push_to;
  return s;
}

}  // namespace crowd::server
