#include "server/json_fields.h"

#include "query/date.h"
#include "server/request_json.h"

namespace crowd::server {
namespace {

std::string quoted(std::string_view name) {
  std::string out("\"");
  out.append(name).push_back('"');
  return out;
}

std::string expected_names(std::span<const JsonField> fields) {
  std::string out;
  for (const auto& f : fields) {
    if (!out.empty()) out += ", ";
    out += f.name;
  }
  return out;
}

}  // namespace

std::optional<ApiError> read_fields(simdjson::dom::object object, std::span<const JsonField> fields) {
  // Fields are few (<= 8): a bit per field and linear scans beat hashing.
  uint64_t seen = 0;
  for (const auto member : object) {
    std::size_t i = 0;
    while (i < fields.size() && fields[i].name != member.key) ++i;
    if (i == fields.size()) {
      return bad_request("unknown field " + quoted(member.key) + " (expected " + expected_names(fields) + ")");
    }
    if (auto e = fields[i].read(fields[i].name, member.value)) return e;
    seen |= uint64_t{1} << i;
  }
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].presence == kRequired && (seen & (uint64_t{1} << i)) == 0) {
      return bad_request("missing " + quoted(fields[i].name));
    }
  }
  return std::nullopt;
}

std::optional<ApiError> read_body_fields(std::string_view body, std::span<const JsonField> fields) {
  auto parsed = parse_json_object(body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return std::move(*e);
  return read_fields(std::get<simdjson::dom::object>(parsed), fields);
}

ApiError field_must_be(std::string_view name, std::string_view what) {
  std::string message = quoted(name);
  message += " must be ";
  message += what;
  return bad_request(std::move(message));
}

FieldReader string_into(std::string& out) {
  return [&out](std::string_view name, simdjson::dom::element v) -> std::optional<ApiError> {
    std::string_view s;
    if (v.get(s)) return bad_request(quoted(name) + " must be a string");
    out = s;
    return std::nullopt;
  };
}

FieldReader nullable_string_into(std::string& out) {
  return [&out](std::string_view name, simdjson::dom::element v) -> std::optional<ApiError> {
    if (v.is_null()) return std::nullopt;
    std::string_view s;
    if (v.get(s)) return bad_request(quoted(name) + " must be a string or null");
    out = s;
    return std::nullopt;
  };
}

FieldReader day_into(std::optional<int64_t>& out) {
  return [&out](std::string_view name, simdjson::dom::element v) -> std::optional<ApiError> {
    std::string_view s;
    const auto day = v.get(s) ? std::nullopt : query::parse_day(s);
    if (!day) return bad_request(quoted(name) + " must be a date YYYY-MM-DD");
    out = *day;
    return std::nullopt;
  };
}

FieldReader bool_into(bool& out) {
  return [&out](std::string_view name, simdjson::dom::element v) -> std::optional<ApiError> {
    if (v.get(out)) return bad_request(quoted(name) + " must be true or false");
    return std::nullopt;
  };
}

FieldReader uint_into(uint64_t& out, uint64_t min, uint64_t max) {
  return [&out, min, max](std::string_view name, simdjson::dom::element v) -> std::optional<ApiError> {
    // simdjson reads 1.0 as a double and -1 as an int64: neither is a uint64.
    uint64_t n = 0;
    if (v.get(n) || n < min || n > max) {
      return bad_request(quoted(name) + " must be an integer in " + std::to_string(min) + ".." + std::to_string(max));
    }
    out = n;
    return std::nullopt;
  };
}

FieldReader strings_into(std::vector<std::string>& out, std::size_t max) {
  return [&out, max](std::string_view name, simdjson::dom::element v) -> std::optional<ApiError> {
    simdjson::dom::array list;
    if (v.get(list)) return bad_request(quoted(name) + " must be an array of strings");
    out.clear();
    for (const auto item : list) {
      std::string_view s;
      if (item.get(s) || s.empty()) return bad_request(quoted(name) + " must hold non-empty strings");
      if (out.size() == max) return bad_request(quoted(name) + " holds more than " + std::to_string(max) + " names");
      out.emplace_back(s);
    }
    return std::nullopt;
  };
}

}  // namespace crowd::server
