#include "identity/normalize.h"

#include <algorithm>

namespace crowd::identity {
namespace {

constexpr std::size_t kMinPhoneDigits = 8;
constexpr std::size_t kMaxPhoneDigits = 15;  // E.164
// A national number longer than this already carries its country code: the
// longest national numbers of mainland China (mobiles, landlines with their
// area code) are 11 digits.
constexpr std::size_t kMaxNationalDigits = 11;

bool digit(char c) { return c >= '0' && c <= '9'; }

bool phone_separator(char c) { return c == ' ' || c == '\t' || c == '-' || c == '.' || c == '(' || c == ')'; }

bool ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

bool control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }

// The offending character, named without quoting anything but printable
// ASCII (a reason must stay one readable line of text).
void describe(char c, std::string& out) {
  const auto b = static_cast<unsigned char>(c);
  if (b > 0x20 && b < 0x7F) {
    out += '\'';
    out += c;
    out += '\'';
  } else if (b >= 0x80) {
    out += "a non-ASCII character";
  } else {
    out += "a control character";
  }
}

}  // namespace

bool normalize_phone_into(std::string_view raw, std::string_view default_cc, std::string& out, std::string& why) {
  out.clear();
  bool international = false;  // a '+' came first
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (digit(c)) {
      out += c;
    } else if (c == '(' && raw.substr(i, 3) == "(0)") {
      i += 2;
    } else if (phone_separator(c)) {
      continue;
    } else if (c == '+' && out.empty() && !international) {
      international = true;
    } else {
      why = "not a phone number: contains ";
      describe(c, why);
      return false;
    }
  }
  if (!international && out.starts_with("00")) {
    international = true;
    out.erase(0, 2);
  }
  if (international) {
    if (out.starts_with('0')) {
      why = "not a phone number: a country code cannot start with 0";
      return false;
    }
  } else {
    out.erase(0, std::min(out.find_first_not_of('0'), out.size()));
    if (!out.empty() && !out.starts_with(default_cc) && out.size() <= kMaxNationalDigits) {
      out.insert(0, default_cc);
    }
  }
  if (out.empty()) {
    why = "phone normalises to nothing";
    return false;
  }
  if (out.size() < kMinPhoneDigits || out.size() > kMaxPhoneDigits) {
    why = "phone normalises to " + std::to_string(out.size()) + " digits; 8 to 15 expected";
    return false;
  }
  return true;
}

bool normalize_email_into(std::string_view raw, std::string& out, std::string& why) {
  while (!raw.empty() && ascii_space(raw.front())) raw.remove_prefix(1);
  while (!raw.empty() && ascii_space(raw.back())) raw.remove_suffix(1);
  if (raw.empty()) {
    why = "email is empty";
    return false;
  }
  out.assign(raw);
  std::size_t at = std::string::npos;
  for (std::size_t i = 0; i < out.size(); ++i) {
    char& c = out[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    } else if (c == '@') {
      if (at != std::string::npos) {
        why = "not an email: more than one '@'";
        return false;
      }
      at = i;
    } else if (ascii_space(c)) {
      why = "not an email: contains whitespace";
      return false;
    } else if (control(c)) {
      why = "not an email: contains a control character";
      return false;
    }
  }
  if (at == std::string::npos) {
    why = "not an email: no '@'";
    return false;
  }
  if (at == 0 || at + 1 == out.size()) {
    why = "not an email: nothing before or after '@'";
    return false;
  }
  return true;
}

std::optional<std::string> normalize_phone(std::string_view raw, std::string_view default_cc, std::string& why) {
  std::string out;
  if (!normalize_phone_into(raw, default_cc, out, why)) return std::nullopt;
  return out;
}

std::optional<std::string> normalize_email(std::string_view raw, std::string& why) {
  std::string out;
  if (!normalize_email_into(raw, out, why)) return std::nullopt;
  return out;
}

}  // namespace crowd::identity
