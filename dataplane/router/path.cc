// NormalizePath, NormalizeHost and host-name validation.
#include "dataplane/router/path.h"

#include <cstring>

namespace keel::router {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// RFC 3986 §5.2.4 on buf[0, n), in place (the output never overtakes the input: each
// segment is written at or before where it was read). Returns the new length.
size_t RemoveDotSegments(char* buf, size_t n, bool merge_slashes) {
  size_t w = 0;  // output is buf[0, w): "/seg/seg..."
  size_t r = 1;  // past the leading '/'
  while (true) {
    size_t end = r;
    while (end < n && buf[end] != '/') ++end;
    const size_t len = end - r;
    const bool last = end >= n;
    if (len == 1 && buf[r] == '.') {
      if (last) buf[w++] = '/';
    } else if (len == 2 && buf[r] == '.' && buf[r + 1] == '.') {
      while (w > 0 && buf[w - 1] != '/') --w;  // drop the last segment...
      if (w > 0) --w;                          // ...and the '/' before it
      if (last) buf[w++] = '/';
    } else if (len == 0 && merge_slashes && !last) {
      // "//": skip the empty segment
    } else {
      buf[w++] = '/';
      std::memmove(buf + w, buf + r, len);
      w += len;
    }
    if (last) break;
    r = end + 1;
  }
  if (w == 0) buf[w++] = '/';
  return w;
}

}  // namespace

Status NormalizePath(std::string_view target, std::string* out, NormalizeOptions options) {
  const size_t q = target.find('?');
  const std::string_view path = q == std::string_view::npos ? target : target.substr(0, q);
  if (path.empty() || path[0] != '/') return Error{"request path must start with '/'"};
  out->resize(path.size());  // decoding only shrinks
  char* buf = out->data();
  size_t n = 0;
  for (size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c != '%') {
      buf[n++] = c;
      continue;
    }
    if (i + 2 >= path.size()) return Error{"truncated percent-encoding in path"};
    const int hi = HexValue(path[i + 1]), lo = HexValue(path[i + 2]);
    if (hi < 0 || lo < 0) return Error{"malformed percent-encoding in path"};
    const auto decoded = static_cast<unsigned char>(hi * 16 + lo);
    if (Unreserved(decoded)) {
      buf[n++] = static_cast<char>(decoded);
    } else {
      static constexpr char kUpper[] = "0123456789ABCDEF";
      buf[n++] = '%';
      buf[n++] = kUpper[hi];
      buf[n++] = kUpper[lo];
    }
    i += 2;
  }
  n = RemoveDotSegments(buf, n, options.merge_slashes);
  out->resize(n);
  if (q != std::string_view::npos) out->append(target.substr(q));
  return Status::Ok();
}

bool NormalizeHost(std::string_view host, char (&buf)[kMaxHost], std::string_view* out) {
  if (!host.empty() && host[0] == '[') {
    const size_t close = host.find(']');
    if (close != std::string_view::npos) host = host.substr(0, close + 1);
  } else {
    const size_t colon = host.find(':');
    if (colon != std::string_view::npos) host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.size() > kMaxHost) return false;
  for (size_t i = 0; i < host.size(); ++i) {
    const char c = host[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  *out = std::string_view(buf, host.size());
  return true;
}

bool ValidVirtualHostName(std::string_view name, std::string* why) {
  std::string_view rest = name;
  if (rest.size() >= 2 && rest[0] == '*' && rest[1] == '.') rest.remove_prefix(2);
  if (rest.empty()) {
    *why = "empty host name";
    return false;
  }
  if (rest.size() > 253) {
    *why = "host name longer than 253 characters";
    return false;
  }
  size_t label = 0;
  for (size_t i = 0; i <= rest.size(); ++i) {
    if (i == rest.size() || rest[i] == '.') {
      if (label == 0) {
        *why = "empty label in host name";
        return false;
      }
      if (label > 63) {
        *why = "label longer than 63 characters";
        return false;
      }
      if (rest[i - 1] == '-' || rest[i - label] == '-') {
        *why = "label starts or ends with '-'";
        return false;
      }
      label = 0;
      continue;
    }
    const char c = rest[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      *why = std::string("invalid character '") + c + "' (host names are lower-case a-z, 0-9, '-', '.')";
      return false;
    }
    ++label;
  }
  return true;
}

}  // namespace keel::router
