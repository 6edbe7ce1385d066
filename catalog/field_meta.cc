#include "catalog/field_meta.h"

#include <nlohmann/json.hpp>

namespace crowd::catalog {
namespace {

using json = nlohmann::json;

// Text a label, description or name may hold: valid UTF-8 (nlohmann checks
// it when parsing) without control bytes.
bool printable(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

std::string text_problem(const std::string& what, std::string_view s, std::size_t max) {
  if (s.size() > max) return what + " is " + std::to_string(s.size()) + " bytes; at most " + std::to_string(max);
  if (!printable(s)) return what + " holds a control character";
  return "";
}

// A string member into `out`, or the problem.
std::string read_text(const json& j, const std::string& what, std::size_t max, std::string& out) {
  if (!j.is_string()) return what + " must be a string";
  out = j.get<std::string>();
  return text_problem(what, out, max);
}

std::string read_value(const std::string& name, const json& j, ValueMeta& out) {
  const std::string what = "values[\"" + name + "\"]";
  if (name.empty() || !printable(name) || name.size() > kMaxLabelBytes) return what + ": not a value name";
  if (j.is_string()) return read_text(j, what, kMaxLabelBytes, out.label);
  if (!j.is_object()) return what + " must be a label or an object {\"label\", \"parent\"}";
  for (const auto& [key, v] : j.items()) {
    std::string problem;
    if (key == "label") {
      problem = read_text(v, what + ".label", kMaxLabelBytes, out.label);
    } else if (key == "parent") {
      problem = read_text(v, what + ".parent", kMaxLabelBytes, out.parent);
    } else {
      problem = what + ": unknown member \"" + key + "\"";
    }
    if (!problem.empty()) return problem;
  }
  return "";
}

}  // namespace

std::variant<FieldMeta, std::string> parse_field_meta(std::string_view text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::string("the body is not valid JSON (UTF-8)");
  if (!j.is_object()) return std::string("the body must be a JSON object");
  FieldMeta meta;
  for (const auto& [key, v] : j.items()) {
    std::string problem;
    if (key == "label") {
      problem = read_text(v, "label", kMaxLabelBytes, meta.label);
    } else if (key == "description") {
      problem = read_text(v, "description", kMaxDescriptionBytes, meta.description);
    } else if (key == "parent") {
      problem = read_text(v, "parent", kMaxLabelBytes, meta.parent);
    } else if (key == "kind") {
      if (v == "exclusive") {
        meta.kind = FieldKind::kExclusive;
      } else if (v != "multi") {
        problem = "kind must be \"exclusive\" or \"multi\"";
      }
    } else if (key == "values") {
      if (!v.is_object()) {
        problem = "values must be an object of value -> label";
      } else if (v.size() > kMaxValues) {
        problem = "values: at most " + std::to_string(kMaxValues);
      } else {
        for (const auto& [name, value] : v.items()) {
          problem = read_value(name, value, meta.values[name]);
          if (!problem.empty()) break;
        }
      }
    } else {
      problem = "unknown member \"" + key + "\"";
    }
    if (!problem.empty()) return problem;
  }
  return meta;
}

std::string to_json(const FieldMeta& meta) {
  json j = json::object();
  if (!meta.label.empty()) j["label"] = meta.label;
  if (!meta.description.empty()) j["description"] = meta.description;
  j["kind"] = kind_name(meta.kind);
  if (!meta.parent.empty()) j["parent"] = meta.parent;
  if (!meta.values.empty()) {
    json values = json::object();
    for (const auto& [name, v] : meta.values) {
      json one = json::object();
      if (!v.label.empty()) one["label"] = v.label;
      if (!v.parent.empty()) one["parent"] = v.parent;
      values[name] = std::move(one);
    }
    j["values"] = std::move(values);
  }
  return j.dump();
}

std::string_view kind_name(FieldKind kind) { return kind == FieldKind::kExclusive ? "exclusive" : "multi"; }

}  // namespace crowd::catalog
