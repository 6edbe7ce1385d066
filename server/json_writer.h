// JsonWriter: appends JSON text straight into a string.
//
// Responses (ID lists above all) are written into one reserved buffer rather
// than built as a JSON tree: a page of a million IDs is one pass of
// std::to_chars. The writer does not check structure; callers emit commas via
// the helpers below.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "index/ids.h"

namespace crowd::server {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& raw(std::string_view s) {
    out_.append(s);
    return *this;
  }
  JsonWriter& key(std::string_view k) {
    string(k);
    out_.push_back(':');
    return *this;
  }
  JsonWriter& string(std::string_view s);
  JsonWriter& number(uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
  }
  JsonWriter& signed_number(int64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
  }
  JsonWriter& real(double v);
  JsonWriter& boolean(bool v) { return raw(v ? "true" : "false"); }
  JsonWriter& null() { return raw("null"); }
  // A user ID: a JSON number up to 2^53 (exact in every JSON reader), a
  // decimal string above it (CONTRACT §1).
  JsonWriter& user_id(UserId id);

 private:
  std::string& out_;
};

inline constexpr UserId kMaxJsonNumberId = UserId{1} << 53;

}  // namespace crowd::server
