// Annotation value parsers (see values.h).
#include "controller/translate/values.h"

#include <arpa/inet.h>

#include <cctype>

namespace keel::translate {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitList(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    size_t pos = s.find(sep);
    std::string_view item = Trim(s.substr(0, pos));
    if (!item.empty()) out.push_back(item);
    if (pos == std::string_view::npos) break;
    s.remove_prefix(pos + 1);
  }
  return out;
}

std::optional<bool> ParseBool(std::string_view s) {
  s = Trim(s);
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (s == t) return true;
  }
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (s == f) return false;
  }
  return std::nullopt;
}

std::optional<uint64_t> ParseUint(std::string_view s, uint64_t max) {
  s = Trim(s);
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

std::optional<uint64_t> ParseSize(std::string_view s) {
  s = Trim(s);
  if (s.empty()) return std::nullopt;
  uint64_t mult = 1;
  switch (s.back()) {
    case 'k':
    case 'K':
      mult = 1024;
      break;
    case 'm':
    case 'M':
      mult = 1024 * 1024;
      break;
    case 'g':
    case 'G':
      mult = 1024ull * 1024 * 1024;
      break;
    default:
      break;
  }
  if (mult != 1) s.remove_suffix(1);
  auto v = ParseUint(s, UINT64_MAX / mult);
  if (!v) return std::nullopt;
  return *v * mult;
}

std::optional<uint32_t> ParseSeconds(std::string_view s) {
  s = Trim(s);
  if (s.empty()) return std::nullopt;
  uint64_t mult = 1;
  switch (s.back()) {
    case 's':
      break;
    case 'm':
      mult = 60;
      break;
    case 'h':
      mult = 3600;
      break;
    case 'd':
      mult = 86400;
      break;
    default:
      mult = 0;
  }
  if (mult != 0) {
    s.remove_suffix(1);
  } else {
    mult = 1;
  }
  auto v = ParseUint(s, 0xffffffffull / mult);
  if (!v) return std::nullopt;
  return static_cast<uint32_t>(*v * mult);
}

bool IsIpLiteral(std::string_view s) {
  std::string str(s);
  unsigned char buf[16];
  return inet_pton(AF_INET, str.c_str(), buf) == 1 || inet_pton(AF_INET6, str.c_str(), buf) == 1;
}

std::optional<std::string> ParseCidr(std::string_view s) {
  s = Trim(s);
  std::string_view addr = s;
  std::optional<uint64_t> len;
  size_t slash = s.find('/');
  if (slash != std::string_view::npos) {
    addr = s.substr(0, slash);
    len = ParseUint(s.substr(slash + 1), 128);
    if (!len) return std::nullopt;
  }
  std::string a(addr);
  unsigned char buf[16];
  char text[INET6_ADDRSTRLEN];
  int family = AF_INET;
  uint64_t max_len = 32;
  if (inet_pton(AF_INET, a.c_str(), buf) != 1) {
    if (inet_pton(AF_INET6, a.c_str(), buf) != 1) return std::nullopt;
    family = AF_INET6;
    max_len = 128;
  }
  if (len && *len > max_len) return std::nullopt;
  if (inet_ntop(family, buf, text, sizeof(text)) == nullptr) return std::nullopt;
  return std::string(text) + "/" + std::to_string(len.value_or(max_len));
}

std::optional<RedirectTarget> ParseRedirectUrl(std::string_view s) {
  s = Trim(s);
  RedirectTarget t;
  size_t scheme_end = s.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  t.scheme = Lower(s.substr(0, scheme_end));
  if (t.scheme != "http" && t.scheme != "https") return std::nullopt;
  std::string_view rest = s.substr(scheme_end + 3);
  size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view path = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    auto port = ParseUint(authority.substr(colon + 1), 65535);
    if (!port || *port == 0) return std::nullopt;
    t.port = static_cast<uint32_t>(*port);
    authority = authority.substr(0, colon);
  }
  for (char c : authority) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '[' || c == ']' ||
          c == ':')) {
      return std::nullopt;
    }
  }
  t.host = Lower(authority);
  size_t hash = path.find('#');
  if (hash != std::string_view::npos) path = path.substr(0, hash);
  for (char c : path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
  }
  t.path = path.empty() || path[0] == '?' ? "/" + std::string(path) : std::string(path);
  return t;
}

bool IsHeaderName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace keel::translate
