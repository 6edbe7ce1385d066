#include "server/json_writer.h"

#include <cmath>
#include <cstdio>

namespace crowd::server {

JsonWriter& JsonWriter::string(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out_.push_back('"');
  std::size_t run = 0;  // start of the current run of bytes needing no escape
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out_.append(s.substr(run, i - run));
    run = i + 1;
    switch (c) {
      case '"': out_.append("\\\""); break;
      case '\\': out_.append("\\\\"); break;
      case '\n': out_.append("\\n"); break;
      case '\r': out_.append("\\r"); break;
      case '\t': out_.append("\\t"); break;
      default: {
        const char esc[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out_.append(esc, sizeof esc);
      }
    }
  }
  out_.append(s.substr(run));
  out_.push_back('"');
  return *this;
}

JsonWriter& JsonWriter::real(double v) {
  if (!std::isfinite(v)) return null();
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
  return *this;
}

JsonWriter& JsonWriter::user_id(UserId id) {
  if (id <= kMaxJsonNumberId) return number(id);
  out_.push_back('"');
  number(id);
  out_.push_back('"');
  return *this;
}

}  // namespace crowd::server
