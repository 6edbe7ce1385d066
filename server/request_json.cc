#include "server/request_json.h"

#include <charconv>

namespace crowd::server {

simdjson::dom::parser& thread_json_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

std::variant<simdjson::dom::object, ApiError> parse_json_object(std::string_view body) {
  simdjson::dom::element root;
  if (const auto err = thread_json_parser().parse(body.data(), body.size(), true).get(root)) {
    return bad_request(std::string("body is not valid JSON: ") + simdjson::error_message(err));
  }
  simdjson::dom::object obj;
  if (root.get(obj)) return bad_request("body must be a JSON object");
  return obj;
}

std::optional<UserId> parse_decimal_id(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  UserId v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<UserId> json_user_id(simdjson::dom::element value) {
  switch (value.type()) {
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64: {
      uint64_t v = 0;
      if (value.get_uint64().get(v)) return std::nullopt;  // negative
      return v;
    }
    case simdjson::dom::element_type::STRING: {
      std::string_view s;
      if (value.get_string().get(s)) return std::nullopt;
      return parse_decimal_id(s);
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::string> tag_problem(std::string_view tag) {
  if (tag.empty()) return "empty tag";
  if (tag.size() > kMaxTagBytes) return "tag longer than " + std::to_string(kMaxTagBytes) + " bytes";
  return std::nullopt;
}

}  // namespace crowd::server
