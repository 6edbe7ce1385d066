#include "server/request_json.h"

#include <boost/beast/core/string.hpp>

#include <cctype>
#include <charconv>

#include "index/tag_dictionary.h"

namespace crowd::server {

simdjson::dom::parser& thread_json_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

void shrink_thread_json_parser() {
  auto& parser = thread_json_parser();
  if (parser.capacity() > kKeptJsonParserCapacity) parser = simdjson::dom::parser();
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

std::optional<std::string> field_name_problem(std::string_view field) {
  if (field.find(':') != std::string_view::npos) return std::string("a field name has no ':'");
  if (auto p = tag_problem(field)) return "field: " + *p;
  return std::nullopt;
}

std::optional<std::string> tag_problem(std::string_view tag) {
  if (tag.empty()) return "empty tag";
  if (tag.size() > kMaxTagBytes) return "tag longer than " + std::to_string(kMaxTagBytes) + " bytes";
  // Names starting with a control byte are reserved for the index's own
  // bitmaps (index/system_view.h).
  if (reserved_tag_name(tag)) return "tag starts with a control character";
  return std::nullopt;
}

std::optional<std::string> attribute_problem(std::string_view name) {
  if (name.empty()) return "empty attribute name";
  if (name.size() > 128) return "attribute name longer than 128 bytes";
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!letter(name.front())) return "attribute name must start with a letter or '_'";
  for (const char c : name) {
    if (!letter(c) && !(c >= '0' && c <= '9') && c != '.' && c != '-') {
      return "attribute name may hold only ASCII letters, digits, '_', '.' and '-'";
    }
  }
  for (const std::string_view keyword : {"and", "or", "not", "all", "between"}) {
    if (boost::beast::iequals(name, keyword)) return "attribute name is a keyword of the query language";
  }
  return std::nullopt;
}

std::string media_type(std::string_view content_type) {
  auto type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  std::string out(type);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace crowd::server
